"""Moderation: members report comments, moderators hide and restore them."""

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..richtext import clean_source
from .models import MAX_REASON_LENGTH, Comment, CommentFlag
from .permissions import flag_refusal, hide_refusal, require, restore_refusal
from .targets import forum_of

MAX_FLAG_REASON_LENGTH = 500


def _clean_reason(reason, *, required: bool, limit: int = MAX_REASON_LENGTH) -> str:
    if isinstance(reason, str) and "\x00" in reason:
        raise InvalidInput(
            _("The text contains a NUL character, which cannot be saved. Please remove it.")
        )
    reason = clean_source(reason if isinstance(reason, str) else "").strip()
    if required and not reason:
        raise InvalidInput(_("Please give a reason."))
    if len(reason) > limit:
        raise InvalidInput(_("The reason can have at most %(max)d characters.", max=limit))
    return reason


def flag_comment(actor, comment: Comment, reason: str = "") -> CommentFlag:
    """A member reports a comment to the moderators (once per member)."""
    require(flag_refusal(actor, comment, forum_of(comment)))
    reason = _clean_reason(reason, required=False, limit=MAX_FLAG_REASON_LENGTH)
    already = db.session.scalar(
        select(CommentFlag.id).where(
            CommentFlag.comment_id == comment.id, CommentFlag.user_id == actor.id
        )
    )
    if already is not None:
        raise Conflict(_("You have already reported this comment."))
    flag = CommentFlag(comment_id=comment.id, user_id=actor.id, reason=reason)
    try:
        with db.session.begin_nested():  # the unique constraint decides a race
            db.session.add(flag)
    except IntegrityError:
        raise Conflict(_("You have already reported this comment.")) from None
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(comment, ["flag_count"])
    return flag


def hide_comment(actor, comment: Comment, reason: str) -> None:
    """Moderators hide a comment, with a reason; it is kept and can be restored."""
    forum = forum_of(comment)
    require(hide_refusal(actor, comment, forum))
    reason = _clean_reason(reason, required=True)
    comment.hidden_at = utcnow()
    comment.hidden_reason = reason
    comment.hidden_by_id = getattr(actor, "id", None)
    record(
        "comment.hidden",
        comment,
        actor=actor,
        forum=forum,
        reason=reason,
        flag_count=comment.flag_count,
    )


def restore_comment(actor, comment: Comment, reason: str = "") -> None:
    """Moderators show a hidden comment again."""
    forum = forum_of(comment)
    require(restore_refusal(actor, comment, forum))
    reason = _clean_reason(reason, required=False)
    previous = comment.hidden_reason
    comment.hidden_at = comment.hidden_reason = comment.hidden_by_id = None
    record(
        "comment.restored", comment, actor=actor, forum=forum, reason=reason, hidden_reason=previous
    )
