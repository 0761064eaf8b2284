"""Locale selection and locale-aware formatting helpers."""

from babel import Locale
from flask import g, has_request_context, request, session
from flask_babel import format_decimal, get_locale, get_translations
from flask_login import current_user
from sqlalchemy import inspect as sa_inspect

from .config import DEFAULT_LOCALE, LOCALES
from .date_formats import format_day, format_moment, zone_label
from .timezones import reader_zone
from .urls import external_url

LANGUAGE_NAMES = {"es": "Español", "en": "English", "pt": "Português"}
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}


def valid_locale(code) -> str | None:
    """``code`` if it is one of our interface languages, else None (never used as a path)."""
    if isinstance(code, str) and code in LOCALES:
        return code
    return None


# The signed-in member's language, copied into the session so that an error
# page (the database may be down) can speak it without reading the database.
SESSION_USER_LOCALE = "user_locale"


def select_locale() -> str:
    """The member's preference, then the switcher (session), then the browser, then es."""
    if not has_request_context():
        return DEFAULT_LOCALE
    # Set by requests that choose their language themselves (the API: Accept-Language).
    if locale := valid_locale(g.get("request_locale")):
        return locale
    if locale := valid_locale(_member_locale()):
        return locale
    if locale := valid_locale(session.get("locale")):
        return locale
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def _member_locale() -> str | None:
    if g.get("error_page"):
        # Never a query here: the user as already loaded, else the session's copy.
        user = g.get("_login_user")
        state = sa_inspect(user, raiseerr=False) if user is not None else None
        if state is not None and "locale" not in state.unloaded:
            return user.locale
        return session.get(SESSION_USER_LOCALE) if "_user_id" in session else None
    if not (current_user and current_user.is_authenticated):
        return None
    locale = current_user.locale
    if locale and session.get(SESSION_USER_LOCALE) != locale:
        session[SESSION_USER_LOCALE] = locale
    return locale


def country_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """ISO 3166 countries named in the interface language, sorted for that language."""
    locale = locale or str(get_locale() or DEFAULT_LOCALE)
    territories = Locale.parse(locale).territories
    names = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return sorted(names, key=lambda pair: pair[1].casefold())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    locale = str(get_locale() or DEFAULT_LOCALE)
    return Locale.parse(locale).territories.get(code, code)


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(
        external_url=external_url,
        LOCALES=LOCALES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        current_locale=lambda: str(get_locale() or DEFAULT_LOCALE),
        country_name=country_name,
        reader_zone=reader_zone,
        zone_name=zone_label,
    )
    app.jinja_env.filters.update(
        # In the reader's time zone, with the zone's name, never with seconds.
        date=format_day,
        datetime=format_moment,
        number=lambda value: format_decimal(value),
    )
    install_template_gettext(app)


# Translated messages by (locale, message): the catalogs never change while
# the process runs, and a long page looks up the same few labels hundreds of
# times (Flask-Babel finds the catalog anew for each).
_TRANSLATED: dict[tuple, str] = {}


def _template_gettext(message: str) -> str:
    locale = get_locale()
    key = (locale, message)
    found = _TRANSLATED.get(key)
    if found is None:
        if len(_TRANSLATED) > 20_000:  # only literal messages are expected
            _TRANSLATED.clear()
        found = _TRANSLATED[key] = get_translations().ugettext(message)
    return found


def install_template_gettext(app) -> None:
    """``_()`` and ``gettext()`` in templates, remembered per locale and message
    (the other callables stay Flask-Babel's)."""
    app.jinja_env.install_gettext_callables(
        gettext=_template_gettext,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )
