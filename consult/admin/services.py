"""Platform administration of accounts: the user list, deactivation and
reactivation (with a reason kept in the audit log), and invitations sent again.

Every operation takes the acting user and requires a platform administrator
(``User.is_admin``); ``None`` is the system itself (the CLI).
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..accounts import services as accounts
from ..accounts.models import User
from ..audit.models import AuditEvent
from ..audit.services import record
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..forums import invitations as forum_invitations
from ..forums.models import Forum, Membership
from ..inputs import clean_text

STATUSES = ("active", "deactivated", "invited")
MAX_REASON_LENGTH = 500
PER_PAGE = 50


def require_platform_admin(actor) -> None:
    if actor is not None and not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only platform administrators can do this."))


@dataclass(frozen=True)
class UserFilters:
    query: str = ""
    status: str = ""  # one of STATUSES, or "" for everyone
    admins_only: bool = False
    forum_id: int | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(actor, filters: UserFilters, *, page: int = 1, per_page: int = PER_PAGE):
    """One page of accounts (a Flask-SQLAlchemy Pagination), each with its
    memberships and their forums loaded in one more query for the whole page."""
    require_platform_admin(actor)
    statement = select(User)
    if text := clean_text(filters.query or "").lower()[:200]:
        like = f"%{_escape_like(text)}%"
        statement = statement.where(
            or_(
                func.lower(User.display_name).like(like, escape="\\"),
                User.email.like(like, escape="\\"),
            )
        )
    if filters.status == "active":
        statement = statement.where(User.active.is_(True), User.password_hash.is_not(None))
    elif filters.status == "deactivated":
        statement = statement.where(User.active.is_(False))
    elif filters.status == "invited":
        statement = statement.where(User.active.is_(True), User.password_hash.is_(None))
    if filters.admins_only:
        statement = statement.where(User.is_admin.is_(True))
    if filters.forum_id:
        members = select(Membership.user_id).where(Membership.forum_id == filters.forum_id)
        statement = statement.where(User.id.in_(members))
    statement = statement.options(selectinload(User.memberships)).order_by(
        func.lower(User.display_name), User.id
    )
    return db.paginate(
        statement, page=page, per_page=per_page, max_per_page=200, error_out=False, count=True
    )


def forums_for_filter(actor) -> list[Forum]:
    require_platform_admin(actor)
    return list(db.session.scalars(select(Forum).order_by(Forum.name)))


def get_user(actor, user_id) -> User:
    """The account with its memberships (and their forums) loaded."""
    require_platform_admin(actor)
    user = (
        db.session.scalar(
            select(User)
            .where(User.id == user_id)
            .options(selectinload(User.memberships))
            .execution_options(populate_existing=True)
        )
        if isinstance(user_id, int)
        else None
    )
    if user is None:
        raise NotFound()
    return user


def sorted_memberships(user: User) -> list[Membership]:
    return sorted(user.memberships, key=lambda m: m.forum.name.casefold())


def account_events(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest deactivations and reactivations of this account, with their reasons."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "User", AuditEvent.object_id == user.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def _checked_reason(reason) -> str:
    text = clean_text(reason or "")
    if not text:
        raise InvalidInput(_("Please give a reason: it is kept in the audit log."))
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _("The reason must have at most %(count)d characters.", count=MAX_REASON_LENGTH)
        )
    return text


def deactivate_user(actor, user: User, reason: str) -> None:
    """Close the account: every session and API token ends at once, so the
    person is signed out on their next request."""
    require_platform_admin(actor)
    reason = _checked_reason(reason)
    if actor is not None and actor.id == user.id:
        raise Conflict(_("You cannot deactivate your own account."))
    if not user.active:
        raise Conflict(_("This account is already deactivated."))
    accounts.set_active(user, False)
    record("user.deactivated", user, actor=actor, reason=reason)


def reactivate_user(actor, user: User, reason: str) -> None:
    """Open the account again: the person signs in anew (old sessions and
    tokens stay ended)."""
    require_platform_admin(actor)
    reason = _checked_reason(reason)
    if user.active:
        raise Conflict(_("This account is already active."))
    accounts.set_active(user, True)
    record("user.reactivated", user, actor=actor, reason=reason)


def resend_invitation(actor, user: User, forum_id) -> Forum:
    """Send again the invitation to one of the person's forums, for an
    account whose invitation was never accepted."""
    require_platform_admin(actor)
    if user.has_password:
        raise Conflict(_("This person has already accepted an invitation."))
    if not user.active:
        raise Conflict(_("This account is deactivated: reactivate it first."))
    membership = next((m for m in user.memberships if m.forum_id == forum_id), None)
    if membership is None:
        raise NotFound()
    forum_invitations.send_invitation(actor, membership.forum, user)
    return membership.forum
