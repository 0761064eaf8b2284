"""What templates share instead of repeating it (issue 17): inside a forum's
pages ``url_for`` names the forum by itself (consult/urls.py), and a form that
is one POST button is ``post_button`` (templates/_forms.html)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# Templates rendered outside one forum's request, or for another forum than the
# request's: there the slug is named. Any other template is only rendered
# under /forums/<slug>/ for that forum.
NAMES_THE_FORUM = (
    "core/index.html",  # every forum the reader may see
    "emails/",  # rendered by jobs, outside any request
    "plans/_text.html",  # a cached fragment, kept under its forum's key
    "assembly/",  # not gone through yet
)

ONE_BUTTON_FORM = re.compile(
    r"<form\b[^>]*>\s*"
    r'<input type="hidden" name="csrf_token" value="{{ csrf_token\(\) }}">\s*'
    r"<button\b[^>]*>(?:(?!<form\b).)*?</button>\s*</form>",
    re.S,
)


def templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield str(path.relative_to(TEMPLATES)), path.read_text(encoding="utf-8")


def test_forum_pages_leave_the_slug_of_their_own_forum_to_url_for():
    offending = [
        name
        for name, text in templates()
        if "slug=forum.slug" in text and not name.startswith(NAMES_THE_FORUM)
    ]
    assert not offending, (
        "url_for fills in the request's forum; name the slug only where another "
        f"forum is meant (and list the template here if it is): {offending}"
    )


def test_a_form_that_is_one_button_uses_post_button():
    offending = [name for name, text in templates() if ONE_BUTTON_FORM.search(text)]
    assert not offending, f'use post_button from "_forms.html": {offending}'


def test_the_check_finds_a_one_button_form():
    form = """<form method="post" action="/x" class="inline">
      <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
      <button type="submit" class="link">{{ _("Go") }}</button>
    </form>"""
    assert ONE_BUTTON_FORM.search(form)
    with_a_field = form.replace("<button", '<input name="reason">\n<button')
    assert not ONE_BUTTON_FORM.search(with_a_field)
