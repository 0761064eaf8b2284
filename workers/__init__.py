"""RQ jobs. Each is a thin wrapper: open an app context, call a service."""

import os
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None
# The process each app's connection pool belongs to: a work horse forked by
# the RQ worker must open its own connections, never reuse its parent's.
_pool_owner: dict[int, int] = {}


def _worker_app() -> Flask:
    global _app
    if _app is None:
        from consult import create_app

        _app = create_app()
    return _app


def _own_pool(app: Flask) -> None:
    pid = os.getpid()
    owner = _pool_owner.setdefault(id(app), pid)
    if owner != pid:
        from consult.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
        _pool_owner[id(app)] = pid


@contextmanager
def app_context():
    """A fresh app context (and so a fresh database session) for one job."""
    app = current_app._get_current_object() if has_app_context() else _worker_app()
    _own_pool(app)
    with app.app_context():
        yield app
