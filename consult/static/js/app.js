// The little JavaScript there is: everything works without it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset ? form.dataset.confirm : null;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // One submission per click: a double click must not send the form twice.
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  window.setTimeout(() => { delete form.dataset.submitted; }, 4000);
});

// Long texts survive a lost session or a failed request: forms marked
// data-autosave keep a copy of their text fields in this browser until the
// form has been sent successfully (the next page no longer shows the form).
(() => {
  const PENDING = "consult-autosave-pending";
  const pending = window.sessionStorage.getItem(PENDING);
  const errorPage = document.body.dataset.keepDrafts !== undefined;
  if (pending && !errorPage && !document.querySelector(`form[data-autosave="${pending}"]`)) {
    window.localStorage.removeItem(`consult-autosave:${pending}`);
    window.sessionStorage.removeItem(PENDING);
  }
  document.querySelectorAll("form[data-autosave]").forEach((form) => {
    const key = `consult-autosave:${form.dataset.autosave}`;
    const fields = form.querySelectorAll("textarea");
    const saved = JSON.parse(window.localStorage.getItem(key) || "null");
    if (saved) {
      fields.forEach((field) => {
        // Only into an empty field: text the server sent back (a preview, a
        // refused form) is newer than this browser's copy and is kept.
        if (saved[field.name] && !field.value && field.dataset.restored === undefined) {
          field.value = saved[field.name];
          field.dataset.restored = "1";
        }
      });
    }
    form.addEventListener("input", () => {
      const values = {};
      fields.forEach((field) => { values[field.name] = field.value; });
      window.localStorage.setItem(key, JSON.stringify(values));
    });
    form.addEventListener("submit", () => {
      window.sessionStorage.setItem(PENDING, form.dataset.autosave);
    });
  });
})();

// The live word-level difference on the amendment form.
(() => {
  const form = document.querySelector("form.amend-form[data-diff-url]");
  const original = document.getElementById("original-text");
  const output = document.getElementById("live-diff");
  if (!form || !original || !output) return;
  const text = form.querySelector("textarea[name='text']");
  const token = form.querySelector("input[name='csrf_token']");
  if (!text) return;
  let timer = null;
  const refresh = () => {
    const body = new URLSearchParams({ original: original.textContent, proposed: text.value });
    if (token) body.set("csrf_token", token.value);
    fetch(form.dataset.diffUrl, { method: "POST", body, headers: { "X-CSRFToken": token ? token.value : "" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        output.innerHTML = data.html;  // escaped on the server (diff_html)
        output.closest(".live-diff").hidden = false;
      })
      .catch(() => {});
  };
  text.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
  refresh();
})();

// "Load more comments" appends the next page in place; without JavaScript the
// link simply opens that page.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.load-more[data-fragment]");
  if (!link) return;
  const thread = link.closest(".comment-thread");
  const list = thread && thread.querySelector(".comment-list");
  if (!list) return;
  event.preventDefault();
  fetch(link.dataset.fragment, { headers: { Accept: "text/html" } })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((html) => {
      const page = new DOMParser().parseFromString(html, "text/html");
      page.querySelectorAll(".comment-list > li").forEach((item) => list.appendChild(document.importNode(item, true)));
      const nav = thread.querySelector("nav.comment-pages");
      const next = page.querySelector("nav.comment-pages");
      if (nav && next) nav.replaceWith(document.importNode(next, true));
      else if (nav) nav.remove();
    })
    .catch(() => { window.location.href = link.href; });
});

// A background job's page (e.g. a consolidated draft being built) asks for the
// job's status, moves its progress bar, and reloads when the job has ended.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh).
(() => {
  const box = document.querySelector("[data-job-status]");
  if (!box) return;
  const bar = box.querySelector("progress");
  const label = box.querySelector("[data-job-label]");
  const ask = () => {
    fetch(box.dataset.jobStatus, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((status) => {
        if (bar && status.items_total) {
          bar.max = status.items_total;
          bar.value = status.items_done;
        }
        if (label && status.label) label.textContent = status.label;
        if (!status.active) {
          window.location.reload();
          return;
        }
        window.setTimeout(ask, 1500);
      })
      .catch(() => { window.setTimeout(ask, 5000); });
  };
  window.setTimeout(ask, 1000);
})();

// The plan's jump menu (phones and mid-size screens) closes once a section is
// chosen, so it does not cover the text it jumped to.
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest(".plan-jump a") : null;
  const menu = link ? link.closest("details") : null;
  if (menu) menu.open = false;
});

// The header's menu on a phone (a <details>): Escape or a click elsewhere
// closes it; after Escape the focus goes back to its button.
(() => {
  const menu = document.querySelector("details.site-menu");
  if (!menu) return;
  const button = menu.querySelector("summary");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    menu.open = false;
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
})();
