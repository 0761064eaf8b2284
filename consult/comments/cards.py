"""What the thread page renders per comment outside the reader's part: the
card kept in memory, and the one-time token of a form that creates."""

import hashlib
import secrets

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

from .. import pagecache
from ..timezones import reader_zone

CARD_TEMPLATE = "comments/_card.html"


def comment_card(entry) -> Markup:
    """The reader-independent part of a comment's card (author, times,
    position, text, earlier versions), kept in this process's memory under
    everything it shows: a 2,000-comment thread renders only what differs
    per reader (what they may do) on each view."""
    c = entry.comment
    history = [
        (r.revision.id, r.revision.edited_at, _digest(r.revision.body)) for r in entry.history
    ]
    key = pagecache.make_key(
        "comment-card",
        pagecache.source_revision(pagecache.template_path(CARD_TEMPLATE)),
        str(get_locale()),
        reader_zone(),
        c.id,
        c.created_at,
        c.edited_at,
        entry.state,
        entry.show_body,
        c.alignment,
        c.language,
        c.author.display_name if c.author else None,
        _digest(c.body) if entry.show_body else None,
        [c.hidden_at, c.hidden_reason, c.hidden_by.display_name if c.hidden_by else None]
        if entry.state.is_hidden and entry.show_body
        else None,
        history,
    )
    macro = current_app.jinja_env.get_template(CARD_TEMPLATE).module.card
    return Markup(pagecache.in_memory(key, lambda: str(macro(entry))))  # noqa: S704


def _digest(text: str | None) -> str:
    return hashlib.sha1((text or "").encode(), usedforsecurity=False).hexdigest()


def new_form_token() -> str:
    """A one-time token for a form that creates something (see post_comment)."""
    return secrets.token_urlsafe(24)
