"""Where a channel's events live: a capped Redis stream (``live:<channel>``)
plus a pub/sub doorbell of the same name, or, without Redis, a log in this
process's memory.

An event is ``{"id": "<ms>-<seq>", "kind": str, "data": dict}``; ids grow, so
"what came after id X" is well defined in both stores. The pub/sub message is
only a doorbell: a listener reads the stream after the last id it has sent,
so it never sends an event twice nor skips one, whatever the timing.
"""

import json
import re
import threading
import time
from collections import deque

from redis import Redis

MAXLEN = 1000  # events kept per channel (approximately, in Redis)
KEEP_SECONDS = 2 * 24 * 3600  # a channel nobody publishes on is forgotten after this
PAGE = 200  # events returned at most per read
ID_PATTERN = re.compile(r"^\d{1,20}-\d{1,20}$")

# XADD and PUBLISH in one atomic step: the doorbells ring in the order of the ids.
_APPEND = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*',
                      'kind', ARGV[1], 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[1], id)
return id
"""


def key(channel: str) -> str:
    return f"live:{channel}"


def parse_id(value: str | None) -> tuple[int, int] | None:
    if not value or not ID_PATTERN.match(value):
        return None
    ms, seq = value.split("-")
    return int(ms), int(seq)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _event(entry_id, fields: dict) -> dict:
    fields = {_text(name): _text(value) for name, value in fields.items()}
    try:
        data = json.loads(fields.get("data") or "null")
    except ValueError:
        data = None
    return {"id": _text(entry_id), "kind": fields.get("kind", "message"), "data": data}


class RedisStore:
    def __init__(self, url: str):
        self.url = url
        self.redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)
        self._append = self.redis.register_script(_APPEND)

    def append(self, channel: str, kind: str, data: dict | None) -> str:
        payload = json.dumps(data, separators=(",", ":"), default=str)
        args = [kind, payload, MAXLEN, KEEP_SECONDS * 1000]
        return _text(self._append(keys=[key(channel)], args=args))

    def after(self, channel: str, last_id: str, limit: int = PAGE) -> list[dict]:
        entries = self.redis.xrange(key(channel), min=f"({last_id}", count=limit)
        return [_event(entry_id, fields) for entry_id, fields in entries]

    def tail(self, channel: str) -> str:
        entries = self.redis.xrevrange(key(channel), count=1)
        return _text(entries[0][0]) if entries else "0-0"

    def listen(self, channel: str) -> "RedisDoorbell":
        return RedisDoorbell(self.url, key(channel))


class RedisDoorbell:
    """A pub/sub subscription of one stream's doorbell (its own connection)."""

    def __init__(self, url: str, name: str):
        self.connection = Redis.from_url(url, socket_timeout=30, socket_connect_timeout=2)
        self.pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(name)

    def wait(self, timeout: float) -> bool:
        """True when the doorbell rang within ``timeout`` seconds."""
        rang = self.pubsub.get_message(timeout=timeout) is not None
        while rang and self.pubsub.get_message(timeout=0) is not None:
            pass  # several events at once: one read of the stream serves them all
        return rang

    def close(self) -> None:
        if self.pubsub is None:
            return
        pubsub, self.pubsub = self.pubsub, None
        try:
            pubsub.close()
        finally:
            self.connection.close()


class MemoryStore:
    """The log of a single process (``consult dev`` without Redis, tests)."""

    def __init__(self):
        self.logs: dict[str, deque] = {}
        self.changed = threading.Condition()
        self.last = (0, 0)

    def _next_id(self) -> tuple[int, int]:
        now = int(time.time() * 1000)
        ms, seq = self.last
        self.last = (now, 0) if now > ms else (ms, seq + 1)
        return self.last

    def append(self, channel: str, kind: str, data: dict | None) -> str:
        payload = json.loads(json.dumps(data, default=str))
        with self.changed:
            ms, seq = self._next_id()
            event = {"id": f"{ms}-{seq}", "kind": kind, "data": payload}
            self.logs.setdefault(channel, deque(maxlen=MAXLEN)).append(event)
            self.changed.notify_all()
        return event["id"]

    def after(self, channel: str, last_id: str, limit: int = PAGE) -> list[dict]:
        since = parse_id(last_id) or (0, 0)
        with self.changed:
            events = list(self.logs.get(channel, ()))
        return [event for event in events if parse_id(event["id"]) > since][:limit]

    def tail(self, channel: str) -> str:
        with self.changed:
            events = self.logs.get(channel)
            return events[-1]["id"] if events else "0-0"

    def listen(self, channel: str) -> "MemoryDoorbell":
        return MemoryDoorbell(self, channel)


class MemoryDoorbell:
    def __init__(self, store: MemoryStore, channel: str):
        self.store = store
        self.channel = channel
        self.seen = store.tail(channel)

    def wait(self, timeout: float) -> bool:
        with self.store.changed:
            rang = self.store.changed.wait_for(
                lambda: self.store.tail(self.channel) != self.seen, timeout=timeout
            )
            self.seen = self.store.tail(self.channel)
        return bool(rang)

    def close(self) -> None:
        pass
