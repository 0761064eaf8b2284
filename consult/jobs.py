"""Background jobs: a Redis queue when one is available, inline as a last resort.

Jobs are enqueued only after the transaction that asked for them commits
(``enqueue_after_commit``); a job receives ids and re-reads its rows, so a job
that runs twice, or whose enqueue was lost, does no harm.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
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


# A job in one of these states will still run, or waits for an administrator.
_KNOWN_STATES = {"queued", "started", "scheduled", "deferred", "failed"}


def enqueue(
    func_path: str,
    *args,
    job_id: str,
    queue: str = "default",
    retry: Retry | None = None,
    unless_known: bool = False,
):
    """Run ``func_path(*args)`` in the background now (call outside a transaction).

    Returns False when Redis cannot be reached: the caller's outbox rows stay
    pending and the relay enqueues them later. With ``unless_known``, a job of
    the same id that is still to run (or failed) is left alone.
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
        if unless_known and _known(job_id):
            return True
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


def _known(job_id: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in _KNOWN_STATES


def enqueue_after_commit(session: Session, func_path: str, *args, job_id: str, **options) -> None:
    """Enqueue once ``session`` commits; forget it if the transaction rolls back."""
    session.info.setdefault(_PENDING, []).append((func_path, args, job_id, options))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    # SQLAlchemy also fires after_commit when a savepoint (begin_nested) is
    # released: the outer transaction, and its locks, are still open then.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    for func_path, args, job_id, options in pending or ():
        enqueue(func_path, *args, job_id=job_id, **options)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: what the outer transaction asked for still stands
    session.info.pop(_PENDING, None)


# --- failed jobs (for platform administrators) ------------------------------------


@dataclass
class FailedJob:
    queue: str
    id: str
    function: str
    arguments: str
    error: str
    failed_at: datetime | None


def uses_redis() -> bool:
    config = current_app.config
    return config["JOBS_MODE"] != "inline" and bool(config["REDIS_URL"])


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def failed_jobs(limit: int = 100) -> list[FailedJob] | None:
    """The failed jobs of every queue, newest first; None when jobs do not run
    through Redis. Raises RedisError when Redis cannot be reached."""
    if not uses_redis():
        return None
    connection = redis_connection()
    found = []
    for name in QUEUES:
        ids = FailedJobRegistry(name, connection=connection).get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=connection):
            if job is None:
                continue
            result = job.latest_result()
            arguments = ", ".join(repr(argument) for argument in job.args)
            found.append(
                FailedJob(
                    queue=name,
                    id=job.id,
                    function=job.func_name or "",
                    arguments=arguments if len(arguments) <= 120 else arguments[:119] + "…",
                    error=_last_line(result.exc_string if result else None),
                    failed_at=job.ended_at,
                )
            )
    found.sort(key=lambda job: job.failed_at.timestamp() if job.failed_at else 0, reverse=True)
    return found[:limit]


def failed_job(queue: str, job_id: str) -> Job | None:
    """The failed job of this id in this queue, if there is one."""
    if queue not in QUEUES or not uses_redis():
        return None
    connection = redis_connection()
    if job_id not in FailedJobRegistry(queue, connection=connection):
        return None
    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


def forget_failed(queue: str, job_id: str) -> None:
    """Take a failed job off the list (its work was done by another run)."""
    if queue in QUEUES and uses_redis():
        FailedJobRegistry(queue, connection=redis_connection()).remove(job_id, delete_job=True)


def requeue_failed(queue: str, job_id: str) -> bool:
    """Run a failed job again; False if there is no such failed job."""
    if queue not in QUEUES or not uses_redis():
        return False
    registry = FailedJobRegistry(queue, connection=redis_connection())
    try:
        registry.requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        return False
    return True
