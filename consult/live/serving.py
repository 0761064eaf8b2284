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

STREAM = re.compile(r"^/live/[^/]+/events$")


class OrdinaryRequests:
    """WSGI middleware: at most ``limit`` requests at once, streams apart."""

    def __init__(self, app, limit: int, priority: str = "", priority_limit: int = 1):
        self.app = app
        self.slots = threading.BoundedSemaphore(max(1, limit))
        self.priority = re.compile(priority) if priority else None
        self.priority_slots = threading.BoundedSemaphore(max(1, priority_limit))

    def _lane(self, environ) -> threading.BoundedSemaphore | None:
        path = environ.get("PATH_INFO", "")
        if STREAM.match(path):
            return None
        if self.priority and self.priority.match(f"{environ.get('REQUEST_METHOD')} {path}"):
            return self.priority_slots
        return self.slots

    def __call__(self, environ, start_response):
        lane = self._lane(environ)
        if lane is None:
            return self.app(environ, start_response)
        lane.acquire()
        try:
            body = self.app(environ, start_response)
        except BaseException:
            lane.release()
            raise
        return _Releasing(body, lane.release)


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
