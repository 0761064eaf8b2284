"""In-app notifications. Every event that concerns a member goes through
``notify`` or ``notify_many``; once the transaction commits, the new rows are
handed to the email delivery (``consult/notification_delivery``), which follows
each member's preference: an email each, a daily or weekly digest, or none."""

from dataclasses import dataclass

from sqlalchemy import Select, and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ..database import utcnow
from ..extensions import db
from .models import Notification, NotificationWatch

KINDS = (
    "amendment_status",
    "amendment_submitted",
    "amendment_supported",
    "cosponsor_invited",
    "comment_reply",
    "followed_comment",
    "mention",
    "phase_opened",
    "phase_closing",
    "phase_closed",
    "poll_opened",
    "poll_closing",
    "poll_result",
    "proxy_received",
    "plan_approved",
    "draft_ready",
    "amendment_rebased",
)

# The notifications a transaction wrote, kept on its session until it commits;
# the email delivery (``notification_delivery.emails``), above the features
# that notify, takes them after the commit (and drops them on a rollback).
PENDING_EMAILS = "consult_notifications_to_email"


def email_after_commit(session: Session, notifications) -> None:
    """Email these notifications (rows or ids) once ``session`` commits."""
    session.info.setdefault(PENDING_EMAILS, []).extend(notifications)


def notify(user_id: int, kind: str, obj, *, forum=None, actor=None, **data) -> Notification | None:
    """Record a notification for ``user_id`` about ``obj`` (never to the actor themself)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and getattr(actor, "id", None) == user_id:
        return None
    notification = Notification(
        user_id=user_id,
        forum_id=getattr(forum, "id", None),
        kind=kind,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        actor_id=getattr(actor, "id", None),
        data=data,
    )
    db.session.add(notification)
    email_after_commit(db.session, [notification])
    return notification


def notify_many(user_ids, kind: str, obj, *, forum=None, actor=None, **data) -> int:
    """The same notification for many members in one statement (a phase that
    opens for a forum of thousands must not add thousands of ORM objects).

    ``user_ids``: the ids, or a SELECT of them (one column), which is then
    written with INSERT … SELECT without the ids passing through Python: one
    statement whatever the number of members."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    actor_id = getattr(actor, "id", None)
    if isinstance(user_ids, Select):
        return _notify_selected(user_ids, kind, obj, forum=forum, actor_id=actor_id, data=data)
    rows = [
        {
            "user_id": user_id,
            "forum_id": getattr(forum, "id", None),
            "kind": kind,
            "object_type": type(obj).__name__,
            "object_id": getattr(obj, "id", None),
            "actor_id": actor_id,
            "data": data,
            "created_at": utcnow(),
        }
        for user_id in set(user_ids)
        if user_id != actor_id
    ]
    if rows:
        ids = db.session.scalars(insert(Notification).returning(Notification.id), rows).all()
        email_after_commit(db.session, ids)
    return len(rows)


def _notify_selected(selected: Select, kind: str, obj, *, forum, actor_id, data) -> int:
    members = selected.distinct().subquery()
    user_id = members.c[0]
    table = Notification.__table__
    values = {
        "forum_id": literal(getattr(forum, "id", None), table.c.forum_id.type),
        "kind": literal(kind, table.c.kind.type),
        "object_type": literal(type(obj).__name__, table.c.object_type.type),
        "object_id": literal(getattr(obj, "id", None), table.c.object_id.type),
        "actor_id": literal(actor_id, table.c.actor_id.type),
        "data": literal(data, table.c.data.type),
        "created_at": literal(utcnow(), table.c.created_at.type),
    }
    rows = select(user_id, *values.values())
    if actor_id is not None:
        rows = rows.where(user_id != actor_id)
    ids = db.session.scalars(
        insert(Notification)
        .from_select(["user_id", *values], rows)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).all()
    if ids:
        email_after_commit(db.session, ids)
    return len(ids)


def notify_followers(comment, *, forum, actor=None, skip=(), **data) -> int:
    """A new comment, to the members who follow its thread or the amendment it
    is on (``NotificationWatch``), but those told already (``skip``): one
    INSERT … SELECT whatever their number."""
    watch = NotificationWatch
    on = [and_(watch.target_type == "thread", watch.target_id == (comment.root_id or comment.id))]
    if comment.target_type == "amendment" and str(comment.target_key).isdigit():
        on.append(
            and_(watch.target_type == "amendment", watch.target_id == int(comment.target_key))
        )
    followers = select(watch.user_id).where(watch.state == "follow", or_(*on))
    if skip:
        followers = followers.where(watch.user_id.not_in(set(skip)))
    return notify_many(followers, "followed_comment", comment, forum=forum, actor=actor, **data)


def notify_each(notifications: list[tuple]) -> int:
    """Different notifications in one statement: ``(user_id, kind, obj, forum,
    data)`` each, from no actor (a job's doing, such as a consolidation that
    carries amendments over)."""
    rows = []
    for user_id, kind, obj, forum, data in notifications:
        if kind not in KINDS:
            raise ValueError(f"unknown notification kind {kind!r}")
        rows.append(
            {
                "user_id": user_id,
                "forum_id": getattr(forum, "id", None),
                "kind": kind,
                "object_type": type(obj).__name__,
                "object_id": getattr(obj, "id", None),
                "actor_id": None,
                "data": data,
                "created_at": utcnow(),
            }
        )
    if rows:
        ids = db.session.scalars(insert(Notification).returning(Notification.id), rows).all()
        email_after_commit(db.session, ids)
    return len(rows)


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def mark_read(user, notification_ids: list[int] | None = None) -> None:
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(notification_ids))
    db.session.execute(statement.values(read_at=utcnow()))


@dataclass
class NotificationPage:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def for_user(user, *, page: int = 1, per_page: int = 30) -> NotificationPage:
    """One page of a member's notifications, newest first, with their actors and
    forums loaded in the same query."""
    total = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.user_id == user.id)
    )
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        select(Notification)
        .options(joinedload(Notification.actor), joinedload(Notification.forum))
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return NotificationPage(list(items), page, per_page, total)
