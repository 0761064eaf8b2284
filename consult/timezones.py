"""Whose time zone a date is shown in. The reader's zone is, in order:

1. the one set by ``force_timezone`` (an email or a digest: its recipient's);
2. the signed-in member's own choice (``User.timezone``);
3. the zone of the forum of the page (or of the member's first forum): the
   zone its newest consultation's calendar is written in;
4. the platform's (``BABEL_DEFAULT_TIMEZONE``).

How a date is then written is in ``date_formats``; which zones exist in
``known_zones``; the list a member chooses from in ``zone_choice``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import select

from .known_zones import valid_timezone

# The signed-in member's zone, copied into the session like their language, so
# that an error page (the database may be down) can use it without a query.
SESSION_USER_ZONE = "user_timezone"

_forced: ContextVar[str | None] = ContextVar("consult_forced_timezone", default=None)


def platform_zone() -> str:
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return zone if valid_timezone(zone) else "UTC"


@contextmanager
def force_timezone(zone: str | None) -> Iterator[None]:
    """Dates rendered inside are shown in ``zone`` (an email's recipient's)."""
    token = _forced.set(zone if valid_timezone(zone) else None)
    try:
        yield
    finally:
        _forced.reset(token)


def forced_zone() -> str | None:
    return _forced.get()


@contextmanager
def recipients_zone(user, forum=None) -> Iterator[None]:
    """An email's dates in its recipient's zone, unless one is forced already
    (a notification batch forces each group's)."""
    from .accounts.models import User

    if _forced.get() is not None or not isinstance(user, User):
        yield
        return
    with force_timezone(member_zone(user, getattr(forum, "id", None))):
        yield


def forum_zone(forum_id: int | None) -> str | None:
    """The zone of the forum's newest consultation that names one (not UTC)."""
    if forum_id is None:
        return None
    from .consultations.models import Consultation
    from .extensions import db

    return db.session.scalar(
        select(Consultation.timezone)
        .where(Consultation.forum_id == forum_id, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


def _forum_zone_by_slug(slug: str) -> str | None:
    from .consultations.models import Consultation
    from .extensions import db
    from .forums.models import Forum

    return db.session.scalar(
        select(Consultation.timezone)
        .join(Forum, Forum.id == Consultation.forum_id)
        .where(Forum.slug == slug, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


def _members_forum_zone(user_id: int) -> str | None:
    """The zone of the newest consultation of any of the member's forums."""
    from .consultations.models import Consultation
    from .extensions import db
    from .forums.models import Membership

    return db.session.scalar(
        select(Consultation.timezone)
        .join(Membership, Membership.forum_id == Consultation.forum_id)
        .where(Membership.user_id == user_id, Consultation.timezone != "UTC")
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(1)
    )


def member_zone(user, forum_id: int | None = None) -> str:
    """The zone ``user`` reads dates in outside a page (emails, digests,
    calendars): their choice, else the forum's, else their forums', else the
    platform's."""
    chosen = getattr(user, "timezone", None)
    if valid_timezone(chosen):
        return chosen
    return (
        forum_zone(forum_id)
        or (_members_forum_zone(user.id) if getattr(user, "id", None) else None)
        or platform_zone()
    )


def _request_zone() -> str:
    if g.get("error_page"):
        # Never a query on an error page: the session's copy or the platform's.
        zone = session.get(SESSION_USER_ZONE) if "_user_id" in session else None
        return zone if valid_timezone(zone) else platform_zone()
    slug = (request.view_args or {}).get("slug")
    signed_in = current_user and current_user.is_authenticated
    if signed_in:
        chosen = current_user.timezone
        if valid_timezone(chosen):
            if session.get(SESSION_USER_ZONE) != chosen:
                session[SESSION_USER_ZONE] = chosen
            return chosen
    zone = _forum_zone_by_slug(slug) if isinstance(slug, str) else None
    if zone is None and signed_in:
        zone = _members_forum_zone(current_user.id)
    return zone or platform_zone()


def reader_zone() -> str:
    """The zone dates are shown in now (see the module's docstring)."""
    if forced := _forced.get():
        return forced
    if not has_request_context():
        return platform_zone()
    if "_reader_zone" not in g:
        g._reader_zone = _request_zone()
    return g._reader_zone
