"""What comes in from outside, made safe to store, in one place.

Every request passes :func:`refuse_unstorable_request` (NUL bytes, which
PostgreSQL cannot store, and JSON nested deeper than any API body needs);
integers from forms and queries are bounded to the database's integer by
:class:`BoundedIntegerField` and :func:`database_int`; free text is cleaned by
:func:`clean_text` at the entry of the services that store it, so the history,
the notifications and the audit log all hold the same clean words.
"""

import json
import unicodedata

from flask import Flask, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

from .errors import InvalidInput

# PostgreSQL's INTEGER; SQLite's is wider, but the application must behave the
# same on both.
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1
MAX_JSON_DEPTH = 32

# Control characters (but for line ends and tabs), invisible format characters
# such as bidi overrides, lone surrogates and private-use characters.
_UNWANTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def clean_text(value, *, multiline: bool = True) -> str:
    """NFC text without control, invisible or unpaired characters, trimmed.

    Idempotent, so a value cleaned at the service boundary can pass through it
    again unchanged.
    """
    if not isinstance(value, str):
        return ""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    kept = "\n\t" if multiline else ""
    return "".join(
        ch for ch in value if ch in kept or unicodedata.category(ch) not in _UNWANTED_CATEGORIES
    ).strip()


def database_int(raw, *, minimum: int = 1, maximum: int = DB_INT_MAX) -> int | None:
    """``raw`` as an integer within bounds, or None (never an overflow later)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and raw.isascii() and raw.strip().lstrip("-").isdigit():
        if len(raw.strip()) > 12:
            return None
        number = int(raw)
    else:
        return None
    return number if minimum <= number <= maximum else None


class BoundedIntegerField(IntegerField):
    """An IntegerField that refuses, with a message beside the field, any number
    the database could not store, before any validator or query sees it."""

    def __init__(self, *args, minimum: int = DB_INT_MIN, maximum: int = DB_INT_MAX, **kwargs):
        super().__init__(*args, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.minimum <= self.data <= self.maximum:
            self.data = None
            raise ValueError(
                _l(
                    "Enter a whole number between %(low)d and %(high)d.",
                    low=self.minimum,
                    high=self.maximum,
                )
            )


def json_depth_exceeds(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` deep."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _json_has_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON bodies too deeply nested for the parser are invalid input (a
    ``ValueError``, which Flask turns into a 400), not a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if json_depth_exceeds(value):
            raise ValueError("JSON nested too deeply")
        return value


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def refuse_unstorable_request():
    """Refuse, before any view runs, a request that carries a NUL byte in its
    query, form fields, file names or JSON strings, or an unreadable JSON body."""
    if _has_nul(request.args):
        raise InvalidInput(_nul_message())
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        if not request.get_data(cache=True):
            return
        body = request.get_json(silent=True)
        if body is None:
            raise InvalidInput(
                _(
                    "The request body is not valid JSON, or it nests lists and objects more "
                    "than %(depth)d levels deep.",
                    depth=MAX_JSON_DEPTH,
                )
            )
        if _json_has_nul(body):
            raise InvalidInput(_nul_message())
        return
    if any("\x00" in (upload.filename or "") for upload in request.files.values()):
        raise InvalidInput(_nul_message())
    if _has_nul(request.form):
        return _refused_form_page()
    return None


def _refused_form_page():
    """The refusal of a form, with what the person wrote shown back (without
    the NUL), so nothing typed is lost even without the browser's drafts."""
    kept = [
        clean_text(value)
        for key, value in request.form.items(multi=True)
        if key != "csrf_token" and len(clean_text(value)) > 1
    ]
    body = render_template(
        "errors/refused_input.html",
        status=400,
        title=_("Bad request"),
        message=_nul_message(),
        kept=kept,
    )
    return make_response(body, 400)


def _nul_message() -> str:
    return _(
        "What you sent contains a NUL character, which cannot be stored. "
        "Please remove it and try again."
    )


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.before_request(refuse_unstorable_request)
