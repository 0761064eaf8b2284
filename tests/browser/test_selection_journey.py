"""Selecting words of an item in Spanish, on a laptop and on a phone (issue
14): the toolbar appears beside them, reachable with the keyboard; "Comentar
esto" opens the item's comment form with the quote and its lines, and the
published comment shows the quote; "Enmendar esto" opens the amendment form
with the words highlighted and selected in the text to amend."""

import re

from flask_babel import force_locale
from flask_babel import gettext as _

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"

# Selects from the second word of an item's first line to the second word of
# its second line (an item of two lines or more), as a reader's mouse would,
# and says which words and lines it selected.
SELECT_JS = """
() => {
  const node = [...document.querySelectorAll('.plan-text .node.kind-item')]
    .find((n) => n.querySelectorAll('.node-body .lt').length >= 2);
  const [one, two] = [...node.querySelectorAll('.node-body .lt')].map((lt) => lt.firstChild);
  const start = one.textContent.indexOf(' ') + 1;
  const end = two.textContent.split(' ').slice(0, 2).join(' ').length;
  const range = document.createRange();
  range.setStart(one, start);
  range.setEnd(two, end);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  document.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
  const numbers = [...node.querySelectorAll('.ln')].map((ln) => ln.textContent.trim());
  return {
    words: [one.textContent.slice(start), two.textContent.slice(0, end)]
      .join(' ').replace(/\\s+/g, ' ').trim(),
    first: numbers[0],
    last: numbers[1],
  };
}
"""
TOOLBAR = ".selection-toolbar:not([hidden])"

# On an item's page: two words of its text.
SELECT_ITEM_JS = """
() => {
  const text = document.querySelector('blockquote.item-text').firstChild;
  const words = text.textContent.trim().split(/\\s+/).slice(1, 3).join(' ');
  const start = text.textContent.indexOf(words);
  const range = document.createRange();
  range.setStart(text, start);
  range.setEnd(text, start + words.length);
  window.getSelection().removeAllRanges();
  window.getSelection().addRange(range);
  document.dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));
  return words;
}
"""


def select_words(person) -> dict:
    selected = person.page.evaluate(SELECT_JS)
    person.page.wait_for_selector(TOOLBAR, state="visible")
    return selected


def test_selected_words_lead_to_a_quoted_comment_and_a_highlighted_amendment(journey):
    journey.name = "selection-es"
    with journey.app_context():
        place, forum, _plan, _facilitator = w.forum_with_plan("seleccion", "es")
        reader = w.person(forum, name="Lectora Marta", locale="es")
        w.db.session.commit()
        email = reader.email
        # As the Spanish catalog says them (the strings are new in this change).
        with force_locale("es"):
            label = _("Selected words")
            lines_label = _("(lines %(first)d\u2013%(last)d)", first=1001, last=1002)

    person = journey.person("es", "reader")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        person.go(place.plan_path)
        selected = select_words(person)
        toolbar = page.locator(TOOLBAR)
        assert toolbar.get_attribute("role") == "toolbar"
        assert toolbar.get_attribute("aria-label") == label
        person.check(f"toolbar-{width}")  # axe and the language, with the toolbar shown
        box = toolbar.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
        assert not page.evaluate(SIDEWAYS_JS), f"sideways scroll at {width}"

        # The keyboard: Tab leads into the toolbar, Escape closes it.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.action") == "comment"
        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.dataset.action") == "amend"
        page.keyboard.press("Escape")
        assert page.locator(".selection-toolbar").is_hidden()

        # Comentar esto: the form starts with the quote and its lines.
        select_words(person)
        person.click(f"{TOOLBAR} [data-action='comment']", f"comment-form-{width}")
        body = page.locator("#comment-body-new").input_value()
        assert body.startswith(f"> {selected['words']}\n"), body
        lines = lines_label.replace("1001", selected["first"]).replace("1002", selected["last"])
        assert lines in body
        assert not page.evaluate(SIDEWAYS_JS)
        if width == 1280:
            page.locator("#comment-body-new").press("Control+End")
            page.locator("#comment-body-new").type(" Estoy de acuerdo.")
            person.click("section.comment-new button.primary", "comment-published")
            quoted = page.locator(".comment-list blockquote").first.inner_text()
            assert re.sub(r"\s+", " ", quoted).strip() == selected["words"]

        # Enmendar esto: the words highlighted, and selected in the text to amend.
        person.go(place.plan_path)
        selected = select_words(person)
        person.click(f"{TOOLBAR} [data-action='amend']", f"amend-form-{width}")
        assert page.locator(".selection-preview mark").inner_text() == selected["words"]
        chosen = page.evaluate(
            "() => { const t = document.querySelector('textarea[name=text]');"
            " return t.value.slice(t.selectionStart, t.selectionEnd); }"
        )
        assert chosen == selected["words"]
        assert not page.evaluate(SIDEWAYS_JS), f"sideways scroll on the form at {width}"


def test_words_selected_on_an_item_page_are_quoted_too(journey):
    journey.name = "selection-item-es"
    with journey.app_context():
        place, forum, _plan, _facilitator = w.forum_with_plan("seleccion-punto", "es")
        reader = w.person(forum, name="Lector Tomás", locale="es")
        w.db.session.commit()
        email, key = reader.email, place.items[1]

    person = journey.person("es", "reader")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        person.go(place.item_path(key))
        words = page.evaluate(SELECT_ITEM_JS)
        page.wait_for_selector(TOOLBAR, state="visible")
        person.check(f"item-toolbar-{width}")
        assert not page.evaluate(SIDEWAYS_JS), f"sideways scroll at {width}"
        person.click(f"{TOOLBAR} [data-action='comment']", f"item-comment-form-{width}")
        assert page.locator("#comment-body-new").input_value().startswith(f"> {words}\n")
