"""Reading an API request: query parameters and JSON bodies checked and
bounded before they reach a service, each refusal a 400 with a translated
message (``ApiError`` with code ``invalid_input``)."""

from flask import request
from flask_babel import gettext as _

from .errors import ApiError

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_PAGE = 100_000


def bad(message) -> ApiError:
    return ApiError(400, message, "invalid_input")


def int_query(name: str, *, minimum: int = 1, maximum: int = MAX_PAGE) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise bad(_("“%(name)s” must be a whole number.", name=name))
    number = int(value)
    if not minimum <= number <= maximum:
        raise bad(
            _(
                "“%(name)s” must be between %(low)d and %(high)d.",
                name=name,
                low=minimum,
                high=maximum,
            )
        )
    return number


def choice_query(name: str, allowed) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise bad(_("“%(name)s” has a value that is not allowed.", name=name))
    return value


def pages() -> tuple[int, int]:
    page = int_query("page") or 1
    per_page = int_query("per_page", maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    return page, per_page


def page_of(items: list, page: int, per_page: int) -> tuple[list, int]:
    """A page of a list a service returned whole (short lists: forums, plans…)."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    return items[(page - 1) * per_page : page * per_page], page


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad(_("Send a JSON object (Content-Type: application/json)."))
    return body


def text_field(body: dict, name: str, *, required: bool = False, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(_("“%(name)s” is required.", name=name))
        return default
    if not isinstance(value, str):
        raise bad(_("“%(name)s” must be text.", name=name))
    if unstorable(value):
        raise bad(_("The request contains characters that cannot be stored."))
    return value


def unstorable(value: str) -> bool:
    """NUL bytes (PostgreSQL refuses them) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def bool_field(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad(_("“%(name)s” must be true or false.", name=name))
    return value


def id_field(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise bad(_("“%(name)s” must be a positive whole number.", name=name))
    return value


def idempotency_key() -> str | None:
    value = request.headers.get("Idempotency-Key", "").strip()
    return value[:64] or None
