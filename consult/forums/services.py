"""Forums, coalitions, memberships, working groups and invitations.

Every operation takes the acting user and checks what that user may do here,
so the same rules hold for the web pages, the CLI and (later) the API.
An actor of ``None`` is the system itself (the CLI, the demo loader, jobs);
web views always pass ``current_user``, anonymous or not.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from ..accounts import services as accounts
from ..accounts.models import User
from ..audit.services import record
from ..config import LOCALES
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..tokens import make_token, read_token
from .models import (
    MANAGING_ROLES,
    ROLES,
    Coalition,
    Forum,
    Invitation,
    Membership,
    WorkingGroup,
    WorkingGroupMember,
)

ROLE_LABELS = {
    "member": _l("Member"),
    "facilitator": _l("Facilitator"),
    "admin": _l("Administrator"),
    "observer": _l("Observer"),
}
GROUP_ROLE_LABELS = {"member": _l("Member"), "facilitator": _l("Facilitator")}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_slug(value) -> bool:
    """Shaped like a slug (checked before querying: PostgreSQL rejects NUL bytes)."""
    return isinstance(value, str) and len(value) <= 60 and SLUG_RE.match(value) is not None


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "group"


# --- access -----------------------------------------------------------------


def membership_of(user, forum: Forum) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    known = _memberships_of_this_request()
    if known is not None and (forum.id, user.id) in known:
        return known[(forum.id, user.id)]
    membership = db.session.scalar(
        select(Membership).where(Membership.forum_id == forum.id, Membership.user_id == user.id)
    )
    if known is not None:
        known[(forum.id, user.id)] = membership
    return membership


def _memberships_of_this_request() -> dict | None:
    """Memberships already read by this request, when it is served by a view
    that never writes (``database.read_only``): nothing can change them while
    it runs, so a page that checks the reader's membership in several places
    (may they see the forum, manage it, post) reads it once. Kept on the
    request object, never on ``g``, which a test's app context may share
    between requests. ``None`` in every other case: no memo."""
    from flask import has_request_context, request

    from ..database import _read_only_request

    if not has_request_context() or not _read_only_request():
        return None
    holder = request._get_current_object()
    known = getattr(holder, "consult_memberships", None)
    if known is None:
        known = holder.consult_memberships = {}
    return known


def can_view(user, forum: Forum, membership: Membership | None = None) -> bool:
    if user is None or forum.is_public or getattr(user, "is_admin", False):
        return True
    return (membership or membership_of(user, forum)) is not None


def can_manage(user, forum: Forum, membership: Membership | None = None) -> bool:
    if user is None or getattr(user, "is_admin", False):
        return True
    membership = membership or membership_of(user, forum)
    return membership is not None and membership.role in MANAGING_ROLES


def can_administer(user, forum: Forum, membership: Membership | None = None) -> bool:
    """Grant the facilitator and administrator roles (only forum administrators)."""
    if user is None or getattr(user, "is_admin", False):
        return True
    membership = membership or membership_of(user, forum)
    return membership is not None and membership.role == "admin"


def get_forum_for(user, slug: str) -> Forum:
    """The forum if ``user`` may see it; the same 404 when it does not exist."""
    forum = db.session.scalar(select(Forum).where(Forum.slug == slug)) if is_slug(slug) else None
    if forum is None or not can_view(user, forum):
        raise NotFound()
    return forum


def require_manage(user, forum: Forum) -> None:
    if not can_manage(user, forum):
        raise PermissionDenied(_("Only the forum's facilitators and administrators can do this."))


def forums_visible_to(user) -> list[Forum]:
    query = select(Forum).order_by(Forum.name)
    if not getattr(user, "is_admin", False):
        condition = Forum.is_public.is_(True)
        if getattr(user, "is_authenticated", False):
            mine = select(Membership.forum_id).where(Membership.user_id == user.id)
            condition = or_(condition, Forum.id.in_(mine))
        query = query.where(condition)
    return list(db.session.scalars(query))


# --- forums -----------------------------------------------------------------


def _check_slug(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > 60:
        raise InvalidInput(
            _("The short name may only contain lower-case letters, digits and hyphens.")
        )
    return slug


def create_forum(
    actor,
    slug: str,
    name: str,
    *,
    description: str = "",
    default_locale: str = "es",
    is_public: bool = False,
) -> Forum:
    """A new forum. Only platform administrators (or the CLI, with no actor)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only platform administrators can create forums."))
    slug = _check_slug(slug)
    name = accounts.clean_text(name)
    if not name:
        raise InvalidInput(_("Please give the forum a name."))
    if default_locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    if db.session.scalar(select(Forum.id).where(Forum.slug == slug)):
        raise Conflict(_("A forum with this short name already exists."))
    forum = Forum(
        slug=slug,
        name=name[:200],
        description=accounts.clean_text(description),
        default_locale=default_locale,
        is_public=is_public,
    )
    db.session.add(forum)
    db.session.flush()
    record("forum.created", forum, actor=actor, forum=forum)
    if actor is not None:
        # Whoever creates a forum administers it, so it never starts without one.
        add_member(None, forum, actor, role="admin")
    return forum


def ensure_forum(slug: str, name: str) -> tuple[Forum, bool]:
    """The forum with this slug, created if missing (for the CLI; idempotent)."""
    forum = db.session.scalar(select(Forum).where(Forum.slug == _check_slug(slug)))
    if forum is not None:
        return forum, False
    return create_forum(None, slug, name), True


def update_forum(
    actor, forum: Forum, *, name: str, description: str, default_locale: str, is_public: bool
) -> None:
    if not can_administer(actor, forum):
        raise PermissionDenied()
    name = accounts.clean_text(name)
    if not name:
        raise InvalidInput(_("Please give the forum a name."))
    if default_locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    forum.name, forum.description = name[:200], accounts.clean_text(description)
    forum.default_locale, forum.is_public = default_locale, is_public
    record("forum.updated", forum, actor=actor, forum=forum)


# --- coalitions -------------------------------------------------------------


def list_coalitions(forum: Forum) -> list[Coalition]:
    return list(
        db.session.scalars(
            select(Coalition).where(Coalition.forum_id == forum.id).order_by(Coalition.name)
        )
    )


def get_coalition(forum: Forum, coalition_id) -> Coalition:
    coalition = db.session.get(Coalition, coalition_id) if isinstance(coalition_id, int) else None
    if coalition is None or coalition.forum_id != forum.id:
        raise NotFound()
    return coalition


def find_coalition(forum: Forum, name: str) -> Coalition | None:
    return db.session.scalar(
        select(Coalition).where(
            Coalition.forum_id == forum.id, func.lower(Coalition.name) == name.strip().lower()
        )
    )


def save_coalition(
    actor, forum: Forum, name: str, country: str | None, coalition: Coalition | None = None
) -> Coalition:
    require_manage(actor, forum)
    name = accounts.clean_text(name)[:200]
    if not name:
        raise InvalidInput(_("Please give the coalition a name."))
    same_name = find_coalition(forum, name)
    if same_name is not None and same_name is not coalition:
        raise Conflict(_("This forum already has a coalition with this name."))
    if coalition is None:
        coalition = Coalition(forum_id=forum.id, name=name, country=country or None)
        db.session.add(coalition)
        db.session.flush()
        record("coalition.created", coalition, actor=actor, forum=forum, name=name)
    else:
        coalition.name, coalition.country = name, country or None
        record("coalition.updated", coalition, actor=actor, forum=forum, name=name)
    return coalition


# --- working groups ---------------------------------------------------------


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
    require_manage(actor, forum)
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
    require_manage(actor, forum)
    if role not in GROUP_ROLE_LABELS:
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
    require_manage(actor, group.forum)
    removed = db.session.execute(
        delete(WorkingGroupMember).where(
            WorkingGroupMember.working_group_id == group.id, WorkingGroupMember.user_id == user_id
        )
    ).rowcount
    if removed:
        record("group.member_removed", group, actor=actor, forum=group.forum, user_id=user_id)


# --- memberships ------------------------------------------------------------


@dataclass
class MemberPage:
    items: list[Membership]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_members(forum: Forum, *, page: int = 1, per_page: int = 50, query: str = "") -> MemberPage:
    """One page of members, with their users and coalitions loaded in the same query."""
    per_page = min(max(per_page, 1), 200)
    condition = Membership.forum_id == forum.id
    statement = select(Membership).join(User, User.id == Membership.user_id).where(condition)
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(User.display_name).like(like), User.email.like(like))
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        statement.options(joinedload(Membership.user), joinedload(Membership.coalition))
        .order_by(func.lower(User.display_name), Membership.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return MemberPage(list(items), page, per_page, total)


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
    require_manage(actor, forum)
    if role not in ROLES:
        raise InvalidInput(_("Unknown role."))
    touches_managers = role in MANAGING_ROLES or membership.role in MANAGING_ROLES
    if touches_managers and role != membership.role and not can_administer(actor, forum):
        raise PermissionDenied(
            _("Only forum administrators can appoint or remove facilitators and administrators.")
        )
    if coalition is not None and coalition.forum_id != forum.id:
        raise NotFound()
    if membership.role == "admin" and role != "admin" and _admin_count(forum) <= 1:
        raise Conflict(_("A forum needs at least one administrator."))
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


def _admin_count(forum: Forum) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.forum_id == forum.id, Membership.role == "admin")
    )


def remove_membership(actor, membership: Membership) -> None:
    forum = membership.forum
    require_manage(actor, forum)
    if membership.role in MANAGING_ROLES and not can_administer(actor, forum):
        raise PermissionDenied(
            _("Only forum administrators can appoint or remove facilitators and administrators.")
        )
    if membership.role == "admin" and _admin_count(forum) <= 1:
        raise Conflict(_("A forum needs at least one administrator."))
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
    actor, forum: Forum, user: User, *, role: str = "member", coalition: Coalition | None = None
) -> Membership:
    require_manage(actor, forum)
    if role not in ROLES:
        raise InvalidInput(_("Unknown role."))
    if role in MANAGING_ROLES and actor is not None and not can_administer(actor, forum):
        raise PermissionDenied(
            _("Only forum administrators can appoint or remove facilitators and administrators.")
        )
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
    require_manage(actor, forum)
    wanted = {group.id for group in groups if group.forum_id == forum.id}
    current = {group.id for group in groups_of(membership.user, forum)}
    for group in groups:
        if group.id in wanted - current:
            add_group_member(actor, group, membership.user)
    for group_id in current - wanted:
        remove_group_member(actor, db.session.get(WorkingGroup, group_id), membership.user_id)


# --- invitations ------------------------------------------------------------


def invite(
    actor,
    forum: Forum,
    *,
    email: str,
    display_name: str = "",
    role: str = "member",
    coalition: Coalition | None = None,
    country: str | None = None,
    locale: str | None = None,
    groups: list[WorkingGroup] = (),
) -> Membership:
    """Make someone a member and email them.

    A new person gets an account waiting for activation and a signed link to
    choose their name, password and language; someone who already has an
    account is simply told they were added.
    """
    require_manage(actor, forum)
    locale = locale if locale in LOCALES else forum.default_locale
    user = accounts.find_user_by_email(email)
    if user is None:
        user = accounts.create_user(email, display_name, locale=locale, country=country)
    membership = add_member(actor, forum, user, role=role, coalition=coalition)
    for group in groups:
        if group.forum_id != forum.id:
            raise NotFound()
        add_group_member(actor, group, user)
    send_invitation(actor, forum, user)
    return membership


def send_invitation(actor, forum: Forum, user: User) -> Invitation | None:
    """Email an activation link (new account) or a notice (existing account)."""
    from ..mail.services import queue_email

    if user.has_password:
        queue_email(
            f"forum-added:{forum.id}:{user.id}",
            user.email,
            user.locale,
            "added_to_forum",
            user=user,
            forum=forum,
            inviter=actor,
        )
        return None
    now = utcnow()
    invitation = Invitation(
        forum_id=forum.id,
        user_id=user.id,
        invited_by_id=getattr(actor, "id", None),
        expires_at=now + current_app.config["INVITATION_MAX_AGE"],
    )
    db.session.add(invitation)
    db.session.flush()
    token = make_token("invitation", {"i": invitation.id})
    queue_email(
        f"invitation:{invitation.id}",
        user.email,
        user.locale,
        "invitation",
        user=user,
        forum=forum,
        inviter=actor,
        token=token,
        expires_at=invitation.expires_at,
    )
    record("invitation.sent", invitation, actor=actor, forum=forum, user_id=user.id)
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation named by ``token``; None if forged, expired, used or revoked."""
    payload = read_token("invitation", token, current_app.config["INVITATION_MAX_AGE"])
    if payload is None or not isinstance(payload.get("i"), int):
        return None
    invitation = db.session.get(Invitation, payload["i"])
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
        or invitation.user.has_password
        or not invitation.user.active
    ):
        return None
    return invitation


def accept_invitation(token: str, *, display_name: str, password: str, locale: str) -> User:
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvalidInput(_("This invitation link is invalid, has expired or was already used."))
    user = invitation.user
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    name = accounts.clean_text(display_name)
    if not name:
        raise InvalidInput(_("Please give your name."))
    accounts.set_password(user, password)
    user.display_name, user.locale = name[:200], locale
    invitation.accepted_at = utcnow()
    record("invitation.accepted", invitation, actor=user, forum=invitation.forum)
    return user
