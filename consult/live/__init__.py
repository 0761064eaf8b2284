"""Live pages: events on channels such as ``assembly:12``, sent to browsers as
Server-Sent Events (with a polling fallback) the moment the transaction that
caused them commits.

    from consult import live
    live.register_channel("assembly", lambda user, key: can_follow(user, int(key)))
    live.publish("assembly:12", "point_changed", {"point": 3})

With Redis (``REDIS_URL``) every event goes into a capped stream
``live:<channel>`` (XADD MAXLEN ~ 1000; its id is the event's id) and rings a
pub/sub doorbell of the same name, so every worker process hears it. Without
Redis the log is kept in this process's memory: right for ``consult dev``
(one process, threads) and the tests, not for several gunicorn workers.
"""

import logging
import threading
from collections.abc import Callable

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .store import MemoryStore, RedisStore, parse_id

log = logging.getLogger(__name__)

_PENDING = "consult_live_after_commit"
_CHANNELS: dict[str, Callable] = {}
# Set when this process stops (gunicorn_conf's worker hook): every stream ends
# within a second, and its browser reconnects to a worker that stays.
STOPPING = threading.Event()


def register_channel(prefix: str, authorize: Callable[[object, str], bool]) -> None:
    """Channels ``<prefix>:<key>`` may be followed by the users for whom
    ``authorize(user, key)`` is true (checked once, when a stream opens)."""
    if not prefix or ":" in prefix:
        raise ValueError(f"a channel prefix is a word without ':' ({prefix!r})")
    _CHANNELS[prefix] = authorize


def authorizer(channel: str) -> tuple[Callable, str] | None:
    """The channel's authorisation and key; None for an unknown prefix."""
    prefix, colon, channel_key = channel.partition(":")
    authorize = _CHANNELS.get(prefix)
    if authorize is None or not colon or not channel_key:
        return None
    return authorize, channel_key


def store():
    """This application's event log: Redis when configured, else memory."""
    app = current_app._get_current_object()
    url = app.config.get("REDIS_URL") or ""
    current = app.extensions.get("consult_live")
    if current is None or getattr(current, "url", "") != url:
        current = RedisStore(url) if url else MemoryStore()
        current.url = url
        app.extensions["consult_live"] = current
    return current


def publish(channel: str, kind: str, data: dict | None = None) -> None:
    """Send an event to the channel's followers once the current transaction
    commits (now, when none is open); dropped if it rolls back. Never raises
    because Redis is down: the event is lost, pages catch up on the next one."""
    if ":" not in channel:
        raise ValueError(f"a channel is '<prefix>:<key>' ({channel!r})")

    session = db.session() if has_app_context() else None
    if session is not None and session.in_transaction():
        session.info.setdefault(_PENDING, []).append((channel, kind, data))
        return
    _send(channel, kind, data)


def _send(channel: str, kind: str, data: dict | None) -> str | None:
    try:
        return store().append(channel, kind, data)
    except (RedisError, OSError) as error:
        log.warning("Live event %s on %s not sent (%s)", kind, channel, error)
        return None


def last_id(channel: str) -> str:
    """The id of the channel's latest event ("0-0" if none; "" if Redis is
    down): give it to the page (``data-live-last-id``) so that its stream
    starts exactly where the page's content stops."""
    try:
        return store().tail(channel)
    except (RedisError, OSError) as error:
        log.warning("Live channel %s unreadable (%s)", channel, error)
        return ""


@event.listens_for(Session, "after_commit")
def _publish_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction is still open
    for channel, kind, data in session.info.pop(_PENDING, None) or ():
        _send(channel, kind, data)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_PENDING, None)


__all__ = ["STOPPING", "last_id", "parse_id", "publish", "register_channel", "store"]
