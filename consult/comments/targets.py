"""What a comment thread is about: a plan's item, an amendment (or what
other features register), resolved and checked against the forum, and
whether its discussion is open."""

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..consultations.models import Consultation
from ..consultations.permissions import calendar_refusal, discussion_refusal
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums.models import Forum
from ..forums.permissions import can_view
from ..plans.models import Plan, PlanNode, PlanVersion
from .models import TARGET_TYPES, Comment

TARGET_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def is_author(actor, comment: Comment) -> bool:
    user_id = comment.author_id
    return user_id is not None and getattr(actor, "id", None) == user_id


@dataclass
class Target:
    """What a thread is about, resolved and checked against the forum."""

    type: str
    key: str
    forum: Forum
    plan: Plan | None
    title: str = ""
    ref: str = ""
    text: str = ""
    # None when members may comment; otherwise why they may not (translated).
    closed_reason: str | None = None
    # Amendment drafts are readable by their author only.
    readable_by: int | None = None
    obj: object = None

    @property
    def plan_id(self) -> int | None:
        return self.plan.id if self.plan is not None else None


def _closed_plan_reason(plan: Plan) -> str | None:
    """Why the calendar (consultation phase or plan switch) does not allow comments."""
    return calendar_refusal(plan, "comment")


def _node_target(forum: Forum, plan: Plan | None, key: str) -> Target:
    if plan is None or plan.forum_id != forum.id:
        raise NotFound()
    current = db.session.scalar(
        select(PlanNode).where(PlanNode.version_id == plan.current_version_id, PlanNode.key == key)
    )
    node = current or db.session.scalar(
        select(PlanNode)
        .join(PlanVersion, PlanVersion.id == PlanNode.version_id)
        .where(PlanVersion.plan_id == plan.id, PlanNode.key == key)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    )
    if node is None:
        raise NotFound(_("There is no such item in this plan."))
    closed = _closed_plan_reason(plan)
    if closed is None and current is None:
        closed = _("Comments are closed: this item is no longer in the current version.")
    return Target(
        "node",
        key,
        forum,
        plan,
        title=plan.title,
        ref=node.ref,
        text=node.text,
        closed_reason=closed,
        obj=node,
    )


def _consultation_target(forum: Forum, plan: Plan | None, key: str) -> Target:
    """The consultation as a whole (questions about the process, general
    positions): open to comments when its own phases allow comments."""
    valid = key.isascii() and key.isdigit() and len(key) < 10
    consultation = db.session.get(Consultation, int(key)) if valid else None
    if consultation is None or consultation.forum_id != forum.id:
        raise NotFound()
    if plan is not None and consultation.plan_id != plan.id:
        raise NotFound()
    return Target(
        "consultation",
        key,
        forum,
        plan or consultation.plan,
        title=consultation.title,
        ref=consultation.reading_label,
        text=consultation.description,
        closed_reason=discussion_refusal(consultation),
        obj=consultation,
    )


# Other features add theirs with ``register_target`` (the amendments theirs,
# when the app is made: consult/app.py).
_RESOLVERS: dict[str, Callable[[Forum, Plan | None, str], Target]] = {
    "node": _node_target,
    "consultation": _consultation_target,
}


def register_target(target_type: str, resolver: Callable[[Forum, Plan | None, str], Target]):
    """Let a feature say which of its objects can be discussed, and when."""
    if target_type not in TARGET_TYPES:
        raise ValueError(f"unknown comment target {target_type!r}")
    _RESOLVERS[target_type] = resolver


def resolve_target(actor, forum: Forum, plan: Plan | None, target_type, target_key) -> Target:
    """The target if it exists in this forum and ``actor`` may read it (else 404)."""
    if target_type not in TARGET_TYPES:
        raise InvalidInput(_("Unknown kind of discussion."))
    if not isinstance(target_key, str) or not TARGET_KEY_RE.match(target_key):
        raise NotFound()
    resolver = _RESOLVERS.get(target_type)
    if resolver is None:
        raise NotFound()
    target = resolver(forum, plan, target_key)
    if target.readable_by is not None and getattr(actor, "id", None) != target.readable_by:
        raise NotFound()
    return target


def target_condition(target_type: str, plan_id: int | None, target_key: str):
    plan_condition = Comment.plan_id.is_(None) if plan_id is None else Comment.plan_id == plan_id
    return (
        (Comment.target_type == target_type) & plan_condition & (Comment.target_key == target_key)
    )


def get_comment(forum: Forum, comment_id) -> Comment:
    comment = db.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    if comment is None or comment.forum_id != forum.id:
        raise NotFound()
    return comment


def comment_for(actor, forum: Forum, comment_id) -> tuple[Comment, "Target"]:
    """A comment of ``forum`` whose thread ``actor`` may read, with its target
    (the same 404 otherwise)."""
    if not can_view(actor, forum):
        raise NotFound()
    comment = get_comment(forum, comment_id)
    return comment, target_of(actor, comment)


def forum_of(comment: Comment) -> Forum:
    return db.session.get(Forum, comment.forum_id)


def target_of(actor, comment: Comment) -> Target:
    plan = db.session.get(Plan, comment.plan_id) if comment.plan_id is not None else None
    return resolve_target(actor, forum_of(comment), plan, comment.target_type, comment.target_key)
