"""Whole pages kept per reader: the plan page, the amendment list and a comment
thread built once and sent again, byte for byte, until something changes.

A page is filed under everything that decides what *this* reader sees:

* the reader: their user id (0 when signed out) and their session's CSRF
  token, which the page's forms carry — so an entry is never served to
  another reader, nor to another session of the same reader;
* the address with its query string, and the interface language;
* the data's generation (``consult.generation``), which every write moves on:
  a new amendment, comment, translation, phase, membership or notification
  makes every kept page old at once;
* the minute: nothing is kept longer, so what depends on the clock alone
  (a phase that ends at noon) is at most a minute late.

A reader's first request builds the page as before; the next ones cost the
session's user (one statement, as every request) and the generation (one
more), and are answered with the kept bytes — gzipped once per entry for the
clients that accept it — or with 304 when the browser already has them.

Nothing is kept when the request is not a plain read by a reader with a
session (no CSRF token yet, a message to show), or when building the page
touched the session or set a cookie; the setting ``WHOLE_PAGES = False``
turns it off. Entries live in each process's memory
(``pagecache``'s bounded copy): a process that has not built a page builds
it; several processes never need to agree, because the generation is read
from the database by all of them.
"""

import functools
import gzip
import time
from dataclasses import dataclass, field

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from . import generation, http, pagecache

KEEP_SECONDS = 60
# Set again for each answer (or not at all): the rest are sent as the view set them.
_LEFT_OUT_HEADERS = {
    "set-cookie",
    "content-length",
    "etag",
    "date",
    "content-encoding",
    "cache-control",
    "vary",
}


@dataclass
class KeptPage:
    chunks: list[bytes]
    headers: list[tuple[str, str]]
    etag: str
    mimetype: str
    gzipped: list[bytes] = field(default_factory=list)  # built on first need

    @property
    def length(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)


def share(chunk: bytes) -> bytes:
    """Mark ``chunk`` of the response being built as kept elsewhere already
    (the plan's filled text): it is not counted again in the memory budget."""
    g.setdefault("shared_chunks", set()).add(id(chunk))
    return chunk


def kept_per_reader(view):
    """Keep the page ``view`` builds for this reader (see the module)."""

    @functools.wraps(view)
    def kept_view(*args, **kwargs):
        key = _key()
        if key is None:
            return view(*args, **kwargs)
        kept = pagecache.recall(key)
        if kept is None:
            response = current_app.make_response(view(*args, **kwargs))
            kept = _keepable(response)
            if kept is None:
                return response
            pagecache.remember(key, kept, _size(kept))
        return _respond(kept)

    return kept_view


def _key() -> str | None:
    if not current_app.config.get("WHOLE_PAGES", True):
        return None
    if request.method not in ("GET", "HEAD") or "_flashes" in session:
        return None
    token = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not token:
        return None
    reader = current_user.id if current_user.is_authenticated else 0
    return pagecache.make_key(
        "whole-page",
        request.full_path,
        reader,
        str(token),
        str(get_locale()),
        generation.current(),
        int(time.time() // KEEP_SECONDS),
    )


def _keepable(response) -> KeptPage | None:
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or session.modified
        or "Set-Cookie" in response.headers
        or "Content-Encoding" in response.headers
    ):
        return None
    chunks = response.response if isinstance(response.response, list) else None
    if chunks is None or not all(isinstance(chunk, bytes) for chunk in chunks):
        chunks = [response.get_data()]
    etag, _weak = response.get_etag()
    headers = [(k, v) for k, v in response.headers if k.lower() not in _LEFT_OUT_HEADERS]
    return KeptPage(
        chunks=list(chunks),
        headers=headers,
        etag=etag or http.digest(*chunks),
        mimetype=response.mimetype,
    )


def _size(kept: KeptPage) -> int:
    shared = g.get("shared_chunks", set())
    return sum(len(chunk) for chunk in kept.chunks if id(chunk) not in shared) + 1024


def _respond(kept: KeptPage):
    response = current_app.response_class(mimetype=kept.mimetype)
    for name, value in kept.headers:
        if name.lower() != "content-type":
            response.headers.add(name, value)
    response.set_etag(kept.etag, weak=True)
    response.headers["Cache-Control"] = http.REVALIDATE
    if http.client_has(kept.etag):
        response.status_code = 304
        return response
    if _gzip_wanted(kept):
        if not kept.gzipped:
            body = b"".join(kept.chunks)
            kept.gzipped.append(gzip.compress(body, compresslevel=http.COMPRESS_LEVEL, mtime=0))
        response.set_data(kept.gzipped[0])
        response.headers["Content-Encoding"] = "gzip"
        return response
    response.response = kept.chunks
    response.headers["Content-Length"] = str(kept.length)
    return response


def _gzip_wanted(kept: KeptPage) -> bool:
    return (
        kept.mimetype in http.COMPRESSIBLE
        and kept.length >= http.COMPRESS_MIN_BYTES
        and request.accept_encodings["gzip"] > 0
    )
