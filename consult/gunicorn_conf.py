"""gunicorn settings for Consult in production:
``gunicorn -c python:consult.gunicorn_conf 'consult:create_app()'``.

Chosen so that a reload (``kill -HUP``, as a deploy does) under load loses no
request and leaves none waiting: old workers finish what they accepted within
``graceful_timeout`` while new ones take the listening socket, which the
master keeps open throughout. Override any of them on the command line or with
``GUNICORN_CMD_ARGS``.
"""

import os

bind = os.environ.get("CONSULT_BIND", "0.0.0.0:8000")  # nosec B104: a server listens
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# A worker silent for this long is killed and replaced: longer than any page
# (exports over a few seconds run as jobs), shorter than a client gives up.
timeout = 30
# On reload or stop, workers finish the requests they hold for at most this long.
graceful_timeout = 20
# Sync workers behind a proxy: short keep-alive so a reload is not held up by
# idle connections.
keepalive = 2
# The heartbeat file on tmpfs where there is one: on a slow or full disk the
# master would otherwise take busy workers for dead ones.
SHARED_MEMORY = "/dev/shm"  # noqa: S108  # nosec B108: gunicorn's documented advice
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY


def post_fork(server, worker):
    """A worker never shares the master's database connections (with
    ``--preload`` they would be copied into every child and interleave)."""
    app = getattr(server.app, "callable", None)  # loaded in the master: --preload
    if app is None or not hasattr(app, "app_context"):
        return
    from .extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
