"""Who may see and run a forum: one refusal predicate per rule.

Each rule is a ``<action>_refusal(actor, obj) -> str | None`` that returns why
``actor`` may not act (translated), or ``None`` when they may. Services raise
with it (``require_*``); views ask the same predicates to build what a page
offers, so a page never restates a rule. ``can_*`` are the yes/no forms.
An actor of ``None`` is the system itself (the CLI, the demo loader, jobs).
"""

from dataclasses import dataclass

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..database import _read_only_request
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..extensions import db
from .models import MANAGING_ROLES, ROLES, Forum, Membership, Role

_MANAGING = MANAGING_ROLES


class Refusal(str):
    """Why an action is refused, and the error a service raises with it:
    403 (who may act) unless the object's state or the input is the reason."""

    error = PermissionDenied


class StateRefusal(Refusal):
    error = Conflict


class InputRefusal(Refusal):
    error = InvalidInput


def require(refusal: str | None) -> None:
    """Raise the refusal's error (403 for a plain string) when there is one."""
    if refusal is None:
        return
    raise getattr(refusal, "error", PermissionDenied)(str(refusal))


# --- who the actor is in a forum ------------------------------------------------


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
    if not has_request_context() or not _read_only_request():
        return None
    holder = request._get_current_object()
    known = getattr(holder, "consult_memberships", None)
    if known is None:
        known = holder.consult_memberships = {}
    return known


def _is_system_or_admin(user) -> bool:
    return user is None or getattr(user, "is_admin", False)


# --- the rules --------------------------------------------------------------------


def view_refusal(user, forum: Forum, membership: Membership | None = None) -> str | None:
    """Public forums are read by anyone; private ones by their members only."""
    if _is_system_or_admin(user) or forum.is_public:
        return None
    if (membership or membership_of(user, forum)) is not None:
        return None
    return Refusal(_("Only members can see this forum."))


def manage_refusal(user, forum: Forum, membership: Membership | None = None) -> str | None:
    """Facilitators and administrators run the forum (members, groups, plans…)."""
    if _is_system_or_admin(user):
        return None
    membership = membership or membership_of(user, forum)
    if membership is not None and membership.role in _MANAGING:
        return None
    return Refusal(_("Only the forum's facilitators and administrators can do this."))


def administer_refusal(user, forum: Forum, membership: Membership | None = None) -> str | None:
    """The forum's settings, and who facilitates it, are for its administrators."""
    if _is_system_or_admin(user):
        return None
    membership = membership or membership_of(user, forum)
    if membership is not None and membership.role == Role.ADMIN:
        return None
    return Refusal(
        _("Only forum administrators can appoint or remove facilitators and administrators.")
    )


def group_members_refusal(user, forum: Forum, membership: Membership | None = None) -> str | None:
    """Who takes part in a working group is shown to the forum's members (and
    to those who manage it), not to the public."""
    if (membership or membership_of(user, forum)) is not None:
        return None
    if manage_refusal(user, forum, membership) is None:
        return None
    return Refusal(_("Only members of the forum can see who takes part in its groups."))


def settings_refusal(user, forum: Forum, membership: Membership | None = None) -> str | None:
    """A forum's name, language and visibility are for its administrators."""
    if administer_refusal(user, forum, membership) is None:
        return None
    return Refusal(_("Only the forum's administrators can change its settings."))


def create_forum_refusal(user) -> str | None:
    if user is None or user.is_admin:
        return None
    return Refusal(_("Only platform administrators can create forums."))


def role_change_refusal(actor, membership: Membership, role: str) -> str | None:
    """Changing a member's role: facilitators manage members, but only
    administrators appoint or remove facilitators and administrators, and a
    forum keeps at least one administrator."""
    forum = membership.forum
    refusal = manage_refusal(actor, forum)
    if refusal is not None:
        return refusal
    if role not in ROLES:
        return InputRefusal(_("Unknown role."))
    if role != membership.role and (Role(role).manages or membership.role in _MANAGING):
        refusal = administer_refusal(actor, forum)
        if refusal is not None:
            return refusal
    if membership.role == Role.ADMIN and role != Role.ADMIN and admin_count(forum) <= 1:
        return StateRefusal(_("A forum needs at least one administrator."))
    return None


def removal_refusal(actor, membership: Membership) -> str | None:
    """Removing a member: the same as taking their role away."""
    forum = membership.forum
    refusal = manage_refusal(actor, forum)
    if refusal is None and membership.role in _MANAGING:
        refusal = administer_refusal(actor, forum)
    if refusal is None and membership.role == Role.ADMIN and admin_count(forum) <= 1:
        refusal = StateRefusal(_("A forum needs at least one administrator."))
    return refusal


def appoint_refusal(actor, forum: Forum, role: str) -> str | None:
    """Adding a member with ``role`` (facilitators add members; administrators
    add facilitators and administrators)."""
    refusal = manage_refusal(actor, forum)
    if refusal is not None:
        return refusal
    if role not in ROLES:
        return InputRefusal(_("Unknown role."))
    if Role(role).manages and actor is not None:
        return administer_refusal(actor, forum)
    return None


def admin_count(forum: Forum) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.forum_id == forum.id, Membership.role == Role.ADMIN)
    )


# --- yes/no and raising forms ---------------------------------------------------------


def can_view(user, forum: Forum, membership: Membership | None = None) -> bool:
    return view_refusal(user, forum, membership) is None


def can_manage(user, forum: Forum, membership: Membership | None = None) -> bool:
    return manage_refusal(user, forum, membership) is None


def can_administer(user, forum: Forum, membership: Membership | None = None) -> bool:
    """Grant the facilitator and administrator roles (only forum administrators)."""
    return administer_refusal(user, forum, membership) is None


def archived_refusal(forum: Forum) -> str | None:
    """An archived forum stays readable where it was and takes no more changes:
    the predicate of every service that writes in a forum (plans ask it
    through ``plans.archived_refusal``)."""
    if forum.archived_at is not None:
        return StateRefusal(
            _(
                "This forum is archived: everything in it can still be read, but nothing "
                "can be added or changed."
            )
        )
    return None


def require_manage(user, forum: Forum) -> None:
    require(manage_refusal(user, forum))


def require_manage_open(user, forum: Forum) -> None:
    """A change by those who run the forum, which an archived forum refuses."""
    require(manage_refusal(user, forum))
    require(archived_refusal(forum))


def require_administer(user, forum: Forum) -> None:
    require(administer_refusal(user, forum))


@dataclass(frozen=True)
class ForumAllowed:
    """What a forum's pages offer their reader, from the rules above."""

    manage: bool
    administer: bool
    see_group_members: bool


def allowed_in(user, forum: Forum, membership: Membership | None = None) -> ForumAllowed:
    membership = membership or membership_of(user, forum)
    return ForumAllowed(
        manage=can_manage(user, forum, membership),
        administer=settings_refusal(user, forum, membership) is None,
        see_group_members=group_members_refusal(user, forum, membership) is None,
    )
