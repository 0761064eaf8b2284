"""RQ jobs. Each is a thin wrapper: open an app context, call a service."""

import os
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None
_app_pid: int | None = None


def _worker_app() -> Flask:
    """One app per process; a forked work horse gets its own database pool."""
    global _app, _app_pid
    if _app is None:
        from consult import create_app

        _app, _app_pid = create_app(), os.getpid()
    elif _app_pid != os.getpid():
        from consult.extensions import db

        with _app.app_context():
            db.engine.dispose(close=False)
        _app_pid = os.getpid()
    return _app


@contextmanager
def app_context():
    """A fresh app context (and so a fresh database session) for one job."""
    app = current_app._get_current_object() if has_app_context() else _worker_app()
    with app.app_context():
        yield app
