"""Background jobs: a Redis queue when one is available, inline as a last resort.

Jobs are enqueued only after the transaction that asked for them commits
(``enqueue_after_commit``); a job receives ids and re-reads its rows, so a job
that runs twice, or whose enqueue was lost, does no harm.
"""

import logging

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUES = ("default", "mail")
_PENDING = "consult_jobs_after_commit"


def redis_connection() -> Redis:
    app = current_app._get_current_object()
    connection = app.extensions.get("consult_redis")
    if connection is None:
        connection = Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2
        )
        app.extensions["consult_redis"] = connection
    return connection


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def _import(path: str):
    module_name, _, attr = path.rpartition(".")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def enqueue(func_path: str, *args, job_id: str, queue: str = "default", retry: Retry | None = None):
    """Run ``func_path(*args)`` in the background now (call outside a transaction).

    Returns False when Redis cannot be reached: the caller's outbox rows stay
    pending and the relay enqueues them later.
    """
    if current_app.config["JOBS_MODE"] == "inline":
        try:
            _import(func_path)(*args)
        except Exception:
            # The job's rows say what is left to do; the relay retries them.
            log.exception("Inline job %s failed", job_id)
            return False
        return True
    try:
        get_queue(queue).enqueue(
            func_path,
            *args,
            job_id=job_id,
            retry=retry,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError as error:
        log.warning("Could not enqueue %s (%s); it stays pending for the relay", job_id, error)
        return False
    return True


def enqueue_after_commit(session: Session, func_path: str, *args, job_id: str, **options) -> None:
    """Enqueue once ``session`` commits; forget it if the transaction rolls back."""
    session.info.setdefault(_PENDING, []).append((func_path, args, job_id, options))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for func_path, args, job_id, options in pending or ():
        enqueue(func_path, *args, job_id=job_id, **options)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
