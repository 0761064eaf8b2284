"""gunicorn settings for Consult in production:
``gunicorn -c python:consult.gunicorn_conf 'consult:create_app()'``.

Chosen so that a reload (``kill -HUP``, as a deploy does) under load loses no
request and leaves none waiting: old workers finish what they accepted within
``graceful_timeout`` while new ones take the listening socket, which the
master keeps open throughout. Override any of them on the command line or with
``GUNICORN_CMD_ARGS``.
"""

import ctypes
import ctypes.util
import os
import signal

from .extensions import db
from .live import STOPPING
from .live.serving import OrdinaryRequests

bind = os.environ.get("CONSULT_BIND", "0.0.0.0:8000")  # nosec B104: a server listens
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Threads, not sync workers: a live page (consult/live) holds its Server-Sent
# Events stream open for minutes, and a sync worker serves one request at a
# time, so four browsers following an assembly would take every worker. A
# gthread worker gives each request a thread; a stream waits on its Redis
# socket without the GIL and holds no database connection, so hundreds of
# streams cost little (see the README, "Serving the live pages"). gevent was
# not chosen: it needs monkey-patching that psycopg 3 and RQ would have to be
# checked against, and a new dependency, for no measured gain at this scale.
worker_class = "gthread"
# Streams plus ordinary requests, per worker: 4 workers x 100 threads hold 300
# delegates' streams with room for their ballots and page loads.
threads = int(os.environ.get("GUNICORN_THREADS", "100"))
# A worker takes no more connections than it has threads: otherwise a request
# accepted by a worker whose threads all hold streams would wait minutes for
# one of them; not accepted, it waits in the listen queue for another worker.
# (post_worker_init lowers it further: its open streams and a few more.)
worker_connections = threads
# A worker silent for this long is killed and replaced: longer than any page
# (exports over a few seconds run as jobs), shorter than a client gives up.
timeout = 30
# On reload or stop, workers finish the requests they hold for at most this long.
graceful_timeout = 20
# No keep-alive: an idle kept-alive connection would hold one of the worker's
# connection slots (see worker_connections) that a stream or a ballot needs,
# and a reload is held up by none. A stream cut by a reload is resumed by the
# browser, which catches up on what it missed (consult/live).
keepalive = 0
# The heartbeat file on tmpfs where there is one: on a slow or full disk the
# master would otherwise take busy workers for dead ones.
SHARED_MEMORY = "/dev/shm"  # noqa: S108  # nosec B108: gunicorn's documented advice
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY


def _tune_malloc() -> None:
    """glibc gives each thread that allocates its own arena (up to 8 per
    core), and keeps freed memory there: every thread that once checked a
    password keeps Argon2's 19 MiB (measured: 300 sign-ins took a worker of
    100 threads from 90 to 410 MB). Two arenas, and blocks of 4 MiB or more
    always returned to the system, keep a worker near a sync worker's size."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, 2)  # M_ARENA_MAX
        libc.mallopt(-3, 4 * 1024 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass  # not glibc: its allocator has its own ways


def post_fork(server, worker):
    """A worker never shares the master's database connections (with
    ``--preload`` they would be copied into every child and interleave)."""
    _tune_malloc()
    app = getattr(server.app, "callable", None)  # loaded in the master: --preload
    if app is None or not hasattr(app, "app_context"):
        return

    with app.app_context():
        db.engine.dispose(close=False)


# Ordinary requests (all but the live streams) served at once by a worker: as
# many as the sync workers did. More threads do not make SQLite write faster
# and queue them on its lock (see consult/live/serving.py).
request_concurrency = int(os.environ.get("CONSULT_REQUEST_CONCURRENCY", "1"))
# …except the assembly's actions (the chair's console, a delegate's check-in or
# request to speak: POSTs under a session), which have a lane of their own per
# worker: a click that moves the meeting on does not wait behind its ballots.
priority_requests = os.environ.get(
    "CONSULT_PRIORITY_REQUESTS", r"^POST /forums/[^/]+/assembly/\d+/"
)


def post_worker_init(worker):
    """Streams apart, a worker serves ``request_concurrency`` requests at a
    time. A stopping worker (reload or stop: SIGTERM) first ends its live
    streams (consult/live), so that it exits within a second instead of
    holding them for ``graceful_timeout``; their browsers reconnect to a new
    worker and catch up on what they missed."""

    def accept_for(streams: int) -> None:
        # The worker accepts connections for its streams and a few ordinary
        # requests more; the other requests wait in the listen queue, shared
        # by all workers in order of arrival, as they did for sync workers
        # (accepted, 100 sign-ins queued in one worker waited past 60 s).
        worker.worker_connections = min(threads, streams + request_concurrency + 3)

    accept_for(0)
    worker.wsgi = OrdinaryRequests(
        worker.wsgi, request_concurrency, priority_requests, on_streams=accept_for
    )

    handler = signal.getsignal(signal.SIGTERM)

    def stop(signum, frame):
        STOPPING.set()
        if callable(handler):
            handler(signum, frame)

    signal.signal(signal.SIGTERM, stop)
