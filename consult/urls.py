"""URL helpers: absolute links for emails and safe redirect targets."""

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import IntegerConverter


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under BASE_URL; works in requests, jobs and the CLI alike."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a local path on this site, else None (no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` in every route: an id larger than the database's integer is
    simply not found (PostgreSQL would refuse the query with an error)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
