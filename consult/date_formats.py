"""How a date is written: every date and time Consult shows goes through
``format_moment`` (the ``datetime`` template filter) or ``format_day`` (the
``date`` filter): the moment in the reader's zone (``timezones.reader_zone``),
in the interface language, with the zone's name and never with seconds, e.g.
"10 de diciembre de 2026, 17:00 (hora de Bogotá)".
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import format_timedelta as babel_format_timedelta
from babel.dates import get_timezone_location
from flask_babel import get_locale

from .config import DEFAULT_LOCALE
from .database import utcnow
from .timezones import reader_zone


def babel_locale(locale=None) -> Locale:
    return Locale.parse(str(locale or get_locale() or DEFAULT_LOCALE))


def city_name(zone: str, locale=None) -> str:
    if zone == "UTC" or zone.startswith("Etc/"):
        return "UTC"
    return get_timezone_location(ZoneInfo(zone), locale=babel_locale(locale), return_city=True)


def zone_label(zone: str, locale=None) -> str:
    """The zone's name as people say it: "hora de Bogotá", "São Paulo Time"."""
    if zone == "UTC" or zone.startswith("Etc/"):
        return "UTC"
    loc = babel_locale(locale)
    return loc.zone_formats["region"] % city_name(zone, loc)


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
    loc = babel_locale(locale)
    width = fmt if fmt in ("short", "medium", "long", "full") else "medium"
    local = _aware(value).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    day = babel_format_date(local.date(), width, locale=loc)
    clock = babel_format_time(local.time(), "short", locale=loc)
    pattern = str(loc.datetime_formats[width]).replace("'", "")
    return f"{pattern.replace('{1}', day).replace('{0}', clock)} ({zone_label(zone, loc)})"


def countdown(value: datetime | None, now: datetime | None = None, *, locale=None) -> str:
    """The time left until a moment, as a person says it ("in 3 days",
    "en 5 horas", "em 20 minutos"); empty once it has passed."""
    if value is None:
        return ""
    left = _aware(value) - _aware(now or utcnow())
    if left.total_seconds() <= 0:
        return ""
    return babel_format_timedelta(
        left, granularity="minute", threshold=1.5, add_direction=True, locale=babel_locale(locale)
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
    return babel_format_date(value, width, locale=babel_locale(locale))
