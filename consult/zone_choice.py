"""The list of time zones a member chooses theirs from (the cities of their
countries first, then every place by region, in the interface language), and
reading the zone someone typed."""

import unicodedata
from collections.abc import Callable, Iterable
from functools import cache

from babel import Locale
from flask_babel import lazy_gettext as _l

from .date_formats import babel_locale, city_name
from .known_zones import REGIONS, canonical_zone, selectable_zones, zone_country, zones_of_countries


def zone_option_label(zone: str, locale=None) -> str:
    """A line of the list: "Bogotá (Colombia)"."""
    loc = babel_locale(locale)
    territory = zone_country(zone)
    country = loc.territories.get(territory, "") if territory else ""
    city = city_name(zone, loc)
    return f"{city} ({country})" if country and country != city else city


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@cache
def _names(locale_name: str) -> dict[str, tuple[str, str, str]]:
    """zone -> (line of the list, folded line, folded city) in one language,
    made once per process (Babel takes ~0.1 s for the whole list)."""
    loc = Locale.parse(locale_name)
    names = {}
    for zone in ["UTC", *selectable_zones()]:
        label = zone_option_label(zone, loc)
        names[zone] = (label, _fold(label), _fold(city_name(zone, loc)))
    return names


def zone_groups(first_countries: Iterable[str] = (), locale=None) -> list[tuple[str, list]]:
    """The list of zones to choose from, as (group label, [(zone, label)]):
    the cities of ``first_countries`` first, then UTC, then every place by
    region, each group sorted by name in the interface language."""
    names = _names(str(babel_locale(locale)))
    first = zones_of_countries(first_countries)
    groups: list[tuple[str, list]] = []
    if first:
        options = sorted(first, key=lambda zone: names[zone][1])
        groups.append((str(_l("Your forums' countries")), [(z, names[z][0]) for z in options]))
    groups.append((str(_l("Universal time")), [("UTC", "UTC")]))
    by_region: dict[str, list] = {region: [] for region in REGIONS}
    for zone in selectable_zones():
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
    for zone, (_label, folded, city) in _names(str(babel_locale(locale))).items():
        if folded == wanted or _fold(zone) == wanted:
            return zone
        if city == wanted:
            by_city.append(zone)
    return by_city[0] if len(by_city) == 1 else None


# The countries of the coalitions of a member's forums: the forums feature,
# above this module, registers its query when the app is made (consult/app.py).
_coalition_countries: list[Callable[[int], Iterable[str | None]]] = []


def register_coalition_countries(finder: Callable[[int], Iterable[str | None]]) -> None:
    """Set once per app (the same finder each time)."""
    _coalition_countries[:] = [finder]


def member_countries(user) -> list[str]:
    """The countries whose cities the list shows first: the member's own, then
    those of the coalitions of their forums."""
    countries = [user.country] if getattr(user, "country", None) else []
    found = _coalition_countries[0](user.id) if _coalition_countries else ()
    countries += sorted(code for code in found if code and code not in countries)
    return countries
