"""What Consult keeps about a member, for them to read and download.

Only their own rows: their profile, memberships, amendments, comments,
supports and notifications. Never ballots: a ballot names nobody, so no
ballot can be told to be theirs (see consult/votes/models.py).
Each part is one query, whatever the member wrote.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..amendments.models import Amendment, AmendmentSupport, identifier_of
from ..comments.models import Comment
from ..extensions import db
from ..forums.models import Forum, Membership, WorkingGroup, WorkingGroupMember
from ..notification_delivery.wording import describe
from ..notifications.models import Notification
from ..plans.models import Plan


@dataclass
class MyData:
    profile: dict
    memberships: list[dict] = field(default_factory=list)
    amendments: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    supports: list[dict] = field(default_factory=list)
    notifications: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        def plain(value):
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            if isinstance(value, list):
                return [plain(item) for item in value]
            return value

        return plain(
            {
                "profile": self.profile,
                "memberships": self.memberships,
                "amendments": self.amendments,
                "comments": self.comments,
                "supports": self.supports,
                "notifications": self.notifications,
            }
        )


def _profile(user: User) -> dict:
    return {
        "name": user.display_name,
        "email": user.email,
        "language": user.locale,
        "country": user.country,
        "time_zone": user.timezone,
        "digest_hour": user.digest_hour,
        "email_notifications": user.notification_preference,
        "platform_administrator": user.is_admin,
        "created_at": user.created_at,
        "last_sign_in_at": user.last_sign_in_at,
    }


def _memberships(user: User) -> list[dict]:
    groups: dict[int, list[dict]] = {}
    rows = db.session.execute(
        select(WorkingGroup.forum_id, WorkingGroup.name, WorkingGroupMember.role)
        .join(WorkingGroupMember, WorkingGroupMember.working_group_id == WorkingGroup.id)
        .where(WorkingGroupMember.user_id == user.id)
        .order_by(WorkingGroup.name)
    )
    for forum_id, name, role in rows:
        groups.setdefault(forum_id, []).append({"name": name, "role": role})
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.coalition))
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    )
    return [
        {
            "forum": m.forum.name,
            "forum_slug": m.forum.slug,
            "role": str(m.role),
            "coalition": m.coalition.name if m.coalition else None,
            "delegate": m.is_delegate,
            "translator": m.is_translator,
            "vote_weight": str(m.vote_weight),
            "working_groups": groups.get(m.forum_id, []),
            "since": m.created_at,
        }
        for m in memberships
    ]


def _amendments(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Amendment, Plan.title, Plan.short_name)
        .join(Plan, Plan.id == Amendment.plan_id)
        .where(Amendment.author_id == user.id)
        .order_by(Amendment.created_at, Amendment.id)
    )
    return [
        {
            "plan": title,
            "number": identifier_of(short_name, a.label, a.target_ref),
            "item": a.target_ref,
            "operation": a.operation,
            "status": str(a.status),
            "proposed_text": a.proposed_text,
            "justification": a.justification,
            "created_at": a.created_at,
            "submitted_at": a.submitted_at,
        }
        for a, title, short_name in rows
    ]


def _comments(user: User) -> list[dict]:
    rows = db.session.execute(
        select(Comment, Forum.name)
        .join(Forum, Forum.id == Comment.forum_id)
        .where(Comment.author_id == user.id)
        .order_by(Comment.created_at, Comment.id)
    )
    return [
        {
            "forum": forum_name,
            "on": f"{c.target_type} {c.target_key}",
            "body": c.body,
            "created_at": c.created_at,
            "edited_at": c.edited_at,
            "deleted_at": c.deleted_at,
            "hidden_at": c.hidden_at,
        }
        for c, forum_name in rows
    ]


def _supports(user: User) -> list[dict]:
    rows = db.session.execute(
        select(AmendmentSupport.created_at, Amendment.number, Amendment.target_ref, Plan.title)
        .join(Amendment, Amendment.id == AmendmentSupport.amendment_id)
        .join(Plan, Plan.id == Amendment.plan_id)
        .where(AmendmentSupport.user_id == user.id)
        .order_by(AmendmentSupport.created_at, AmendmentSupport.id)
    )
    return [
        {"plan": title, "amendment": f"E{number}", "item": ref, "supported_at": at}
        for at, number, ref, title in rows
    ]


def _notifications(user: User) -> list[dict]:
    """Each notification as the member reads it, in the current language."""
    rows = db.session.scalars(
        select(Notification)
        .options(joinedload(Notification.actor), joinedload(Notification.forum))
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at, Notification.id)
    )
    return [
        {
            "kind": n.kind,
            "text": describe(n),
            "forum": n.forum.name if n.forum else None,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n in rows
    ]


def my_data(user: User) -> MyData:
    return MyData(
        profile=_profile(user),
        memberships=_memberships(user),
        amendments=_amendments(user),
        comments=_comments(user),
        supports=_supports(user),
        notifications=_notifications(user),
    )
