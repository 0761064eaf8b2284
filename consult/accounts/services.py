"""Accounts: users, passwords, server-side sessions, sign-in throttling, resets."""

import hashlib
import secrets
from contextlib import suppress
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..config import LOCALES
from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..inputs import clean_text
from ..known_zones import canonical_zone
from ..mail.services import queue_email
from ..tokens import make_token, read_token
from . import hooks, throttle
from .models import NOTIFICATION_PREFERENCES, User, UserSession

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000

# Argon2id at one of OWASP's equivalent minimums (19 MiB, 2 passes, 1 lane): about
# 20 ms of one core per sign-in here (README, "Password hashing"). Hashes made with
# other parameters are rehashed at the next successful sign-in. Tests swap in a
# cheap hasher by replacing this module attribute.
PASSWORD_HASH_PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
_hasher = PasswordHasher(**PASSWORD_HASH_PARAMETERS)
# Verified against when the email is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def normalise_email(email: str) -> str:
    return clean_text(email).lower()


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


# --- sign-in ----------------------------------------------------------------


def authenticate(
    email: str,
    password: str,
    now: datetime | None = None,
    *,
    client: str = "unknown",
    device_token: str | None = None,
) -> User | None:
    """The user for these credentials, or None; raises throttle.Throttled when
    this client must wait (see consult/accounts/throttle.py).

    ``client`` is the remote address; ``device_token`` the browser's known-device
    cookie, which lets it past the account's failure budget when it names this
    account. The answer (and its cost) is the same whether the email exists or not.
    """
    now = now or utcnow()
    key = normalise_email(email)
    user = find_user_by_email(key)
    device = throttle.known_device(device_token, user)
    attempt_client = f"device:{device}" if device else client[:64]
    failures = throttle.check_sign_in(key, attempt_client, known=device is not None, now=now)
    if user is None or not user.active or user.password_hash is None:
        with suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        throttle.record_sign_in_failure(key, attempt_client, now)
        return None
    if not password_matches(user, password):
        throttle.record_sign_in_failure(key, attempt_client, now)
        return None
    if failures:  # none in the window (the usual case): nothing to forget, no DELETE
        throttle.clear_sign_in_failures(key, (attempt_client, client[:64]))
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
    user: User,
    *,
    display_name: str,
    locale: str,
    country: str | None,
    notification_preference: str,
    timezone: str | None = None,
    digest_hour: int | None = None,
) -> None:
    """Save the profile. ``timezone`` and ``digest_hour`` left None keep what
    the member had."""
    name = clean_text(display_name)
    if not name:
        raise InvalidInput(_("Please give your name."))
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    if notification_preference not in NOTIFICATION_PREFERENCES:
        raise InvalidInput(_("Unknown notification preference."))
    zone = user.timezone if timezone is None else _checked_zone(timezone)
    hour = user.digest_hour if digest_hour is None else _checked_hour(digest_hour)
    user.display_name = name[:200]
    user.locale = locale
    user.country = country or None
    moved = (zone, hour) != (user.timezone, user.digest_hour)
    user.timezone, user.digest_hour = zone, hour
    hooks.run_email_settings(user, notification_preference, moved)


def _checked_zone(name) -> str:
    zone = canonical_zone(name)
    if zone is None:
        raise InvalidInput(_("Unknown time zone: choose one from the list."))
    return zone


def _checked_hour(hour) -> int:
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise InvalidInput(_("Choose an hour between 0 and 23."))
    return hour


def offer_browser_zone(user: User, browser_zone) -> str | None:
    """At sign-in, a member who never chose a time zone gets their browser's
    (which they can change on their profile). Returns the zone set, or None."""
    if user.timezone is not None:
        return None
    zone = canonical_zone(browser_zone)
    if zone is None:
        return None
    user.timezone = zone
    hooks.run_email_settings(user, user.notification_preference, moved=True)
    return zone


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
    """Deactivating ends every session and revokes every API token at once:
    reactivating the account later does not bring them back. A deleted account
    stays closed."""
    if active and user.deleted_at is not None:
        raise Conflict(_("This account was deleted by its owner: it cannot be opened again."))
    user.active = active
    if not active:
        end_all_sessions(user)
        hooks.run_closing(user)


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


def request_password_reset(
    email: str, now: datetime | None = None, *, client: str = "unknown"
) -> None:
    """Email a reset link when the address belongs to an active account.

    Says nothing about whether it does: the caller shows the same message either
    way, and the throttle (a few per address, more per client) counts requests
    for unknown addresses alike. Links already sent keep working.
    """
    now = now or utcnow()
    key = normalise_email(email)
    throttle.check_reset_request(key, client[:64], now)
    throttle.record_reset_request(key, client[:64], now)
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
    # Guesses were at the old password: its failures no longer count.
    throttle.clear_sign_in_failures(user.email)
    return user
