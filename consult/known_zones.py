"""Which time zones there are: the IANA names this machine knows, one per
place as CLDR names them (not old aliases such as US/Eastern), by region and
by country. What a member may choose from is built on these (``zone_choice``).
"""

from collections.abc import Iterable
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global
from flask_babel import lazy_gettext as _l

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


def zone_country(zone: str) -> str | None:
    """The ISO country a zone is in (CLDR), or None."""
    return _zone_territory().get(zone)
