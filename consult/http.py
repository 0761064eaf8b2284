"""HTTP done right: validators and 304s, compression, cacheable static files.

* **ETag and 304.** A successful GET whose body is built in memory (pages,
  JSON, documents sent as downloads) gets a weak ETag: a digest of exactly the
  bytes this reader would receive (less the time-stamped signature of the
  CSRF token: the session's token itself is part of the digest), so it
  differs between readers, roles and languages whenever their pages do, and
  can never be stale. A request whose
  ``If-None-Match`` names it is answered ``304 Not Modified`` without a body.
  Such responses say ``Cache-Control: private, no-cache`` (kept by this
  browser only, revalidated each time). A view that sets its own
  ``Cache-Control`` (``no-store`` for the API and the dashboard's figures)
  keeps it and gets no ETag.
* **Compression.** HTML, JSON, CSS, JavaScript, CSV, Markdown and plain text
  of at least ``COMPRESS_MIN_BYTES`` are sent gzipped to clients that accept
  it (``Vary: Accept-Encoding``); a 1 MB plan page becomes about 60 KB.
* **Static files.** ``url_for('static', …)`` adds ``?v=`` and a digest of the
  file, so a changed file has a new URL; such URLs are served with
  ``Cache-Control: public, max-age=31536000, immutable``.
"""

import gzip
import hashlib
from pathlib import Path

from flask import Flask, current_app, g, request, session

from . import pagecache

COMPRESS_MIN_BYTES = 1024
COMPRESS_LEVEL = 5
COMPRESSIBLE = {
    "text/html",
    "application/json",
    "text/css",
    "text/javascript",
    "application/javascript",
    "text/csv",
    "text/markdown",
    "text/plain",
    "image/svg+xml",
    "application/problem+json",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


def _static_digest(app: Flask, filename: str, cache: dict) -> str | None:
    path = Path(app.static_folder or "") / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    known = cache.get(filename)
    if known and known[0] == (stat.st_mtime_ns, stat.st_size):
        return known[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    cache[filename] = ((stat.st_mtime_ns, stat.st_size), digest)
    return digest


def digest(*parts: bytes) -> str:
    """A digest of a response's bytes, leaving out this request's CSRF token:
    it is signed with the time, so it changes every second although the
    session's token it carries (hashed instead) does not. A page kept by the
    browser with an earlier signature of the same token is still valid to
    post from."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    hasher = hashlib.sha1(usedforsecurity=False)
    signed = g.get(field)
    if signed:
        hasher.update(str(session.get(field, "")).encode())
    for part in parts:
        hasher.update(part.replace(signed.encode(), b"") if signed else part)
        hasher.update(b"\0")
    return hasher.hexdigest()


def client_has(etag: str) -> bool:
    """Whether the request's If-None-Match names ``etag`` (weakly)."""
    return request.if_none_match.contains_weak(etag)


def validate(response, etag: str) -> None:
    """Give ``response`` its weak ETag and answer 304 if the client has it."""
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = REVALIDATE
    response.make_conditional(request)


def add_etag(response) -> None:
    """A weak ETag from the body's digest, and 304 if the client has it."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or "Cache-Control" in response.headers
        or "Content-Encoding" in response.headers
    ):
        return
    validate(response, digest(response.get_data()))


def compress(response) -> None:
    """gzip the body when the client accepts it and it is worth it."""
    response.vary.add("Accept-Encoding")
    if (
        response.status_code < 200
        or response.status_code in (204, 304)
        or response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or request.accept_encodings["gzip"] <= 0
    ):
        return
    body = response.get_data()
    if len(body) < COMPRESS_MIN_BYTES:
        return
    response.set_data(gzip.compress(body, compresslevel=COMPRESS_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"


def init_app(app: Flask) -> None:
    pagecache.init_app(app)
    digests: dict = {}

    @app.url_defaults
    def _static_version(endpoint, values):
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = _static_digest(app, values["filename"], digests)
            if digest:
                values["v"] = digest

    @app.after_request
    def _http(response):
        if request.endpoint == "static":
            filename = (request.view_args or {}).get("filename", "")
            version = request.args.get("v")
            if (
                version
                and response.status_code in (200, 304)
                and version == _static_digest(app, filename, digests)
            ):
                response.headers["Cache-Control"] = IMMUTABLE
            return response
        add_etag(response)
        compress(response)
        return response
