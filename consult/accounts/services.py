"""Accounts: users, passwords, server-side sessions, sign-in throttling, resets."""

import hashlib
import secrets
import unicodedata
from contextlib import suppress
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..config import LOCALES
from ..database import utcnow
from ..errors import Conflict, InvalidInput, TooManyAttempts
from ..extensions import db
from ..notifications import emails as notification_emails
from ..tokens import make_token, read_token
from .models import NOTIFICATION_PREFERENCES, AuthAttempt, User, UserSession

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def normalise_email(email: str) -> str:
    return clean_text(email).lower()


def clean_text(value: str | None) -> str:
    """NFC, no control characters (NUL breaks PostgreSQL), no bidi overrides."""
    value = unicodedata.normalize("NFC", value or "")
    return "".join(
        ch for ch in value if unicodedata.category(ch) not in {"Cc", "Cf", "Cs"} or ch in "\n\t"
    ).strip()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            _("The password must have at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            _("The password must have at most %(count)d characters.", count=MAX_PASSWORD_LENGTH)
        )


def create_user(
    email: str,
    display_name: str,
    password: str | None = None,
    *,
    locale: str = "es",
    country: str | None = None,
    is_admin: bool = False,
) -> User:
    """A new account; without a password it waits for its invitation to be accepted."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise Conflict(_("An account with this email address already exists."))
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    user = User(
        email=email,
        display_name=(clean_text(display_name) or email.split("@")[0])[:200],
        locale=locale,
        country=country or None,
        is_admin=is_admin,
        notification_preference="immediately",
        active=True,
    )
    if password is not None:
        _check_password_rules(password)
        user.password_hash = _hasher.hash(password)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password and end every session of the account."""
    _check_password_rules(password)
    user.password_hash = _hasher.hash(password)
    end_all_sessions(user)


def password_matches(user: User, password: str) -> bool:
    if user.password_hash is None or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


# --- throttling -----------------------------------------------------------


def _recent_attempts(kind: str, key: str, window: timedelta, now: datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuthAttempt)
        .where(
            AuthAttempt.kind == kind, AuthAttempt.key == key, AuthAttempt.created_at > now - window
        )
    )


def _record_attempt(kind: str, key: str, now: datetime) -> None:
    db.session.add(AuthAttempt(kind=kind, key=key[:254], created_at=now))


def authenticate(email: str, password: str, now: datetime | None = None) -> User | None:
    """The user for these credentials, or None. Locked after repeated failures.

    The answer (and its cost) is the same whether the email exists or not.
    """
    now = now or utcnow()
    key = normalise_email(email)
    config = current_app.config
    window = config["SIGN_IN_LOCKOUT"]
    if _recent_attempts("sign_in_failure", key, window, now) >= config["SIGN_IN_MAX_FAILURES"]:
        minutes = int(window.total_seconds() // 60)
        raise TooManyAttempts(
            _(
                "Too many failed sign-ins for this address. Please wait %(minutes)d minutes "
                "or reset your password.",
                minutes=minutes,
            )
        )
    user = find_user_by_email(key)
    if user is None or not user.active or user.password_hash is None:
        with suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        _record_attempt("sign_in_failure", key, now)
        return None
    if not password_matches(user, password):
        _record_attempt("sign_in_failure", key, now)
        return None
    db.session.execute(
        delete(AuthAttempt).where(AuthAttempt.kind == "sign_in_failure", AuthAttempt.key == key)
    )
    user.last_sign_in_at = now
    return user


# --- server-side sessions -------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str | None = None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_token_hash(token),
            expires_at=utcnow() + current_app.config["PERMANENT_SESSION_LIFETIME"],
            user_agent=(user_agent or "")[:200],
        )
    )
    user.session_token = token
    return token


def load_session_user(token: str) -> User | None:
    """The active user of a live session, or None (revoked, expired, deactivated)."""
    if not isinstance(token, str) or not token:
        return None
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == _token_hash(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    if user is not None:
        user.session_token = token
    return user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def end_all_sessions(user: User) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# --- profile ----------------------------------------------------------------


def update_profile(
    user: User, *, display_name: str, locale: str, country: str | None, notification_preference: str
) -> None:
    name = clean_text(display_name)
    if not name:
        raise InvalidInput(_("Please give your name."))
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    if notification_preference not in NOTIFICATION_PREFERENCES:
        raise InvalidInput(_("Unknown notification preference."))
    user.display_name = name[:200]
    user.locale = locale
    user.country = country or None
    notification_emails.change_preference(user, notification_preference)


def set_locale(user: User, locale: str) -> None:
    """The member's interface language (kept as their preference)."""
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    user.locale = locale


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not password_matches(user, current_password):
        raise InvalidInput(_("The current password is not correct."))
    set_password(user, new_password)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        end_all_sessions(user)


# --- password reset -------------------------------------------------------


def _password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a used reset link stops working."""
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


def password_reset_token(user: User) -> str:
    return make_token("password-reset", {"u": user.id, "p": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    payload = read_token("password-reset", token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    if payload is None:
        return None
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active or payload.get("p") != _password_fingerprint(user):
        return None
    return user


def request_password_reset(email: str, now: datetime | None = None) -> None:
    """Email a reset link when the address belongs to an active account.

    Says nothing about whether it does: the caller shows the same message either way.
    """
    from ..mail.services import queue_email

    now = now or utcnow()
    key = normalise_email(email)
    limit = current_app.config["RESET_REQUESTS_PER_HOUR"]
    if _recent_attempts("reset_request", key, timedelta(hours=1), now) >= limit:
        raise TooManyAttempts()
    _record_attempt("reset_request", key, now)
    user = find_user_by_email(key)
    if user is None or not user.active:
        return
    token = password_reset_token(user)
    queue_email(
        f"password-reset:{user.id}:{token[-24:]}",
        user.email,
        user.locale,
        "password_reset",
        user=user,
        token=token,
    )


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset_token(token)
    if user is None:
        raise InvalidInput(
            _("This reset link is invalid or has expired. Please ask for a new one.")
        )
    set_password(user, new_password)
    db.session.execute(
        delete(AuthAttempt).where(
            AuthAttempt.kind == "sign_in_failure", AuthAttempt.key == user.email
        )
    )
    return user
