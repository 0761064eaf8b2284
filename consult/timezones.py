"""Time zones: whose zone a date is shown in, and how it is written.

Every date and time Consult shows goes through ``format_moment`` (the
``datetime`` template filter) or ``format_day`` (the ``date`` filter): the
moment in the reader's zone, in the interface language, with the zone's name
and never with seconds, e.g. "10 de diciembre de 2026, 17:00 (hora de Bogotá)".

The reader's zone is, in order:

1. the one set by ``force_timezone`` (an email or a digest: its recipient's);
2. the signed-in member's own choice (``User.timezone``);
3. the zone of the forum of the page (or of the member's first forum): the
   zone its newest consultation's calendar is written in;
4. the platform's (``BABEL_DEFAULT_TIMEZONE``).
"""

import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import format_timedelta as babel_format_timedelta
from babel.dates import get_timezone_location
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .config import DEFAULT_LOCALE

# The signed-in member's zone, copied into the session like their language, so
# that an error page (the database may be down) can use it without a query.
SESSION_USER_ZONE = "user_timezone"

_forced: ContextVar[str | None] = ContextVar("consult_forced_timezone", default=None)

# The regions a zone's name starts with, in the order the list shows them (the
# forums are in the Americas), each with its name in the interface language.
REGIONS = {
    "America": _l("Americas"),
    "Europe": _l("Europe"),
    "Africa": _l("Africa"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
    "Australia": _l("Australia"),
    "Antarctica": _l("Antarctica"),
}


# --- which zones exist -----------------------------------------------------------


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def valid_timezone(name) -> bool:
    """An IANA zone name this machine knows (never used as a path before this)."""
    if not isinstance(name, str) or len(name) > 64 or name not in _known():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _territory_zones() -> dict[str, tuple[str, ...]]:
    """ISO country -> its canonical zones (CLDR), those this machine knows."""
    return {
        territory: tuple(z for z in zones if z in _known())
        for territory, zones in get_global("territory_zones").items()
    }


@cache
def _zone_territory() -> dict[str, str]:
    found = {}
    for territory, zones in _territory_zones().items():
        if len(territory) == 2 and territory.isalpha():
            for zone in zones:
                found.setdefault(zone, territory)
    return found


@cache
def _selectable() -> tuple[str, ...]:
    return tuple(sorted(z for z in _zone_territory() if z.split("/")[0] in REGIONS))


def selectable_zones() -> list[str]:
    """The zones offered in the list besides UTC: one per place (CLDR's
    canonical names, not old aliases such as US/Eastern or Brazil/East)."""
    return list(_selectable())


def is_selectable(name) -> bool:
    return name == "UTC" or (isinstance(name, str) and name in _selectable())


_UTC_ALIASES = ("Etc/UTC", "Etc/Universal", "Etc/Zulu", "Etc/GMT", "GMT", "Universal", "Zulu")


def canonical_zone(name) -> str | None:
    """The zone of the list that ``name`` is (a browser may give an alias such
    as Asia/Calcutta or Etc/UTC), or None."""
    if not valid_timezone(name):
        return None
    if name in _UTC_ALIASES:
        return "UTC"
    if is_selectable(name):
        return name
    alias = get_global("zone_aliases").get(name)
    return alias if is_selectable(alias) else None


def zones_of_countries(countries: Iterable[str]) -> list[str]:
    zones: list[str] = []
    for country in countries:
        for zone in _territory_zones().get((country or "").upper(), ()):
            if zone not in zones and zone.split("/")[0] in REGIONS:
                zones.append(zone)
    return zones


# --- names and formats -----------------------------------------------------------


def _locale(locale=None) -> Locale:
    return Locale.parse(str(locale or get_locale() or DEFAULT_LOCALE))


def city_name(zone: str, locale=None) -> str:
    if zone == "UTC" or zone.startswith("Etc/"):
        return "UTC"
    return get_timezone_location(ZoneInfo(zone), locale=_locale(locale), return_city=True)


def zone_label(zone: str, locale=None) -> str:
    """The zone's name as people say it: "hora de Bogotá", "São Paulo Time"."""
    if zone == "UTC" or zone.startswith("Etc/"):
        return "UTC"
    loc = _locale(locale)
    return loc.zone_formats["region"] % city_name(zone, loc)


def zone_option_label(zone: str, locale=None) -> str:
    """A line of the list: "Bogotá (Colombia)"."""
    loc = _locale(locale)
    territory = _zone_territory().get(zone)
    country = loc.territories.get(territory, "") if territory else ""
    city = city_name(zone, loc)
    return f"{city} ({country})" if country and country != city else city


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_moment(
    value: datetime | None, fmt: str = "medium", *, zone: str | None = None, locale=None
) -> str:
    """A moment as the reader reads it: their zone, their language, the zone's
    name, hours and minutes (never seconds)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return format_day(value, fmt, locale=locale)
    zone = zone or reader_zone()
    loc = _locale(locale)
    width = fmt if fmt in ("short", "medium", "long", "full") else "medium"
    local = _aware(value).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    day = babel_format_date(local.date(), width, locale=loc)
    clock = babel_format_time(local.time(), "short", locale=loc)
    pattern = str(loc.datetime_formats[width]).replace("'", "")
    return f"{pattern.replace('{1}', day).replace('{0}', clock)} ({zone_label(zone, loc)})"


def countdown(value: datetime | None, now: datetime | None = None, *, locale=None) -> str:
    """The time left until a moment, as a person says it ("in 3 days",
    "en 5 horas", "em 20 minutos"); empty once it has passed."""
    from .database import utcnow

    if value is None:
        return ""
    left = _aware(value) - _aware(now or utcnow())
    if left.total_seconds() <= 0:
        return ""
    return babel_format_timedelta(
        left, granularity="minute", threshold=1.5, add_direction=True, locale=_locale(locale)
    )


def format_day(value, fmt: str = "medium", *, zone: str | None = None, locale=None) -> str:
    """The day of a moment in the reader's zone (a ``date`` is shown as it is)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(ZoneInfo(zone or reader_zone())).date()
    if not isinstance(value, date):
        return ""
    width = fmt if fmt in ("short", "medium", "long", "full") else "medium"
    return babel_format_date(value, width, locale=_locale(locale))


# --- whose zone --------------------------------------------------------------------


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


# --- the list to choose from ------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@cache
def _names(locale_name: str) -> dict[str, tuple[str, str, str]]:
    """zone -> (line of the list, folded line, folded city) in one language,
    made once per process (Babel takes ~0.1 s for the whole list)."""
    loc = Locale.parse(locale_name)
    names = {}
    for zone in ["UTC", *_selectable()]:
        label = zone_option_label(zone, loc)
        names[zone] = (label, _fold(label), _fold(city_name(zone, loc)))
    return names


def zone_groups(first_countries: Iterable[str] = (), locale=None) -> list[tuple[str, list]]:
    """The list of zones to choose from, as (group label, [(zone, label)]):
    the cities of ``first_countries`` first, then UTC, then every place by
    region, each group sorted by name in the interface language."""
    names = _names(str(_locale(locale)))
    first = zones_of_countries(first_countries)
    groups: list[tuple[str, list]] = []
    if first:
        options = sorted(first, key=lambda zone: names[zone][1])
        groups.append((str(_l("Your forums' countries")), [(z, names[z][0]) for z in options]))
    groups.append((str(_l("Universal time")), [("UTC", "UTC")]))
    by_region: dict[str, list] = {region: [] for region in REGIONS}
    for zone in _selectable():
        by_region[zone.split("/")[0]].append(zone)
    for region, zones in by_region.items():
        zones.sort(key=lambda zone: names[zone][1])
        groups.append((str(REGIONS[region]), [(z, names[z][0]) for z in zones]))
    return groups


def find_zone(text: str, locale=None) -> str | None:
    """The zone someone typed: an IANA name, a line of the list, or a city
    (accents and case aside) that names one place only."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 120:
        return None
    if canonical := canonical_zone(text):
        return canonical
    wanted = _fold(text)
    by_city: list[str] = []
    for zone, (_label, folded, city) in _names(str(_locale(locale))).items():
        if folded == wanted or _fold(zone) == wanted:
            return zone
        if city == wanted:
            by_city.append(zone)
    return by_city[0] if len(by_city) == 1 else None


def member_countries(user) -> list[str]:
    """The countries whose cities the list shows first: the member's own, then
    those of the coalitions of their forums."""
    from .extensions import db
    from .forums.models import Coalition, Membership

    countries = [user.country] if getattr(user, "country", None) else []
    found = db.session.scalars(
        select(Coalition.country)
        .join(Membership, Membership.forum_id == Coalition.forum_id)
        .where(Membership.user_id == user.id, Coalition.country.is_not(None))
        .distinct()
    )
    countries += sorted(code for code in found if code and code not in countries)
    return countries
