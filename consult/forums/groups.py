"""Working groups of a forum and who is in them."""

import re
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from ..accounts import services as accounts
from ..accounts.models import User
from ..audit.services import record
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from .models import GROUP_ROLES, Forum, WorkingGroup, WorkingGroupMember, is_slug
from .permissions import membership_of, require_manage_open


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "group"


def list_groups(forum: Forum) -> list[tuple[WorkingGroup, int]]:
    """The forum's groups with their member counts (one query)."""
    counts = (
        select(WorkingGroupMember.working_group_id, func.count().label("n"))
        .group_by(WorkingGroupMember.working_group_id)
        .subquery()
    )
    rows = db.session.execute(
        select(WorkingGroup, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.working_group_id == WorkingGroup.id)
        .where(WorkingGroup.forum_id == forum.id)
        .order_by(WorkingGroup.name)
    )
    return [(group, count) for group, count in rows]


def get_group(forum: Forum, slug: str) -> WorkingGroup:
    if not is_slug(slug):
        raise NotFound()
    group = db.session.scalar(
        select(WorkingGroup).where(WorkingGroup.forum_id == forum.id, WorkingGroup.slug == slug)
    )
    if group is None:
        raise NotFound()
    return group


def save_group(
    actor, forum: Forum, name: str, description: str = "", group: WorkingGroup | None = None
) -> WorkingGroup:
    require_manage_open(actor, forum)
    name = accounts.clean_text(name)[:200]
    if not name:
        raise InvalidInput(_("Please give the working group a name."))
    clash = db.session.scalar(
        select(WorkingGroup).where(
            WorkingGroup.forum_id == forum.id, func.lower(WorkingGroup.name) == name.lower()
        )
    )
    if clash is not None and clash is not group:
        raise Conflict(_("This forum already has a working group with this name."))
    if group is None:
        slug, n = slugify(name), 2
        base = slug
        while db.session.scalar(
            select(WorkingGroup.id).where(
                WorkingGroup.forum_id == forum.id, WorkingGroup.slug == slug
            )
        ):
            slug, n = f"{base[:55]}-{n}", n + 1
        group = WorkingGroup(
            forum_id=forum.id, slug=slug, name=name, description=accounts.clean_text(description)
        )
        db.session.add(group)
        db.session.flush()
        record("group.created", group, actor=actor, forum=forum, name=name)
    else:
        group.name, group.description = name, accounts.clean_text(description)
        record("group.updated", group, actor=actor, forum=forum, name=name)
    return group


def group_members(group: WorkingGroup) -> list[WorkingGroupMember]:
    return list(
        db.session.scalars(
            select(WorkingGroupMember)
            .options(joinedload(WorkingGroupMember.user))
            .join(User, User.id == WorkingGroupMember.user_id)
            .where(WorkingGroupMember.working_group_id == group.id)
            .order_by(User.display_name)
        )
    )


def groups_of(user: User, forum: Forum) -> list[WorkingGroup]:
    return list(
        db.session.scalars(
            select(WorkingGroup)
            .join(WorkingGroupMember, WorkingGroupMember.working_group_id == WorkingGroup.id)
            .where(WorkingGroup.forum_id == forum.id, WorkingGroupMember.user_id == user.id)
            .order_by(WorkingGroup.name)
        )
    )


def add_group_member(
    actor, group: WorkingGroup, user: User, role: str = "member"
) -> WorkingGroupMember:
    forum = group.forum
    require_manage_open(actor, forum)
    if role not in GROUP_ROLES:
        raise InvalidInput(_("Unknown role."))
    if membership_of(user, forum) is None:
        raise InvalidInput(_("Only members of the forum can join its working groups."))
    existing = db.session.scalar(
        select(WorkingGroupMember).where(
            WorkingGroupMember.working_group_id == group.id, WorkingGroupMember.user_id == user.id
        )
    )
    if existing is not None:
        existing.role = role
        return existing
    member = WorkingGroupMember(working_group_id=group.id, user_id=user.id, role=role)
    db.session.add(member)
    db.session.flush()
    record("group.member_added", group, actor=actor, forum=forum, user_id=user.id, role=role)
    return member


def remove_group_member(actor, group: WorkingGroup, user_id: int) -> None:
    require_manage_open(actor, group.forum)
    removed = db.session.execute(
        delete(WorkingGroupMember).where(
            WorkingGroupMember.working_group_id == group.id, WorkingGroupMember.user_id == user_id
        )
    ).rowcount
    if removed:
        record("group.member_removed", group, actor=actor, forum=group.forum, user_id=user_id)
