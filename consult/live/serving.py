"""How gunicorn's threaded workers serve live streams next to ordinary requests.

A gthread worker runs every request it accepts in a thread of its own. The
live streams need that (each one waits for minutes, without the GIL), but the
ordinary requests are better served as the sync workers served them, a few at
a time per worker: SQLite has a single writer, and 300 ballots or sign-ins
running at once in threads would queue on its lock past its busy timeout
(measured: 16 concurrent sign-ins already fail with "database is locked"),
and CPU-bound pages only slow one another down under the GIL. So streams pass
freely, and the rest wait for one of ``limit`` slots of their worker.
"""

import re
import threading

STREAM = re.compile(r"^/live/[^/]+/events$")


class OrdinaryRequests:
    """WSGI middleware: at most ``limit`` requests at once, streams apart."""

    def __init__(self, app, limit: int):
        self.app = app
        self.slots = threading.BoundedSemaphore(max(1, limit))

    def __call__(self, environ, start_response):
        if STREAM.match(environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        self.slots.acquire()
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self.slots.release()
            raise
        return _Releasing(body, self.slots.release)


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
