"""Archiving a whole forum instead of deleting it: its pages, plans,
amendments, comments, votes and minutes stay readable where they were (public
where they were public), and nothing in it can be added or changed until an
administrator takes it out of the archive. The one predicate that every write
asks is ``forums.permissions.archived_refusal``."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..assembly.models import AssemblySession, SessionState
from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..forums.models import Forum
from ..forums.permissions import administer_refusal, archived_refusal, require
from ..inputs import clean_text
from ..votes.models import Poll, PollState


def _reason(reason) -> str:
    text = clean_text(reason or "")
    if not text:
        raise InvalidInput(_("Please give a reason: it is kept in the audit log."))
    return text[:500]


def _running(forum: Forum) -> str | None:
    """What must end before the forum can be archived: a vote scheduled or
    open, or an assembly session called or in session."""
    active = tuple(state for state in PollState if state.is_active)
    polls = db.session.scalar(
        select(func.count())
        .select_from(Poll)
        .where(Poll.forum_id == forum.id, Poll.state.in_(active))
    )
    if polls:
        return _("A vote in this forum is scheduled or open: close or cancel it first.")
    sessions = db.session.scalar(
        select(func.count())
        .select_from(AssemblySession)
        .where(
            AssemblySession.forum_id == forum.id,
            AssemblySession.state != SessionState.ADJOURNED,
        )
    )
    if sessions:
        return _("An assembly session of this forum has not been adjourned yet.")
    return None


def archive_forum(actor, forum: Forum, reason: str) -> None:
    """Make the whole forum read-only (its administrators, or a platform administrator)."""
    require(administer_refusal(actor, forum))
    reason = _reason(reason)
    require(archived_refusal(forum))
    if running := _running(forum):
        raise Conflict(running)
    forum.archived_at = utcnow()
    record("forum.archived", forum, actor=actor, forum=forum, reason=reason)


def restore_forum(actor, forum: Forum, reason: str) -> None:
    """Take the forum out of the archive: everything in it can change again
    (plans archived one by one stay archived)."""
    require(administer_refusal(actor, forum))
    reason = _reason(reason)
    if forum.archived_at is None:
        raise Conflict(_("This forum is not archived."))
    forum.archived_at = None
    record("forum.restored", forum, actor=actor, forum=forum, reason=reason)
