"""Sign-in and password-reset throttling that slows guessing without letting a
stranger lock anyone out.

- Per (email, client), where the client is the remote address, or the browser
  itself when it carries a known-device cookie: a few free failures, then a
  delay that doubles with each further failure (up to a cap). An attacker
  slows only their own client; the person signs in from anywhere else.
- Per account, across all clients: a budget of failures per window. Once it is
  spent, a client the account has never signed in from is refused, but a known
  device (a signed cookie set by every successful sign-in) and the links sent
  by email (password reset, invitation) still get in.
- Reset requests: a few per email address and more per client, per hour. A
  link already sent keeps working whatever happens here: links are checked by
  their signature and the password they were made for, never against these
  counts.
"""

import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import case, delete, func, select

from ..errors import TooManyAttempts
from ..extensions import db
from ..tokens import make_token, read_token
from .models import AuthAttempt, User

KNOWN_DEVICE_COOKIE = "consult_device"
# Users remembered by one browser's cookie (a shared computer at a venue).
_DEVICE_USERS = 10


class Throttled(TooManyAttempts):
    """Too many attempts; ``retry_after`` seconds until the next one is heard, when known."""

    def __init__(self, message, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


# --- known devices -------------------------------------------------------


def _read_device(token: str | None) -> dict | None:
    if not token:
        return None
    payload = read_token("known-device", token, current_app.config["KNOWN_DEVICE_MAX_AGE"])
    if (
        payload is None
        or not isinstance(payload.get("d"), str)
        or not isinstance(payload.get("u"), list)
    ):
        return None
    return payload


def known_device(token: str | None, user: User | None) -> str | None:
    """The device id of a valid known-device cookie that names ``user``, else None."""
    payload = _read_device(token)
    if payload is None or user is None or user.id not in payload["u"]:
        return None
    return payload["d"][:40]


def device_token(user: User, token: str | None) -> str:
    """The known-device cookie after ``user`` signed in on this browser: the same
    device id when the browser had one, with ``user`` added to those it names."""
    payload = _read_device(token) or {"d": secrets.token_urlsafe(16), "u": []}
    users = [uid for uid in payload["u"] if isinstance(uid, int) and uid != user.id]
    return make_token("known-device", {"d": payload["d"], "u": [*users, user.id][-_DEVICE_USERS:]})


# --- sign-in ---------------------------------------------------------------


def check_sign_in(email: str, client: str, *, known: bool, now: datetime) -> int:
    """Raise Throttled when this client may not try this email now; otherwise
    the number of failures on this email within the window (from any client)."""
    config = current_app.config
    since = now - config["SIGN_IN_FAILURE_WINDOW"]
    mine = AuthAttempt.client == client
    total, own, last = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((mine, 1), else_=0)), 0),
            func.max(case((mine, AuthAttempt.created_at))),
        ).where(
            AuthAttempt.kind == "sign_in_failure",
            AuthAttempt.key == email,
            AuthAttempt.created_at > since,
        )
    ).one()
    if not known and total >= config["SIGN_IN_ACCOUNT_BUDGET"]:
        raise Throttled(
            _(
                "Too many failed sign-ins for this account. Please sign in from a device "
                "you have used before, or use “Forgot your password?” to get a link by email."
            )
        )
    extra = own - config["SIGN_IN_FREE_FAILURES"]
    if extra < 0 or last is None:
        return total
    delay = min(config["SIGN_IN_DELAY"] * 2**extra, config["SIGN_IN_MAX_DELAY"])
    remaining = (last + delay - now).total_seconds()
    if remaining > 0:
        minutes = _minutes(remaining)
        raise Throttled(
            ngettext(
                "Too many failed sign-ins from this device. Please try again in %(num)d "
                "minute, or use “Forgot your password?” to get a link by email.",
                "Too many failed sign-ins from this device. Please try again in %(num)d "
                "minutes, or use “Forgot your password?” to get a link by email.",
                minutes,
            ),
            retry_after=math.ceil(remaining),
        )
    return total


def record_sign_in_failure(email: str, client: str, now: datetime) -> None:
    window = current_app.config["SIGN_IN_FAILURE_WINDOW"]
    db.session.execute(
        delete(AuthAttempt).where(
            AuthAttempt.kind == "sign_in_failure",
            AuthAttempt.key == email,
            AuthAttempt.created_at <= now - window,
        )
    )
    db.session.add(AuthAttempt(kind="sign_in_failure", key=email, client=client, created_at=now))


def clear_sign_in_failures(email: str, clients: tuple[str, ...] | None = None) -> None:
    """Forget the failures of these clients on this email (all of them without ``clients``).

    A successful sign-in clears only its own client's: a stranger's failures
    elsewhere still count against the account's budget."""
    statement = delete(AuthAttempt).where(
        AuthAttempt.kind == "sign_in_failure", AuthAttempt.key == email
    )
    if clients is not None:
        statement = statement.where(AuthAttempt.client.in_(clients))
    db.session.execute(statement)


# --- reset requests --------------------------------------------------------


def _oldest_since(condition, since: datetime) -> tuple[int, datetime | None]:
    return db.session.execute(
        select(func.count(), func.min(AuthAttempt.created_at)).where(
            AuthAttempt.kind == "reset_request", condition, AuthAttempt.created_at > since
        )
    ).one()


def check_reset_request(email: str, client: str, now: datetime) -> None:
    """Raise Throttled when no new reset link may be sent for this email from this client."""
    config = current_app.config
    hour = timedelta(hours=1)
    count, oldest = _oldest_since(AuthAttempt.client == client, now - hour)
    if count >= config["RESET_REQUESTS_PER_CLIENT_PER_HOUR"]:
        remaining = (oldest + hour - now).total_seconds()
        minutes = _minutes(remaining)
        raise Throttled(
            ngettext(
                "Too many reset requests from this device. Please try again in %(num)d minute.",
                "Too many reset requests from this device. Please try again in %(num)d minutes.",
                minutes,
            ),
            retry_after=math.ceil(remaining),
        )
    count, oldest = _oldest_since(AuthAttempt.key == email, now - hour)
    if count >= config["RESET_REQUESTS_PER_HOUR"]:
        hours = max(1, int(config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 3600))
        raise Throttled(
            ngettext(
                "Several reset links have been asked for this address in the last hour. If "
                "it has an account, please use the most recent email: its link stays valid "
                "for %(num)d hour.",
                "Several reset links have been asked for this address in the last hour. If "
                "it has an account, please use the most recent email: its link stays valid "
                "for %(num)d hours.",
                hours,
            ),
            retry_after=math.ceil((oldest + hour - now).total_seconds()),
        )


def record_reset_request(email: str, client: str, now: datetime) -> None:
    db.session.execute(
        delete(AuthAttempt).where(
            AuthAttempt.kind == "reset_request",
            AuthAttempt.key == email,
            AuthAttempt.created_at <= now - timedelta(hours=1),
        )
    )
    db.session.add(AuthAttempt(kind="reset_request", key=email, client=client, created_at=now))
