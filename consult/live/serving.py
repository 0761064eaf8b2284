"""How gunicorn's threaded workers serve live streams next to ordinary requests.

A gthread worker runs every request it accepts in a thread of its own. The
live streams need that (each one waits for minutes, without the GIL), but the
ordinary requests are better served as the sync workers served them, a few at
a time per worker: SQLite has a single writer, and 300 ballots or sign-ins
running at once in threads would queue on its lock past its busy timeout
(measured: 16 concurrent sign-ins already fail with "database is locked"),
and CPU-bound pages only slow one another down under the GIL. So streams pass
freely, and the rest wait for one of ``limit`` slots of their worker.

Requests matching ``priority`` ("METHOD /path", e.g. the chair's actions) have
a lane of their own, so that closing a vote does not wait behind the 300
ballots it closes.
"""

import re
import threading
from collections import deque

STREAM = re.compile(r"^/live/[^/]+/events$")


class OrdinaryRequests:
    """WSGI middleware: at most ``limit`` requests at once, streams apart."""

    def __init__(
        self, app, limit: int, priority: str = "", priority_limit: int = 1, on_streams=None
    ):
        self.app = app
        self.streams = 0
        self.on_streams = on_streams  # told the number of open streams when it changes
        self.counting = threading.Lock()
        self.slots = FairSlots(limit)
        self.priority = re.compile(priority) if priority else None
        self.priority_slots = FairSlots(priority_limit)

    def _lane(self, environ) -> "FairSlots | None":
        path = environ.get("PATH_INFO", "")
        if STREAM.match(path):
            return None
        if self.priority and self.priority.match(f"{environ.get('REQUEST_METHOD')} {path}"):
            return self.priority_slots
        return self.slots

    def _streams(self, change: int) -> None:
        with self.counting:
            self.streams += change
            if self.on_streams is not None:
                self.on_streams(self.streams)

    def __call__(self, environ, start_response):
        lane = self._lane(environ)
        if lane is None:
            self._streams(+1)
            try:
                body = self.app(environ, start_response)
            except BaseException:
                self._streams(-1)
                raise
            return _Releasing(body, lambda: self._streams(-1))
        lane.acquire()
        try:
            body = self.app(environ, start_response)
        except BaseException:
            lane.release()
            raise
        return _Releasing(body, lane.release)


class FairSlots:
    """A semaphore that serves its waiters in their order of arrival (a sync
    worker's listen queue does; threading.Semaphore lets a newcomer overtake,
    and in a burst of 300 sign-ins some waited past the clients' timeout)."""

    def __init__(self, slots: int):
        self.free = max(1, slots)
        self.lock = threading.Lock()
        self.waiting: deque = deque()

    def acquire(self) -> None:
        with self.lock:
            if self.free and not self.waiting:
                self.free -= 1
                return
            gate = threading.Lock()
            gate.acquire()
            self.waiting.append(gate)
        gate.acquire()  # opened by release(), which hands its slot over

    def release(self) -> None:
        with self.lock:
            if self.waiting:
                self.waiting.popleft().release()
            else:
                self.free += 1


class _Releasing:
    """A response body that frees its slot once sent (or abandoned)."""

    def __init__(self, body, release):
        self.body = body
        self.release = release

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            release, self.release = self.release, None
            if release is not None:
                release()
