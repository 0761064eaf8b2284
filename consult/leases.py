"""Background work kept in a row (``queued`` → ``running`` → ``finished`` or
``failed``) and held by a lease, so that work whose worker died is taken up
again instead of blocking forever.

A job *claims* its row (an atomic UPDATE: a queued row, or a running one whose
lease expired) and, while it works, a heartbeat thread writes ``heartbeat_at``
every HEARTBEAT_EVERY. A row still active whose last sign of life is older than
LEASE has lost its worker (a work horse killed, a machine gone, a job lost with
Redis): the next request for it, or an administrator's retry on the failed-jobs
page, puts it back in the queue. The lease is short because the heartbeat keeps
a long job alive; it does not depend on how long the work takes.

A kind of work describes itself with a ``LeasedWork``; its model has ``id``,
``state``, ``attempts``, ``created_at``, ``started_at`` and ``heartbeat_at``.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from . import jobs
from .database import utcnow
from .extensions import db

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
# How often a running job says it is alive, and how long without a sign of life
# a row waits before it is taken from its (dead) worker.
HEARTBEAT_EVERY = timedelta(seconds=15)
LEASE = timedelta(seconds=90)

_KINDS: dict[str, "LeasedWork"] = {}


class Retry(Enum):
    """What an administrator's retry of a failed job of leased work did."""

    QUEUED = "queued"  # the row was put back in the queue and the job requeued
    FINISHED = "finished"  # the work was done meanwhile (by another run)
    BUSY = "busy"  # another run holds the lease and is alive
    GONE = "gone"  # the row no longer exists


@dataclass(frozen=True)
class LeasedWork:
    model: type
    func_path: str  # the job, e.g. "workers.exports.render_export"
    prefix: str  # of job ids: "<prefix>-<row id>-<attempts>"
    # The values, besides the state, that put a failed row back in the queue.
    reset_failed: Callable[[], dict] = dict
    queue: str = "default"
    # How long without a sign of life before the row is taken from its worker.
    lease: timedelta = LEASE

    def __post_init__(self):
        _KINDS[self.func_path] = self

    # --- asking ----------------------------------------------------------------------

    def job_id(self, row_id: int, attempts: int) -> str:
        """The id of a job enqueued when the row had ``attempts`` claims: the
        run it makes is claim number ``attempts + 1``."""
        return f"{self.prefix}-{row_id}-{attempts}"

    def enqueue(self, row) -> None:
        """Run the job for ``row`` once the current transaction commits."""
        jobs.enqueue_after_commit(
            db.session,
            self.func_path,
            row.id,
            job_id=self.job_id(row.id, row.attempts or 0),
            queue=self.queue,
        )

    def _stale(self, now):
        model = self.model
        return model.state.in_(ACTIVE) & or_(
            model.heartbeat_at.is_(None), model.heartbeat_at < now - self.lease
        )

    def is_stale(self, row) -> bool:
        """Still queued or running, with no sign of life for longer than its lease."""
        if row.state not in ACTIVE:
            return False
        return row.heartbeat_at is None or row.heartbeat_at < utcnow() - self.lease

    def take_up(self, row) -> bool:
        """If ``row`` lost its worker, put it back in the queue (its job runs
        after the commit). Returns whether it did. Safe when two requests do it
        at once, or when a worker claims the row meanwhile: the UPDATE takes a
        row only while it is still stale."""
        if not self.is_stale(row):
            return False
        now = utcnow()
        model = self.model
        taken = db.session.execute(
            update(model)
            .where(model.id == row.id, self._stale(now))
            .values(state="queued", heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(row)
        if taken:
            self.enqueue(row)
        return bool(taken)

    # --- the job ---------------------------------------------------------------------

    def claim(self, row_id: int) -> bool:
        """Take the row for this job (a queued one, or a running one whose lease
        expired) and commit. False: another run has it, or it is done."""
        now = utcnow()
        model = self.model
        claimed = db.session.execute(
            update(model)
            .where(model.id == row_id, (model.state == "queued") | self._stale(now))
            .values(state="running", started_at=now, heartbeat_at=now, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return bool(claimed)

    @contextmanager
    def heartbeat(self, row_id: int):
        """While the block runs, write ``heartbeat_at`` every HEARTBEAT_EVERY on
        a connection of its own (the job's transaction is left alone)."""
        engine, table, stop = db.engine, self.model.__table__, threading.Event()
        every = HEARTBEAT_EVERY.total_seconds()

        def beat():
            while not stop.wait(every):
                try:
                    with engine.begin() as connection:
                        connection.execute(
                            table.update()
                            .where(table.c.id == row_id, table.c.state == "running")
                            .values(heartbeat_at=utcnow())
                        )
                except Exception as error:  # the next beat tries again
                    log.warning("Heartbeat of %s %s failed: %s", self.prefix, row_id, error)

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.prefix}-{row_id}")
        thread.daemon = True
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)

    # --- an administrator's retry ----------------------------------------------------

    def retry(self, row_id, job_id: str = "") -> Retry:
        """Put the row of the failed job ``job_id`` back in the queue if its work
        is not done and nobody alive holds it; otherwise say why not. A row
        running under that very job is free: RQ saw its worker die."""
        row = db.session.get(self.model, row_id) if isinstance(row_id, int) else None
        if row is None:
            return Retry.GONE
        if row.state == "finished":
            return Retry.FINISHED
        now = utcnow()
        model = self.model
        if row.state == "failed":
            condition, values = model.state == "failed", self.reset_failed()
        elif self.is_stale(row):
            condition, values = self._stale(now), {}
        elif row.state == "running" and job_id == self.job_id(row.id, row.attempts - 1):
            condition = (model.state == "running") & (model.attempts == row.attempts)
            values = {}
        else:
            return Retry.BUSY
        try:
            with db.session.begin_nested():
                taken = db.session.execute(
                    update(model)
                    .where(model.id == row.id, condition)
                    .values(state="queued", heartbeat_at=now, **values)
                    .execution_options(synchronize_session=False)
                ).rowcount
        except IntegrityError:  # e.g. another one of the same plan is under way
            return Retry.BUSY
        db.session.commit()
        if taken:
            return Retry.QUEUED
        # Claimed, finished or deleted meanwhile.
        row = db.session.get(self.model, row_id)
        if row is None:
            return Retry.GONE
        return Retry.FINISHED if row.state == "finished" else Retry.BUSY


def kind_of(func_path: str) -> LeasedWork | None:
    return _KINDS.get(func_path)


def retry_failed_job(queue: str, job_id: str) -> Retry | bool:
    """An administrator's retry of a failed job. For leased work, the row is
    put back in the queue first (the job alone would find it still "running"
    and do nothing), or the answer says why it is not; a job whose work is
    done or gone leaves the list. Other jobs are requeued as they are (False:
    no such failed job). Raises RedisError when Redis cannot be reached."""
    job = jobs.failed_job(queue, job_id)
    if job is None:
        return False
    kind = kind_of(job.func_name or "")
    if kind is None or not job.args:
        return jobs.requeue_failed(queue, job_id)
    outcome = kind.retry(job.args[0], job_id)
    if outcome is Retry.QUEUED:
        return outcome if jobs.requeue_failed(queue, job_id) else False
    if outcome in (Retry.FINISHED, Retry.GONE):
        jobs.forget_failed(queue, job_id)
    return outcome
