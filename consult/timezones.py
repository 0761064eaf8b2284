"""Whose time zone a date is shown in. The reader's zone is, in order:

1. the one set by ``force_timezone`` (an email or a digest: its recipient's);
2. the signed-in member's own choice (``User.timezone``);
3. the zone of the forum of the page (or of the member's first forum): the
   zone its newest consultation's calendar is written in;
4. the platform's (``BABEL_DEFAULT_TIMEZONE``).

How a date is then written is in ``date_formats``; which zones exist in
``known_zones``; the list a member chooses from in ``zone_choice``.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_login import current_user

from .known_zones import valid_timezone

# The signed-in member's zone, copied into the session like their language, so
# that an error page (the database may be down) can use it without a query.
SESSION_USER_ZONE = "user_timezone"

_forced: ContextVar[str | None] = ContextVar("consult_forced_timezone", default=None)


@dataclass(frozen=True)
class ForumZoneFinders:
    """Where a forum's zone is found (its consultations' calendars): the
    consultations feature, above this module, registers its queries when the
    app is made (``consult/app.py``). Without them, only the member's and the
    platform's zones count."""

    by_forum_id: Callable[[int], str | None]
    by_forum_slug: Callable[[str], str | None]
    by_member: Callable[[int], str | None]


_registered: list[ForumZoneFinders] = []


def register_forum_zones(finders: ForumZoneFinders) -> None:
    """Set once per app (the same finders each time)."""
    _registered[:] = [finders]


def _finders() -> ForumZoneFinders | None:
    return _registered[0] if _registered else None


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
    (a notification batch forces each group's). ``user`` may be anything an
    email's context names: only a member (with a ``timezone``) counts."""
    if _forced.get() is not None or not hasattr(user, "timezone"):
        yield
        return
    with force_timezone(member_zone(user, getattr(forum, "id", None))):
        yield


def forum_zone(forum_id: int | None) -> str | None:
    """The zone of the forum's newest consultation that names one (not UTC)."""
    finders = _finders()
    if forum_id is None or finders is None:
        return None
    return finders.by_forum_id(forum_id)


def _forum_zone_by_slug(slug: str) -> str | None:
    finders = _finders()
    return finders.by_forum_slug(slug) if finders is not None else None


def _members_forum_zone(user_id: int) -> str | None:
    """The zone of the newest consultation of any of the member's forums."""
    finders = _finders()
    return finders.by_member(user_id) if finders is not None else None


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
