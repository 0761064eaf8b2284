"""Writing comments: posting, replying, editing (keeping earlier versions)
and deleting. Moderation is in ``comments.moderation``, reading threads in
``comments.threads`` and the rules in ``comments.permissions``.

Every operation takes the acting user (``None`` is the system: the CLI, the
demo loader, jobs) and checks what that user may do, so the web pages, the API
and the workers share the same rules.
"""

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..config import LOCALES
from ..database import utcnow
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums.models import Forum
from ..notifications.services import notify, notify_followers
from ..plans.models import Plan
from ..richtext import clean_source
from .mentions import mentioned_users, notification_data, notify_mentions
from .models import ALIGNMENTS, MAX_BODY_LENGTH, MAX_DEPTH, Comment, CommentRevision
from .permissions import (
    delete_refusal,
    edit_refusal,
    post_refusal,
    reply_refusal,
    require,
    write_refusal,
)
from .queries import counts_subquery
from .targets import Target, forum_of, is_author, resolve_target, target_of
from .threads import thread

# Thin aliases, only because consult/amendments (being split by another
# change) still imports them from here: remove once it imports
# comments.queries and comments.threads.
_STILL_IMPORTED_FROM_HERE = (counts_subquery, thread)


def clean_body(body) -> str:
    """The stored form of a comment's Markdown, or InvalidInput with the reason."""
    if not isinstance(body, str):
        body = ""
    if "\x00" in body:
        raise InvalidInput(
            _("The text contains a NUL character, which cannot be saved. Please remove it.")
        )
    body = clean_source(body).strip("\n").rstrip()
    if not body.strip():
        raise InvalidInput(_("Please write your comment."))
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidInput(
            _(
                "A comment can have at most %(max)d characters; this one has %(length)d.",
                max=MAX_BODY_LENGTH,
                length=len(body),
            )
        )
    return body


def _check_alignment(alignment) -> None:
    if alignment not in ALIGNMENTS:
        raise InvalidInput(_("Choose in favour, against or neutral."))


def _place_reply(parent: Comment | None, forum: Forum, target: Target, actor):
    """``(parent_id, root_id, depth)`` of a new comment answering ``parent``."""
    if parent is None:
        return None, None, 0
    if parent.forum_id != forum.id:
        raise NotFound()
    same_target = (parent.target_type, parent.plan_id, parent.target_key) == (
        target.type,
        target.plan_id,
        target.key,
    )
    if not same_target:
        raise InvalidInput(_("A reply must be in the same discussion as its comment."))
    require(reply_refusal(actor, parent, target))
    attach_to = parent
    while attach_to.depth >= MAX_DEPTH:
        attach_to = db.session.get(Comment, attach_to.parent_id)
    return attach_to.id, attach_to.root_id or attach_to.id, attach_to.depth + 1


def _language(language, actor, forum: Forum) -> str:
    if language not in LOCALES:
        language = getattr(actor, "locale", None)
    return language if language in LOCALES else forum.default_locale


def post_comment(
    actor,
    forum: Forum,
    *,
    plan: Plan | None,
    target_type: str,
    target_key: str,
    body: str,
    alignment: str = "neutral",
    parent: Comment | None = None,
    language: str | None = None,
    form_token: str | None = None,
) -> Comment:
    """A new comment, or a reply to ``parent``. With ``form_token``, the same
    form sent twice returns the comment it already made.

    Replies nest at most MAX_DEPTH levels below the top-level comment; a reply
    to a comment at that depth joins it at the same depth, under the same
    parent, and its author is still notified as the one replied to.
    """
    require(write_refusal(actor, forum))
    form_token = (form_token or "")[:64] or None
    if form_token and (earlier := _by_form_token(actor, form_token)) is not None:
        return earlier
    target = resolve_target(actor, forum, plan, target_type, target_key)
    require(post_refusal(actor, target))
    body = clean_body(body)
    _check_alignment(alignment)
    parent_id, root_id, depth = _place_reply(parent, forum, target, actor)
    comment = Comment(
        forum_id=forum.id,
        plan_id=target.plan_id,
        target_type=target.type,
        target_key=target.key,
        parent_id=parent_id,
        root_id=root_id,
        depth=depth,
        author_id=getattr(actor, "id", None),
        body=body,
        alignment=alignment,
        language=_language(language, actor, forum),
        flag_count=0,
        form_token=form_token,
    )
    saved = _insert_once(actor, comment, form_token)
    if saved is not comment:
        return saved
    _notify_new(actor, forum, comment, parent, body)
    return comment


def _insert_once(actor, comment: Comment, form_token: str | None) -> Comment:
    """Insert ``comment``; when the same form was sent twice at once, the
    first one wins and is returned instead."""
    savepoint = db.session.begin_nested()
    db.session.add(comment)
    try:
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        earlier = _by_form_token(actor, form_token) if form_token else None
        if earlier is None:
            raise
        return earlier
    savepoint.commit()
    return comment


def _notify_new(actor, forum: Forum, comment: Comment, replied_to, body: str) -> None:
    notified: set[int] = set()
    if replied_to is not None and replied_to.author_id is not None:
        sent = notify(
            replied_to.author_id,
            "comment_reply",
            comment,
            forum=forum,
            actor=actor,
            replied_to_id=replied_to.id,
            **notification_data(comment),
        )
        if sent is not None:
            notified.add(replied_to.author_id)
    mentioned = mentioned_users(forum, body)
    notify_mentions(actor, forum, comment, mentioned, skip=notified)
    # Those who follow the thread or the amendment, but not twice.
    skip = notified | {user.id for user in mentioned}
    notify_followers(comment, forum=forum, actor=actor, skip=skip, **notification_data(comment))


def _by_form_token(actor, form_token: str) -> Comment | None:
    return db.session.scalar(
        select(Comment).where(
            Comment.author_id == getattr(actor, "id", None), Comment.form_token == form_token
        )
    )


def edit_comment(actor, comment: Comment, body: str, alignment: str | None = None) -> Comment:
    """Change a comment's text (its author only), keeping the previous text."""
    if not is_author(actor, comment):  # before reading the target: a stranger learns nothing
        require(edit_refusal(actor, comment, None))
    require(edit_refusal(actor, comment, target_of(actor, comment)))
    forum = forum_of(comment)
    body = clean_body(body)
    if alignment is not None:
        _check_alignment(alignment)
    if body == comment.body and alignment in (None, comment.alignment):
        return comment
    previous = comment.body
    now = utcnow()
    if body != previous:
        db.session.add(
            CommentRevision(comment_id=comment.id, body=previous, edited_at=now, editor_id=actor.id)
        )
        comment.body = body
    comment.alignment = alignment or comment.alignment
    comment.edited_at = now
    before = {user.id for user in mentioned_users(forum, previous)}
    newly = [user for user in mentioned_users(forum, body) if user.id not in before]
    notify_mentions(actor, forum, comment, newly)
    return comment


def delete_comment(actor, comment: Comment) -> None:
    """The author withdraws a comment: its text and earlier versions are erased,
    a tombstone keeps its place so that the replies still make sense."""
    if comment.is_deleted and is_author(actor, comment):
        return  # already done: the same request twice
    require(delete_refusal(actor, comment))
    db.session.execute(
        CommentRevision.__table__.delete().where(CommentRevision.comment_id == comment.id)
    )
    comment.body = ""
    comment.deleted_at = utcnow()
    record("comment.deleted", comment, actor=actor, forum=forum_of(comment))
