"""What an amendment changes, in a few words, for lists of amendments: the
word-level difference with only a little of the unchanged text around each
change, so a list tells its amendments apart without opening them."""

from markupsafe import Markup, escape

from ..diffing import DELETE, EQUAL, INSERT, tokens, word_diff
from .models import AmendmentOperation

# Unchanged words kept on each side of a change.
CONTEXT_WORDS = 6
# Characters of changed text kept from one insertion or deletion.
MAX_CHANGE = 160
# Characters of the whole excerpt, after which it stops.
MAX_EXCERPT = 320
ELLIPSIS = "…"
_MARKED = {INSERT: Markup("<ins>{}</ins>"), DELETE: Markup("<del>{}</del>")}


def _first_words(text: str, count: int) -> str:
    """The first ``count`` words of ``text`` (with the spaces between them)."""
    kept, words = [], 0
    for token in tokens(text):
        if not token.isspace():
            if words == count:
                return "".join(kept).rstrip() + " " + ELLIPSIS
            words += 1
        kept.append(token)
    return "".join(kept)


def _last_words(text: str, count: int) -> str:
    kept, words = [], 0
    for token in reversed(tokens(text)):
        if not token.isspace():
            if words == count:
                return ELLIPSIS + " " + "".join(reversed(kept)).lstrip()
            words += 1
        kept.append(token)
    return "".join(reversed(kept))


def _shortened(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip() + " " + ELLIPSIS


def _context(text: str, *, first: bool, last: bool) -> str:
    """Unchanged text between changes: only its edges near the changes."""
    if first and last:
        return _shortened(text, MAX_CHANGE)
    if first:
        return _last_words(text, CONTEXT_WORDS)
    if last:
        return _first_words(text, CONTEXT_WORDS)
    words = [t for t in tokens(text) if not t.isspace()]
    if len(words) <= 2 * CONTEXT_WORDS:
        return text
    head = _first_words(text, CONTEXT_WORDS).removesuffix(ELLIPSIS)
    return head + ELLIPSIS + _last_words(text, CONTEXT_WORDS).removeprefix(ELLIPSIS)


def diff_excerpt(old: str, new: str) -> Markup:
    """The changes from ``old`` to ``new`` with a few words around each, as
    HTML with <del> and <ins> (everything escaped)."""
    parts = word_diff(old or "", new or "")
    if not any(op != EQUAL for op, _text in parts):
        return escape(_shortened(new or "", MAX_CHANGE))
    html, length = [], 0
    for index, (op, text) in enumerate(parts):
        if length >= MAX_EXCERPT:
            html.append(escape(" " + ELLIPSIS))
            break
        if op == EQUAL:
            piece = _context(text, first=index == 0, last=index == len(parts) - 1)
            html.append(escape(piece))
        else:
            piece = _shortened(text, MAX_CHANGE)
            html.append(_MARKED[op].format(piece))
        length += len(piece)
    return Markup("").join(html)


def change_excerpt(amendment) -> Markup:
    """An amendment's change in a few words: what it replaces and by what,
    what it deletes, or the start of the text it adds."""
    operation = amendment.operation
    if operation == AmendmentOperation.DELETE:
        return _MARKED[DELETE].format(_shortened(amendment.original_text or "", MAX_CHANGE))
    if operation != AmendmentOperation.REPLACE:
        return _MARKED[INSERT].format(_shortened(amendment.proposed_text or "", MAX_CHANGE))
    return diff_excerpt(amendment.original_text, amendment.proposed_text)
