"""The session's live channel ``assembly:<id>``: what changed, for the pages
that follow it (they re-read their regions; events carry no private data)."""

from .. import live
from ..extensions import db
from .models import AssemblySession
from .permissions import view_refusal

PREFIX = "assembly"


def channel(session: AssemblySession) -> str:
    return f"{PREFIX}:{session.id}"


def publish(session: AssemblySession, kind: str, **data) -> None:
    """Sent once the current transaction commits (dropped if it rolls back)."""
    live.publish(channel(session), kind, {"session": session.id, **data})


def may_follow(user, key: str) -> bool:
    """Whoever may read the session's forum may follow its channel."""
    known = key.isascii() and key.isdigit() and len(key) < 10
    session = db.session.get(AssemblySession, int(key)) if known else None
    return session is not None and view_refusal(user, session) is None


def register() -> None:
    live.register_channel(PREFIX, may_follow)
