"""Sending the outbox (the mail jobs): each row claimed, sent and marked, one
SMTP connection per batch, and the relays that enqueue again the rows whose
job was lost."""

import smtplib
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry
from sqlalchemy import bindparam, or_, select, update

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue
from .models import OutboxEmail
from .transport import ConnectionLost, open_transport, refusal_is_permanent

MAX_ATTEMPTS = 5
RETRY = Retry(max=MAX_ATTEMPTS - 1, interval=[30, 120, 600, 1800])


class DeliveryIncomplete(Exception):
    """Some messages of a batch are still pending; raised so the job is retried."""


# Plain statements, built once (a batch runs them for every message): no ORM
# objects to keep in step with the rows.
_OUTBOX = OutboxEmail.__table__
_CLAIM = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("outbox_id"), _OUTBOX.c.status == "pending")
    .values(status="sending", attempts=_OUTBOX.c.attempts + 1, last_attempt_at=bindparam("now"))
    .returning(_OUTBOX.c.attempts)
)
_MARK = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("outbox_id"))
    .values(status=bindparam("status"), last_error=bindparam("error"))
)
_MARK_SENT = _MARK.values(sent_at=bindparam("sent_at"))


def _claim(outbox_id: int, now: datetime) -> int | None:
    """pending -> sending; the row's attempts so far, or None if it was not pending."""
    return db.session.connection().execute(_CLAIM, {"outbox_id": outbox_id, "now": now}).scalar()


def _finish(outbox_id: int, attempts: int, status: str, error=None) -> str:
    """Mark what became of a claimed row (not committed); returns its status."""
    if status == "pending" and attempts >= MAX_ATTEMPTS:
        status = "failed"
    values = {
        "outbox_id": outbox_id,
        "status": status,
        "error": str(error)[:2000] if error is not None else None,
    }
    if status == "sent":
        values["sent_at"] = utcnow()
    db.session.connection().execute(_MARK_SENT if status == "sent" else _MARK, values)
    return status


def deliver_many(outbox_ids) -> dict[int, str]:
    """Send these outbox rows over one SMTP connection; returns what became of
    each ("sent", "failed", "pending", or "skipped": not pending any more).

    Each row is claimed (pending → sending) just before it is sent and marked
    just after, each step committed: a worker killed mid-batch leaves at most
    one row in doubt (still "sending", shown on the failed-jobs page), and the
    retried job sends only what is still pending, so nobody gets a message
    twice. (The mark of one row and the claim of the next are one commit.) A
    permanent refusal (5xx) fails that row alone; a temporary one (4xx) or a
    lost connection leaves rows pending and raises, so the job is retried
    with backoff."""
    ids = sorted(set(outbox_ids))
    contents = _read_contents(ids)
    outcome: dict[int, str] = {}
    lost: ConnectionLost | None = None
    with open_transport() as transport:
        for outbox_id in ids:
            if lost is not None:
                outcome[outbox_id] = "pending"
                continue
            attempts = _claim(outbox_id, utcnow()) if outbox_id in contents else None
            db.session.commit()  # with the mark of the row before
            if attempts is None:
                outcome[outbox_id] = "skipped"
                continue
            outcome[outbox_id], lost = _send_claimed(transport, contents[outbox_id], attempts)
        db.session.commit()
    _raise_if_left_pending(outcome, lost)
    return outcome


def _read_contents(ids: list[int]) -> dict:
    """The rows to send by id, as plain rows: their contents never change once
    written, so they are read once."""
    contents = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        contents.update(
            (row.id, row)
            for row in db.session.execute(
                select(OutboxEmail.__table__).where(OutboxEmail.id.in_(chunk))
            )
        )
    return contents


def _send_claimed(transport, row, attempts: int) -> tuple[str, ConnectionLost | None]:
    """Send a claimed row and mark what became of it (not committed): its
    status, and the lost connection if it went away (nothing more is sent)."""
    try:
        transport.send(row)
    except ConnectionLost as error:
        return _finish(row.id, attempts, "pending", error), error
    except (smtplib.SMTPException, ValueError) as error:
        permanent = refusal_is_permanent(error)
        # A message that cannot even be written (ValueError) will not improve.
        status = "pending" if permanent is False else "failed"
        return _finish(row.id, attempts, status, error), None
    return _finish(row.id, attempts, "sent"), None


def _raise_if_left_pending(outcome: dict[int, str], lost: ConnectionLost | None) -> None:
    left = [outbox_id for outbox_id, status in outcome.items() if status == "pending"]
    if left:
        raise DeliveryIncomplete(
            f"{len(left)} of {len(outcome)} email(s) still pending" + (f": {lost}" if lost else "")
        )


def deliver(outbox_id: int) -> str:
    """Send one outbox row. Safe to call twice: only a pending row is claimed."""
    return deliver_many([outbox_id])[outbox_id]


def relay_pending(older_than: timedelta = timedelta(0)) -> int:
    """Enqueue every pending row (after Redis was down or lost its data), in batches."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.status == "pending", OutboxEmail.created_at <= cutoff)
        .order_by(OutboxEmail.id)
    ).all()
    db.session.commit()
    _enqueue_batches(list(ids))
    return len(ids)


def _enqueue_batches(ids: list[int]) -> None:
    """One sending job (one SMTP connection) per MAIL_BATCH_SIZE rows; a job of
    the same batch still queued or waiting for its retry is not enqueued twice."""
    size = current_app.config["MAIL_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        enqueue(
            "workers.mail.deliver_batch",
            batch,
            job_id=f"mail-batch-{batch[0]}-{batch[-1]}",
            queue="mail",
            retry=RETRY,
            unless_known=True,
        )


# A pending row never tried this long after it was written, or not tried again
# this long after its last attempt (longer than the longest retry interval),
# lost its job: Redis was down at the commit, or lost its data.
STALLED_NEW = timedelta(minutes=10)
STALLED_RETRY = timedelta(hours=1)


def relay_stalled(now: datetime | None = None) -> int:
    """The scheduler's relay: send again, in batches (one SMTP connection each),
    the pending rows whose job was lost. A job of the same batch that is still
    queued or waiting for its retry is not enqueued twice."""
    now = now or utcnow()
    ids = list(
        db.session.scalars(
            select(OutboxEmail.id)
            .where(
                OutboxEmail.status == "pending",
                or_(
                    OutboxEmail.last_attempt_at.is_(None)
                    & (OutboxEmail.created_at <= now - STALLED_NEW),
                    OutboxEmail.last_attempt_at <= now - STALLED_RETRY,
                ),
            )
            .order_by(OutboxEmail.id)
        )
    )
    db.session.commit()
    _enqueue_batches(ids)
    return len(ids)
