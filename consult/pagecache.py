"""Rendered fragments, built once and served many times.

Some HTML never changes once built: the text of a plan version (versions are
immutable) in one reading language and interface language, the Markdown of a
comment at one revision. Such a fragment is stored under a key made of
everything that can change its output (ids *and* creation times, the language,
the settings it reads, a stamp of the data it shows, and the revision of the
templates and code that render it). Nothing is ever invalidated by deleting:
when something changes, the key changes and the old entry is no longer asked
for (it is removed when a newer entry of the same *scope* is written).

Where it is kept, and why:

* **The database** (table ``page_fragments``) is the shared store. It is there
  in every mode the app runs in — the embedded SQLite default, tests (which run
  without Redis, with inline jobs), and production with several web processes
  on several machines, which all share it — survives restarts and deploys, and
  is rolled back with everything else in tests, so they stay deterministic.
  Redis is faster but absent in some of these modes; a second store would be
  one more thing to keep coherent for little gain, because of the next layer.
* **Each process's memory** keeps the most recently used entries (bounded by
  ``PAGE_CACHE_MEMORY_CHARS``). Since a key names content that never changes,
  a copy in memory can never be stale, so a hit costs no query at all; the
  database is read once per process and key.

New entries are written to the database after the request's own transaction
has ended (when the app context is torn down), in a transaction of their own:
a page that is only read never commits the request's work, and on SQLite the
write cannot wait for the request's own lock. Two processes writing the same
key at once is harmless (the second insert does nothing).

Per-reader parts (counts, what this reader may do, the phase) are never part
of a fragment: callers overlay them at the slots a fragment leaves (see
``plan_translations.rendering``).
"""

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import String, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .database import Base, created_at
from .extensions import db

log = logging.getLogger(__name__)

DEFAULT_MEMORY_CHARS = 32 * 1024 * 1024


class PageFragment(Base):
    """One rendered fragment. ``key`` is the digest of everything its content
    depends on; ``scope`` names what it is a rendering of (a version in a
    reading and interface language, a comment), so that writing a newer
    fragment of the same scope removes the entries it supersedes."""

    __tablename__ = "page_fragments"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(120), index=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]


def make_key(*parts) -> str:
    """A stable digest of ``parts`` (strings, numbers, datetimes, None, lists)."""

    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    text = json.dumps([plain(part) for part in parts], ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def source_revision(*paths: str | Path) -> str:
    """A digest of files' contents (templates, the modules that render): part
    of every key, so a deploy that changes how a fragment is made never serves
    one made the old way. Computed once per process and list of files."""
    key = tuple(str(path) for path in paths)
    with _lock:
        known = _revisions.get(key)
    if known is None:
        digest = hashlib.sha256()
        for path in key:
            digest.update(path.encode())
            digest.update(Path(path).read_bytes())
        known = digest.hexdigest()[:16]
        with _lock:
            _revisions[key] = known
    return known


def template_path(name: str) -> Path:
    """The file of a template of this app (for ``source_revision``)."""
    return Path(current_app.template_folder) / name


# --- the memory of this process --------------------------------------------------

_lock = threading.Lock()
_memory: "OrderedDict[str, tuple[object, int]]" = OrderedDict()
_memory_size = {"chars": 0}
_revisions: dict[tuple, str] = {}


def _memory_limit() -> int:
    if has_app_context():
        return int(current_app.config.get("PAGE_CACHE_MEMORY_CHARS", DEFAULT_MEMORY_CHARS))
    return DEFAULT_MEMORY_CHARS


def _remember(key: str, value, size: int) -> None:
    limit = _memory_limit()
    if size > limit:
        return
    with _lock:
        previous = _memory.pop(key, None)
        if previous is not None:
            _memory_size["chars"] -= previous[1]
        _memory[key] = (value, size)
        _memory_size["chars"] += size
        while _memory_size["chars"] > limit and _memory:
            _old_key, (_value, old_size) = _memory.popitem(last=False)
            _memory_size["chars"] -= old_size


def _recall(key: str):
    with _lock:
        entry = _memory.get(key)
        if entry is None:
            return None
        _memory.move_to_end(key)
        return entry[0]


def recall(key: str):
    """The value kept in this process's memory under ``key``, or None."""
    return _recall(key)


def remember(key: str, value, size: int) -> None:
    """Keep ``value`` (about ``size`` characters) in this process's memory
    only, the least recently used going first when the budget is spent."""
    _remember(key, value, size)


def in_memory(key: str, build: Callable[[], object], size: Callable[[object], int] = len):
    """A value kept in this process's memory only (never in the database):
    for what is cheap to rebuild but worth not rebuilding on every request."""
    value = _recall(key)
    if value is None:
        value = build()
        _remember(key, value, size(value))
    return value


def clear_memory() -> None:
    """Forget this process's copies (the database keeps its entries)."""
    with _lock:
        _memory.clear()
        _memory_size["chars"] = 0


# --- reading and writing -------------------------------------------------------------


def _same(value):
    return value


class Codec:
    """How a kind of fragment is kept: ``dump`` to the text stored in the
    database, ``load`` back to what callers use (and memory keeps), and its
    ``size`` in characters for the memory's bound."""

    def __init__(self, dump=_same, load=_same, size=len):
        self.dump, self.load, self.size = dump, load, size


TEXT = Codec()


def get_many(keys: Iterable[str], codec: Codec = TEXT) -> dict:
    """The stored fragments among ``keys``: from memory, the rest in one query."""
    found: dict = {}
    missing = []
    for key in dict.fromkeys(keys):
        value = _recall(key)
        if value is None:
            missing.append(key)
        else:
            found[key] = value
    if missing and _enabled():
        rows = db.session.execute(
            select(PageFragment.key, PageFragment.content).where(PageFragment.key.in_(missing))
        )
        for key, content in rows:
            try:
                value = codec.load(content)
            except (ValueError, TypeError, KeyError):  # written by another revision
                continue
            found[key] = value
            _remember(key, value, codec.size(value))
    return found


def get(key: str, codec: Codec = TEXT):
    return get_many([key], codec).get(key)


def put(key: str, scope: str, value, codec: Codec = TEXT) -> None:
    """Keep ``value`` under ``key``: in memory at once, and in the database
    when the request ends (outside requests, in memory only)."""
    _remember(key, value, codec.size(value))
    if not _enabled() or not has_request_context():
        return
    pending = g.setdefault("_page_fragments", {})
    pending[key] = (scope[:120], codec.dump(value))


def fetch(key: str, scope: str, build: Callable[[], object], codec: Codec = TEXT):
    """The fragment under ``key``, built (and kept) if there is none."""
    value = get(key, codec)
    if value is None:
        value = build()
        put(key, scope, value, codec)
    return value


def fetch_many(entries: dict[str, tuple[str, Callable[[], object]]], codec: Codec = TEXT) -> dict:
    """``{key: (scope, build)}`` → ``{key: value}``, building what is missing."""
    found = get_many(entries, codec)
    for key, (scope, build) in entries.items():
        if key not in found:
            found[key] = build()
            put(key, scope, found[key], codec)
    return found


def _enabled() -> bool:
    return not has_app_context() or current_app.config.get("PAGE_CACHE_DATABASE", True)


def _insert(dialect: str):
    if dialect == "postgresql":
        return postgresql.insert(PageFragment).on_conflict_do_nothing(index_elements=["key"])
    if dialect == "sqlite":
        return sqlite.insert(PageFragment).on_conflict_do_nothing(index_elements=["key"])
    return PageFragment.__table__.insert()


def write_pending() -> None:
    """Store the fragments made during this app context, in a transaction of
    their own (the request's session has been removed by then). A failure is
    logged, never shown: the page was served, the fragment is made again."""
    pending = g.pop("_page_fragments", None)
    if not pending:
        return
    g.sqlite_writes = True  # this transaction writes, even after a read-only view
    try:
        # Two statements however many fragments: the entries these supersede
        # (same scope, another key), then the new ones.
        scopes = {scope for scope, _content in pending.values()}
        db.session.execute(
            delete(PageFragment).where(
                PageFragment.scope.in_(scopes), PageFragment.key.not_in(list(pending))
            )
        )
        db.session.execute(
            _insert(db.engine.dialect.name),
            [
                {"key": key, "scope": scope, "content": content}
                for key, (scope, content) in pending.items()
            ],
        )
        db.session.commit()
    except Exception:  # a cache write must never break a request
        db.session.rollback()
        log.warning("could not store %d rendered fragment(s)", len(pending), exc_info=True)
    finally:
        db.session.remove()


def init_app(app) -> None:
    """Write new fragments after Flask-SQLAlchemy has removed the request's
    session (teardown functions run last-registered first, so this one goes
    to the front of the list)."""
    app.config.setdefault("PAGE_CACHE_MEMORY_CHARS", DEFAULT_MEMORY_CHARS)
    app.config.setdefault("PAGE_CACHE_DATABASE", True)

    def _write_pending(_error=None):
        write_pending()

    app.teardown_appcontext_funcs.insert(0, _write_pending)
