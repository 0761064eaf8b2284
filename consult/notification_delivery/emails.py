"""Notifications by email, following each member's preferences: which of the
ways below a notification takes is decided by ``preferences.email_frequency``
(per forum and topic, with follows and mutes), for a whole batch at once.

- **immediately**: the rows a transaction wrote are handed, after it commits,
  to jobs of at most MAIL_BATCH_SIZE notifications; each job renders its batch
  in each recipient's language, adds it to the outbox (one row per
  notification, key ``notification:<id>``) and sends it over one SMTP
  connection.
- **daily / weekly**: the scheduler sends each member whose
  ``next_digest_at`` has come one digest of everything still waiting for them.
- **never**: nothing.

Every notification is taken by exactly one email, one digest or none, with a
conditional UPDATE of its ``email_state`` (the per-notification cursor): a
digest is never a time window, so nothing is sent twice or missed whatever the
clock, the time zone, a scheduler that was down, two schedulers at once, or
transactions that commit out of id order. A change of preference applies to
what is still waiting (``digests.change_preference``). Rendering is in
``email_rendering``.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, event, exists, or_, select, update
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.orm import Session, joinedload

from ..accounts.models import User
from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue
from ..mail import delivery as mail_delivery
from ..mail import services as mail
from ..notifications.models import Notification
from ..notifications.services import PENDING_EMAILS as _PENDING
from . import preferences
from .digests import DIGEST_PREFERENCES, plan_digests, skip_emails
from .email_rendering import render_notification_emails

log = logging.getLogger(__name__)

# Notifications still undecided this long after they were written lost their
# job (Redis was down, or lost its data): the scheduler hands them out again.
RELAY_AFTER = timedelta(minutes=10)


# --- handing new notifications to the email jobs --------------------------------


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    # SQLAlchemy also fires after_commit when a savepoint (begin_nested) is
    # released: the outer transaction, and its locks, are still open then.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = set()
    for item in pending:
        if isinstance(item, int):
            ids.add(item)
        elif (identity := inspect_instance(item).identity) is not None:
            ids.add(identity[0])
    enqueue_batches(sorted(ids))


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: what the outer transaction asked for still stands
    session.info.pop(_PENDING, None)


def enqueue_batches(notification_ids: list[int], *, unless_known: bool = False) -> int:
    """One job per MAIL_BATCH_SIZE notifications; returns the number of jobs."""
    size = current_app.config["MAIL_BATCH_SIZE"]
    batches = [notification_ids[i : i + size] for i in range(0, len(notification_ids), size)]
    for batch in batches:
        enqueue(
            "workers.notifications.email_notifications",
            batch,
            job_id=f"notification-emails-{batch[0]}-{batch[-1]}",
            queue="mail",
            retry=mail_delivery.RETRY,
            unless_known=unless_known,
        )
    return len(batches)


def relay_unemailed(now: datetime | None = None) -> int:
    """Hand out again the notifications whose job was lost; returns how many."""
    cutoff = (now or utcnow()) - RELAY_AFTER
    # Those for an email now, and those for a digest not planned yet (its job,
    # which plans it, was lost).
    frequency = preferences.email_frequency()
    unplanned = exists().where(User.id == Notification.user_id, User.next_digest_at.is_(None))
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.email_state.is_(None),
                Notification.created_at <= cutoff,
                or_(
                    frequency == "immediately",
                    frequency == "never",
                    and_(frequency.in_(DIGEST_PREFERENCES), unplanned),
                ),
            )
            .order_by(Notification.id)
        )
    )
    db.session.commit()
    if ids:
        # A job still queued, waiting for a retry or failed (for an administrator
        # to retry) is not enqueued a second time.
        enqueue_batches(ids, unless_known=True)
    return len(ids)


# --- one email per notification --------------------------------------------------


def prepare_emails(notification_ids: list[int]) -> list[int]:
    """Take the notifications of members who want an email each (the others
    wait for a digest, or need none), render them and add them to the outbox.
    Returns the ids of the notifications taken by this call."""
    frequency = preferences.email_frequency()
    taken = list(
        db.session.scalars(
            update(Notification)
            .where(
                Notification.id.in_(notification_ids),
                Notification.email_state.is_(None),
                frequency == "immediately",
            )
            .values(email_state="immediate")
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
    )
    skip_emails(Notification.id.in_(notification_ids) & (frequency == "never"))
    plan_digests(notification_ids)
    if not taken:
        return []
    rows = db.session.execute(
        select(Notification, preferences.email_reason(), preferences.followed_target())
        .options(joinedload(Notification.actor), joinedload(Notification.forum))
        .where(Notification.id.in_(taken))
        .order_by(Notification.id)
    ).all()
    notifications = [row[0] for row in rows]
    reasons = {n.id: (reason, watched_id) for n, reason, watched_id in rows}
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({n.user_id for n in notifications}))
        )
    }
    mail.add_to_outbox(render_notification_emails(notifications, users, reasons))
    return taken


def email_notifications(notification_ids: list[int]) -> dict[int, str]:
    """The job of one batch: prepare its emails (committed), then send what is
    still pending of them over one connection. Run twice, it sends nothing more."""
    ids = sorted(set(notification_ids))
    prepare_emails(ids)
    db.session.commit()
    return mail_delivery.deliver_many(mail.pending_ids([f"notification:{i}" for i in ids]))
