"""An account's life after it is made: changing its email address, and deleting it.

Deleting keeps the row (without personal data) so that what the member wrote,
supported and voted keeps an author ("Former member") and the record of a
consultation stays whole: foreign keys, the audit log, the electorates and
participations of past votes all still point at it. Ballots never name anyone
and are not touched.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..mail.models import OutboxEmail
from ..mail.services import queue_email
from ..tokens import make_token, read_token
from . import hooks
from .models import AuthAttempt, User
from .services import end_all_sessions, find_user_by_email, normalise_email
from .services import password_matches as _password_matches

EMAIL_CHANGE_MAX_AGE = timedelta(hours=24)
# The address a deleted account is left with: unique, and unusable (.invalid is
# reserved, RFC 2606), so nobody can sign in or be written to with it.
DELETED_EMAIL_DOMAIN = "deleted.invalid"


class WrongPassword(InvalidInput):
    pass


def _check_password(user: User, password: str) -> None:
    if not _password_matches(user, password or ""):
        raise WrongPassword(_("The current password is not correct."))


# --- change of email address --------------------------------------------------


def _email_fingerprint(user: User) -> str:
    """Changes when the address does: a used confirmation link stops working."""
    return hashlib.sha256(f"{user.id}:{user.email}".encode()).hexdigest()[:16]


def _checked_new_email(user: User, new_email: str) -> str:
    email = normalise_email(new_email or "")
    if not email or "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput(_("Please give a valid email address."))
    if email == user.email:
        raise InvalidInput(_("This is already your email address."))
    if find_user_by_email(email) is not None:
        raise Conflict(_("An account with this email address already exists."))
    return email


def email_change_token(user: User, new_email: str) -> str:
    return make_token("email-change", {"u": user.id, "e": new_email, "f": _email_fingerprint(user)})


def read_email_change(token: str) -> tuple[User, str] | None:
    """The account and the new address a confirmation link names, or None when
    it is forged, expired, or already used (the address changed since)."""
    max_age = current_app.config.get("EMAIL_CHANGE_MAX_AGE", EMAIL_CHANGE_MAX_AGE)
    payload = read_token("email-change", token, max_age)
    if payload is None or not isinstance(payload.get("u"), int):
        return None
    user = db.session.get(User, payload["u"])
    email = payload.get("e")
    if user is None or not user.active or user.is_deleted or not isinstance(email, str):
        return None
    if payload.get("f") != _email_fingerprint(user):
        return None
    return user, email


def request_email_change(user: User, password: str, new_email: str) -> str:
    """Email a confirmation link to the new address and tell the old one (without
    the link). Nothing changes until the link is opened. Returns the new address."""
    _check_password(user, password)
    email = _checked_new_email(user, new_email)
    token = email_change_token(user, email)
    key = token[-24:]
    queue_email(
        f"email-change:{user.id}:{key}",
        email,
        user.locale,
        "email_change_confirm",
        user=user,
        token=token,
        new_email=email,
    )
    queue_email(
        f"email-change-notice:{user.id}:{key}",
        user.email,
        user.locale,
        "email_change_notice",
        user=user,
        new_email=email,
    )
    return email


def confirm_email_change(token: str) -> User:
    found = read_email_change(token)
    if found is None:
        raise InvalidInput(_("This confirmation link is invalid, has expired or was already used."))
    user, email = found
    if find_user_by_email(email) is not None:
        raise Conflict(_("An account with this email address already exists."))
    user.email = email
    return user


# --- deleting an account ----------------------------------------------------------


def deletion_refusal(user: User) -> str | None:
    """Why this account may not be deleted now, or None."""
    if user.is_admin:
        others = db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_admin.is_(True), User.active.is_(True), User.id != user.id)
        )
        if not others:
            return _(
                "You are the only platform administrator: name another one before "
                "deleting your account."
            )
    return None


def delete_account(user: User, password: str, now: datetime | None = None) -> None:
    """Remove the member's personal data and end their sessions and API tokens.

    Their amendments, comments, supports and votes stay, shown as by a former
    member; their memberships, drafts, notifications and pending emails go."""
    _check_password(user, password)
    refusal = deletion_refusal(user)
    if refusal:
        raise Conflict(refusal)
    now = now or utcnow()
    old_email = user.email
    end_all_sessions(user)
    hooks.run_closing(user)
    # The member's places in forums and groups, their proxies, their drafts:
    # each feature's own step (accounts/hooks.py).
    hooks.run_deletion(user)
    _forget_personal_rows(user, old_email)
    user.deleted_at = now
    user.active = False
    user.is_admin = False
    user.password_hash = None
    user.email = f"deleted-{user.id}-{secrets.token_hex(8)}@{DELETED_EMAIL_DOMAIN}"
    user.stored_name = ""
    user.country = None
    user.timezone = None
    user.digest_hour = None
    user.calendar_key = None
    user.notification_preference = "never"
    user.next_digest_at = None
    user.last_sign_in_at = None
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    record("user.deleted", user, actor=user)


# The member's own settings and messages, which nobody else reads (by table
# name: a table that is not there yet is skipped).
PERSONAL_TABLES = ("notifications", "notification_preferences", "recovery_codes")


def _forget_personal_rows(user: User, old_email: str) -> None:
    for name in PERSONAL_TABLES:
        table = db.metadata.tables.get(name)
        if table is not None:
            db.session.execute(delete(table).where(table.c.user_id == user.id))
    db.session.execute(delete(AuthAttempt).where(AuthAttempt.key == old_email))
    # A row being sent right now is left to its worker.
    db.session.execute(
        delete(OutboxEmail).where(
            OutboxEmail.recipient == old_email, OutboxEmail.status != "sending"
        )
    )
