"""Invitations: making someone a member and emailing them a way in."""

from flask import current_app
from flask_babel import gettext as _

from ..accounts import services as accounts
from ..accounts.models import User
from ..audit.services import record
from ..config import LOCALES
from ..database import utcnow
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..mail.services import queue_email
from ..tokens import make_token, read_token
from .groups import add_group_member
from .memberships import add_member
from .models import Coalition, Forum, Invitation, Membership, WorkingGroup
from .permissions import require_manage_open


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
    require_manage_open(actor, forum)
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
