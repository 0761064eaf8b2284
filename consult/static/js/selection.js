// Words selected in an item (issue 14): a small toolbar offers "Comment on
// this" (the item's comment form, starting with the quote and its lines) and
// "Amend this" (the amendment form, the words highlighted). The server
// renders the toolbar, translated, only where the page offers commenting or
// amending (amendments/selection.py); without JavaScript the items' own links
// lead to the same forms. On the amendment form, the words are selected in
// the text to amend.
(() => {
  const MAX_QUOTE = 600; // as amendments/selection.py accepts

  // --- the amendment form: the selected words, selected again ----------------------
  const preview = document.querySelector(".selection-preview[data-select-start]");
  const original = document.getElementById("original-text");
  const field = document.querySelector("form.amend-form textarea[name='text']");
  if (preview && original && field) {
    const start = Number(preview.dataset.selectStart);
    const end = Number(preview.dataset.selectEnd);
    const words = original.textContent.slice(start, end);
    // Only while the text is still the item's own (not after the member's edits).
    if (words && field.value.slice(start, end) === words) {
      field.focus({ preventScroll: true });
      field.setSelectionRange(start, end);
    }
  }

  // --- the toolbar -----------------------------------------------------------------
  const toolbar = document.querySelector(".selection-toolbar");
  if (!toolbar) return;
  const onPlan = toolbar.dataset.scope === "plan";
  const refused = new Set((toolbar.dataset.refused || "").split(" ").filter(Boolean));
  const comment = toolbar.querySelector("[data-action='comment']");
  const amend = toolbar.querySelector("[data-action='amend']");
  const close = toolbar.querySelector("[data-action='close']");
  const items = () => [...toolbar.querySelectorAll("a, button")].filter((el) => !el.hidden);
  document.body.appendChild(toolbar); // placed over the page, beside the words
  let fresh = false; // shown and not yet reached by the keyboard

  const hide = () => {
    toolbar.hidden = true;
    fresh = false;
  };

  // Where a selection lies: one item's text, or nothing to offer.
  const itemOf = (range) => {
    const at = (node) => (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
    const start = at(range.startContainer);
    const end = at(range.endContainer);
    if (!start || !end) return null;
    if (onPlan) {
      const body = start.closest(".plan-text .node-body");
      if (!body || body !== end.closest(".node-body")) return null;
      const node = body.closest(".node");
      const link = node.querySelector(".node-activity a");
      if (!link) return null;
      const lineOf = (el) => {
        const line = el.closest(".line");
        const numbers = line ? (line.querySelector(".ln").textContent.match(/\d+/g) || []) : [];
        return numbers.map(Number);
      };
      const first = lineOf(start)[0];
      const last = lineOf(end).slice(-1)[0];
      const key = (new URL(link.href).pathname.match(/\/items\/([^/]+)\//) || [])[1];
      return {
        url: new URL(link.href),
        lines: first && last ? (first === last ? `${first}` : `${first}-${last}`) : "",
        amendable: !node.classList.contains("kind-section") && !refused.has(key),
        translated: body.classList.contains("translated"),
      };
    }
    const quote = start.closest(".item-text");
    if (!quote || quote !== end.closest(".item-text") || quote.closest(".selection-toolbar")) return null;
    const first = toolbar.dataset.firstLine;
    const last = toolbar.dataset.lastLine;
    const url = new URL(window.location.href);
    url.search = "";
    url.hash = "";
    const lang = new URLSearchParams(window.location.search).get("lang");
    if (lang) url.searchParams.set("lang", lang);
    // A translation is read above the original (in a <details>): the amendment is to the original.
    const translated = Boolean(document.querySelector("details.item-original")) && !quote.closest(".item-original");
    return { url, lines: first === last ? first : `${first}-${last}`, amendable: true, translated };
  };

  // The selected words as the reader reads them: one space between lines,
  // without the line numbers and the "original text" markers.
  const wordsOf = (range) => {
    const copy = range.cloneContents();
    copy.querySelectorAll(".ln, .untranslated").forEach((el) => el.remove());
    copy.querySelectorAll(".line").forEach((el) => el.append(" "));
    let text = copy.textContent.replace(/\s+/g, " ").trim();
    if (text.length > MAX_QUOTE) {
      text = text.slice(0, MAX_QUOTE);
      text = text.slice(0, Math.max(text.lastIndexOf(" "), 1));
    }
    return text;
  };

  const place = (range) => {
    const rect = range.getBoundingClientRect();
    toolbar.hidden = false;
    const width = toolbar.offsetWidth;
    const min = window.scrollX + 8;
    const max = window.scrollX + document.documentElement.clientWidth - width - 8;
    toolbar.style.left = `${Math.max(min, Math.min(rect.left + window.scrollX, max))}px`;
    toolbar.style.top = `${rect.bottom + window.scrollY + 8}px`;
  };

  const update = () => {
    if (toolbar.contains(document.activeElement)) return;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return hide();
    const range = selection.getRangeAt(0);
    const item = itemOf(range);
    const words = item ? wordsOf(range) : "";
    if (!words) return hide();
    let offered = false;
    if (comment) {
      const url = new URL(item.url);
      url.searchParams.set("quote", words);
      if (item.lines) url.searchParams.set("lines", item.lines);
      url.hash = "comment-new-heading";
      comment.href = url.href;
      offered = true;
    }
    if (amend) {
      amend.hidden = !item.amendable;
      if (item.amendable) {
        const url = new URL(item.url);
        url.pathname = url.pathname.replace(/\/?$/, "/amend");
        url.search = "";
        // Words of a translation are not in the text to amend: the form opens without them.
        if (!item.translated) url.searchParams.set("quote", words);
        amend.href = url.href;
        offered = true;
      }
    }
    if (!offered) return hide();
    place(range);
    fresh = true;
  };

  let timer = null;
  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 200);
  };
  ["mouseup", "touchend", "keyup"].forEach((type) =>
    document.addEventListener(type, (event) => {
      if (!toolbar.contains(event.target) && event.key !== "Escape" && event.key !== "Tab") soon();
    }),
  );
  document.addEventListener("selectionchange", () => {
    if (!toolbar.hidden) soon();
  });
  // A click on the toolbar must not lose the selection before the link is followed.
  toolbar.addEventListener("mousedown", (event) => event.preventDefault());
  close.addEventListener("click", () => {
    hide();
    window.getSelection().removeAllRanges();
  });

  document.addEventListener("keydown", (event) => {
    if (toolbar.hidden) return;
    if (event.key === "Escape") {
      const inside = toolbar.contains(document.activeElement);
      hide();
      if (inside) document.getElementById("main").focus({ preventScroll: true });
      return;
    }
    // The first Tab after selecting leads into the toolbar.
    if (event.key === "Tab" && fresh && !toolbar.contains(document.activeElement)) {
      event.preventDefault();
      fresh = false;
      items()[0].focus();
      return;
    }
    // A toolbar: the arrows move between its buttons.
    if (toolbar.contains(document.activeElement) && ["ArrowLeft", "ArrowRight"].includes(event.key)) {
      const list = items();
      const index = list.indexOf(document.activeElement);
      const next = (index + (event.key === "ArrowRight" ? 1 : list.length - 1)) % list.length;
      list[next].focus();
      event.preventDefault();
    }
  });
})();
