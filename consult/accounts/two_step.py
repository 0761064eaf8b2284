"""Two-step sign-in: after the password, a code from an authenticator app (TOTP,
RFC 6238, 30-second steps, 6 digits) or one of ten single-use recovery codes.

Optional for everyone; a platform administrator can require it for the people
who run forums (facilitators and administrators) and for platform
administrators: they are then sent to set it up right after signing in.
"""

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime

import pyotp
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..extensions import db
from . import hooks
from .models import PlatformSetting, RecoveryCode, User
from .services import password_matches

ISSUER = "Consult"
RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30
# A code of the step before or after is accepted too (a phone's clock a little off).
TOLERATED_STEPS = 1
REQUIRED_SETTING = "two_step_required"


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _digits(code: str) -> str:
    """The code typed, without spaces; full-width digits (some phone keyboards) as ASCII."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", code or ""))


def _recovery_hash(code: str) -> str:
    normal = re.sub(r"[^0-9a-z]", "", (code or "").lower())
    return hashlib.sha256(normal.encode()).hexdigest()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = _digits(code)
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = _step(now)
    for step in range(current - TOLERATED_STEPS, current + TOLERATED_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


# --- the platform's setting ---------------------------------------------------------


def is_required() -> bool:
    setting = db.session.get(PlatformSetting, REQUIRED_SETTING)
    return bool(setting and setting.value.get("on"))


def set_required(actor: User, required: bool) -> None:
    if actor is None or not actor.is_admin:
        raise PermissionDenied()
    setting = db.session.get(PlatformSetting, REQUIRED_SETTING)
    if setting is None:
        setting = PlatformSetting(key=REQUIRED_SETTING, value={})
        db.session.add(setting)
    setting.value = {"on": bool(required)}
    setting.updated_at = utcnow()
    record("platform.two_step_required", setting, actor=actor, on=bool(required))


def runs_something(user: User) -> bool:
    """A platform administrator, or a facilitator or administrator of a forum
    (forums answer that: ``accounts.hooks.on_runs_something``)."""
    return user.is_admin or hooks.runs_something(user)


def required_for(user: User) -> bool:
    return is_required() and runs_something(user)


# --- setting it up -------------------------------------------------------------------


def start(user: User) -> str:
    """A new secret to enter in the app (replacing one not confirmed yet)."""
    if user.has_two_step:
        raise Conflict(_("Two-step sign-in is already on."))
    user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def pending_secret(user: User) -> str | None:
    return None if user.has_two_step else user.totp_secret


def setup_uri(user: User) -> str:
    """The otpauth:// address that authenticator apps read (as a link or a QR code)."""
    return pyotp.TOTP(user.totp_secret, interval=STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def confirm(user: User, code: str, now: datetime | None = None) -> list[str]:
    """Turn it on with a first code from the app; returns the recovery codes
    (shown once)."""
    if user.has_two_step:
        raise Conflict(_("Two-step sign-in is already on."))
    if not user.totp_secret:
        raise Conflict(_("Start setting up two-step sign-in again."))
    now = now or utcnow()
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        raise InvalidInput(_("This code is not correct. Enter the six digits the app shows now."))
    user.totp_enabled_at = now
    user.totp_last_step = step
    record("user.two_step_on", user, actor=user)
    return _new_recovery_codes(user)


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _index in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits, written as two groups of five
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(raw)))
    return codes


def _check_password(user: User, password: str) -> None:
    if not password_matches(user, password or ""):
        raise InvalidInput(_("The current password is not correct."))


def new_recovery_codes(user: User, password: str) -> list[str]:
    if not user.has_two_step:
        raise Conflict(_("Two-step sign-in is off."))
    _check_password(user, password)
    return _new_recovery_codes(user)


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def turn_off(user: User, password: str) -> None:
    if not user.has_two_step:
        raise Conflict(_("Two-step sign-in is off."))
    _check_password(user, password)
    if required_for(user):
        raise Conflict(
            _("Two-step sign-in is required for facilitators and administrators on this platform.")
        )
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record("user.two_step_off", user, actor=user)


# --- signing in ----------------------------------------------------------------------


def verify(user: User, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` (from the app, or a recovery code) lets ``user`` in. An
    app code is accepted once (a later step than the last one accepted); a
    recovery code is used up."""
    if not user.has_two_step or not code or len(code) > 40:
        return False
    now = now or utcnow()
    step = _matching_step(user.totp_secret, code, now)
    if step is not None:
        # Conditional, so two requests with the same code cannot both pass.
        taken = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                (User.totp_last_step.is_(None)) | (User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
        return bool(taken)
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(used)
