"""Members of a forum: listing them, adding, changing roles, removing.

Who may do which is decided in ``forums.permissions`` (facilitators manage
members; only administrators appoint facilitators and administrators; a
forum keeps at least one administrator).
"""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from ..accounts import services as accounts
from ..accounts.models import User
from ..audit.services import record
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..pagination import paginate
from .groups import add_group_member, groups_of, remove_group_member
from .models import (
    MANAGING_ROLES,
    Coalition,
    Forum,
    Invitation,
    Membership,
    Role,
    WorkingGroup,
    WorkingGroupMember,
)
from .permissions import (
    appoint_refusal,
    archived_refusal,
    membership_of,
    removal_refusal,
    require,
    require_manage_open,
    role_change_refusal,
)


def list_members(forum: Forum, *, page: int = 1, per_page: int = 50, query: str = ""):
    """One page of members (a Flask-SQLAlchemy pagination), with their users and
    coalitions loaded in the same query."""
    statement = select(Membership).join(User, User.id == Membership.user_id)
    statement = statement.where(Membership.forum_id == forum.id)
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(User.display_name).like(like), User.email.like(like))
        )
    statement = statement.options(
        joinedload(Membership.user), joinedload(Membership.coalition)
    ).order_by(func.lower(User.display_name), Membership.id)
    return paginate(statement, page=page, per_page=per_page, max_per_page=200)


def membership_by_email(forum: Forum, email: str) -> Membership | None:
    return db.session.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.forum_id == forum.id, User.email == accounts.normalise_email(email))
    )


def get_membership(forum: Forum, membership_id) -> Membership:
    membership = (
        db.session.get(Membership, membership_id) if isinstance(membership_id, int) else None
    )
    if membership is None or membership.forum_id != forum.id:
        raise NotFound()
    return membership


def _parse_weight(value) -> Decimal:
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The vote weight must be a number.")) from None
    if not weight.is_finite() or weight < 0 or weight > 10000:
        raise InvalidInput(_("The vote weight must be between 0 and 10000."))
    return weight.quantize(Decimal("0.001"))


def update_membership(
    actor,
    membership: Membership,
    *,
    role: str,
    coalition: Coalition | None,
    is_delegate: bool,
    vote_weight,
    is_translator: bool | None = None,
) -> None:
    forum = membership.forum
    require(role_change_refusal(actor, membership, role))
    require(archived_refusal(forum))
    if coalition is not None and coalition.forum_id != forum.id:
        raise NotFound()
    weight = _parse_weight(vote_weight)  # before any change: all or nothing
    before = {"role": membership.role, "delegate": membership.is_delegate}
    membership.role = role
    membership.coalition_id = coalition.id if coalition else None
    membership.is_delegate = bool(is_delegate)
    membership.vote_weight = weight
    if is_translator is not None:
        membership.is_translator = bool(is_translator)
    record(
        "membership.updated",
        membership,
        actor=actor,
        forum=forum,
        before=before,
        role=role,
        delegate=membership.is_delegate,
        translator=membership.is_translator,
        weight=str(membership.vote_weight),
    )


def remove_membership(actor, membership: Membership) -> None:
    forum = membership.forum
    require(removal_refusal(actor, membership))
    require(archived_refusal(forum))
    group_ids = select(WorkingGroup.id).where(WorkingGroup.forum_id == forum.id)
    db.session.execute(
        delete(WorkingGroupMember).where(
            WorkingGroupMember.user_id == membership.user_id,
            WorkingGroupMember.working_group_id.in_(group_ids),
        )
    )
    record("membership.removed", membership, actor=actor, forum=forum, user_id=membership.user_id)
    db.session.delete(membership)


def add_member(
    actor, forum: Forum, user: User, *, role: str = Role.MEMBER, coalition: Coalition | None = None
) -> Membership:
    require(appoint_refusal(actor, forum, role))
    require(archived_refusal(forum))
    if membership_of(user, forum) is not None:
        raise Conflict(_("This person is already a member of the forum."))
    membership = Membership(
        forum_id=forum.id,
        user_id=user.id,
        role=role,
        coalition_id=coalition.id if coalition else None,
    )
    db.session.add(membership)
    db.session.flush()
    record("membership.created", membership, actor=actor, forum=forum, user_id=user.id, role=role)
    return membership


def set_member_groups(actor, membership: Membership, groups: list[WorkingGroup]) -> None:
    """Make ``groups`` exactly the working groups of this member (keeping group roles)."""
    forum = membership.forum
    require_manage_open(actor, forum)
    wanted = {group.id for group in groups if group.forum_id == forum.id}
    current = {group.id for group in groups_of(membership.user, forum)}
    for group in groups:
        if group.id in wanted - current:
            add_group_member(actor, group, membership.user)
    for group_id in current - wanted:
        remove_group_member(actor, db.session.get(WorkingGroup, group_id), membership.user_id)


def forget_member(user: User) -> None:
    """A deleted account's places in forums and working groups, and its
    invitations (an ``accounts.hooks.on_deletion`` step)."""
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id))
    for membership in memberships:
        record(
            "membership.removed",
            membership,
            actor=user,
            forum=membership.forum,
            user_id=user.id,
            reason="account_deleted",
        )
        db.session.delete(membership)
    db.session.execute(delete(WorkingGroupMember).where(WorkingGroupMember.user_id == user.id))
    db.session.execute(delete(Invitation).where(Invitation.user_id == user.id))


def manages_a_forum(user: User) -> bool:
    """A facilitator or administrator of a forum (an
    ``accounts.hooks.on_runs_something`` check)."""
    return (
        db.session.scalar(
            select(Membership.id)
            .where(Membership.user_id == user.id, Membership.role.in_(MANAGING_ROLES))
            .limit(1)
        )
        is not None
    )


def coalition_countries(user_id: int) -> list[str]:
    """The countries of the coalitions of the member's forums (for the list of
    time zones: ``zone_choice.register_coalition_countries``)."""
    return list(
        db.session.scalars(
            select(Coalition.country)
            .join(Membership, Membership.forum_id == Coalition.forum_id)
            .where(Membership.user_id == user_id, Coalition.country.is_not(None))
            .distinct()
        )
    )
