"""URL helpers: absolute links for emails, safe redirect targets, and the
current forum's slug filled in by ``url_for``."""

from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
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


def current_forum_slug() -> str | None:
    """The slug of the forum whose page this request serves (``/forums/<slug>/…``)."""
    if not has_request_context():
        return None
    return (request.view_args or {}).get("slug")


def fill_forum_slug(app: Flask, endpoint: str, values: dict) -> None:
    """Within a forum's page, a link to another page of the same forum needs no
    ``slug``: it is the request's own when the endpoint takes one and the
    caller named none. A slug given (another forum's) always wins; outside a
    forum's request (jobs, emails, cross-forum pages) nothing is filled in.

    Read from the request's ``view_args`` rather than kept on ``g`` by a
    ``url_value_preprocessor``: the views take ``slug`` as an argument anyway,
    and a test's app context (and its ``g``) outlives its requests."""
    if "slug" in values:
        return
    slug = current_forum_slug()
    if slug is None:
        return
    try:
        expecting = app.url_map.is_endpoint_expecting(endpoint, "slug")
    except KeyError:  # an unknown endpoint: url_for raises its BuildError
        return
    if expecting:
        values["slug"] = slug


def init_app(app: Flask) -> None:
    app.url_defaults(lambda endpoint, values: fill_forum_slug(app, endpoint, values))
