"""The mail layer: outbox rows rendered in the recipient's language, and delivery.

In development (MAIL_BACKEND=log) each message is written to ``instance/mail/``
and summarised in one line of the log; in production (MAIL_BACKEND=smtp) they go through MAIL_*.
"""

import logging
import smtplib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from rq import Retry
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue, enqueue_after_commit
from . import wire
from .models import OutboxEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY = Retry(max=MAX_ATTEMPTS - 1, interval=[30, 120, 600, 1800])
# A row still "sending" this long after its last attempt lost its worker mid-send.
STALE_SENDING = timedelta(minutes=15)


def render_email(locale: str, template: str, **context) -> dict:
    """Subject, text and HTML of ``templates/emails/<template>.*`` in ``locale``."""
    from ..timezones import recipients_zone

    # Its dates in the recipient's time zone (``user`` in the context: an
    # invitation, a password reset, …), in the forum's when they chose none.
    with force_locale(locale), recipients_zone(context.get("user"), context.get("forum")):
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        body_text = render_template(f"emails/{template}.txt", **context)
        body_html = render_template(f"emails/{template}.html", **context)
    return {
        "subject": " ".join(subject.split())[:300],
        "body_text": body_text,
        "body_html": body_html,
        "locale": locale,
    }


def queue_email(key: str, recipient: str, locale: str, template: str, **context) -> OutboxEmail:
    """Render ``templates/emails/<template>.{txt,html}`` in ``locale`` and add it to
    the outbox (once per key). It is sent after the surrounding transaction commits."""
    existing = db.session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key == key))
    if existing is not None:
        return existing
    message = OutboxEmail(
        idempotency_key=key, recipient=recipient, **render_email(locale, template, **context)
    )
    db.session.add(message)
    db.session.flush()
    enqueue_after_commit(
        db.session,
        "workers.mail.deliver_email",
        message.id,
        job_id=f"mail-{message.id}",
        queue="mail",
        retry=RETRY,
    )
    return message


def add_to_outbox(messages: list[dict]) -> list[int]:
    """Insert many rendered messages at once (dicts with the idempotency_key,
    recipient, subject, bodies, locale and headers); a key already in the outbox
    is left as it is, so a job that runs twice adds nothing the second time.
    Returns the ids of the rows with these keys that are still to be sent."""
    if not messages:
        return []
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [{"status": "pending", "attempts": 0, "created_at": now, **m} for m in messages]
    db.session.execute(
        insert(OutboxEmail.__table__).on_conflict_do_nothing(index_elements=["idempotency_key"]),
        rows,
    )
    return pending_ids([m["idempotency_key"] for m in messages])


def pending_ids(keys: list[str]) -> list[int]:
    if not keys:
        return []
    return list(
        db.session.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.idempotency_key.in_(keys), OutboxEmail.status == "pending")
            .order_by(OutboxEmail.id)
        )
    )


def _message_id(outbox_id: int) -> str:
    return make_msgid(idstring=f"outbox{outbox_id}", domain="consult.local")


def _build(message: OutboxEmail) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = _message_id(message.id)
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _write_to_log(email: EmailMessage) -> None:
    folder = Path(current_app.config["INSTANCE_DIR"]) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    name = email["Message-ID"].strip("<>").split("@")[0] + ".eml"
    path = folder / name
    path.write_bytes(bytes(email))
    # One line: the message itself (its links too) is in the file.
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    log.info("Email to %s: %s → %s", email["To"], email["Subject"], shown)


class ConnectionLost(Exception):
    """The SMTP server could not be reached, or went away: nothing more can be
    sent over this connection."""


class DeliveryIncomplete(Exception):
    """Some messages of a batch are still pending; raised so the job is retried."""


class _Transport:
    """One SMTP connection for many messages, opened at the first one."""

    def __init__(self, config):
        self.config = config
        self.smtp = None
        self.sender = config["MAIL_DEFAULT_SENDER"]
        self.envelope_sender = parseaddr(self.sender)[1]

    def _connect(self):
        config = self.config
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        smtp = smtp_class(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        )
        try:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message) -> None:
        """Send an outbox row (or anything with its columns): over the SMTP
        connection, opened at the first message and kept for the next ones."""
        if self.config["MAIL_BACKEND"] == "log":
            _write_to_log(_build(message))
            return
        raw = wire.encode(
            sender=self.sender,
            recipient=message.recipient,
            subject=message.subject,
            message_id=_message_id(message.id),
            headers=message.headers,
            body_text=message.body_text,
            body_html=message.body_html,
        )
        email = _build(message) if raw is None else None
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            if raw is None:
                self.smtp.send_message(email)
            else:
                self.smtp.sendmail(self.envelope_sender, [message.recipient], raw)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError):
            raise  # about this message; the connection is still good
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise ConnectionLost(str(error) or type(error).__name__) from error

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None


@contextmanager
def _transport():
    transport = _Transport(current_app.config)
    try:
        yield transport
    finally:
        transport.close()


def _refusal(error: Exception) -> bool | None:
    """Whether an SMTP refusal is permanent (5xx: do not retry), temporary (4xx),
    or None when the error is not a refusal of this message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return None


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
    # The rows' contents never change once written: read once, as plain rows.
    contents = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        contents.update(
            (row.id, row)
            for row in db.session.execute(
                select(OutboxEmail.__table__).where(OutboxEmail.id.in_(chunk))
            )
        )
    outcome: dict[int, str] = {}
    lost: ConnectionLost | None = None
    with _transport() as transport:
        for outbox_id in ids:
            if lost is not None:
                outcome[outbox_id] = "pending"
                continue
            attempts = _claim(outbox_id, utcnow()) if outbox_id in contents else None
            db.session.commit()  # with the mark of the row before
            if attempts is None:
                outcome[outbox_id] = "skipped"
                continue
            try:
                transport.send(contents[outbox_id])
            except ConnectionLost as error:
                lost = error
                status = _finish(outbox_id, attempts, "pending", error)
            except (smtplib.SMTPException, ValueError) as error:
                permanent = _refusal(error)
                # A message that cannot even be written (ValueError) will not improve.
                status = "pending" if permanent is False else "failed"
                status = _finish(outbox_id, attempts, status, error)
            else:
                status = _finish(outbox_id, attempts, "sent")
            outcome[outbox_id] = status
        db.session.commit()
    left = [outbox_id for outbox_id, status in outcome.items() if status == "pending"]
    if left:
        raise DeliveryIncomplete(
            f"{len(left)} of {len(outcome)} email(s) still pending" + (f": {lost}" if lost else "")
        )
    return outcome


def deliver(outbox_id: int) -> str:
    """Send one outbox row. Safe to call twice: only a pending row is claimed."""
    return deliver_many([outbox_id])[outbox_id]


def enqueue_delivery(outbox_ids: list[int], *, after_commit: bool = True) -> None:
    """Send these rows in one job (one SMTP connection), once the transaction commits."""
    if not outbox_ids:
        return
    ids = sorted(outbox_ids)
    options = {"job_id": f"mail-batch-{ids[0]}-{ids[-1]}", "queue": "mail", "retry": RETRY}
    if after_commit:
        enqueue_after_commit(db.session, "workers.mail.deliver_batch", ids, **options)
    else:
        enqueue("workers.mail.deliver_batch", ids, **options)


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


# --- what went wrong (the failed-jobs page) ------------------------------------


@dataclass
class FailedEmailPage:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _needs_attention(now: datetime):
    """Failed rows, and rows left "sending" by a worker that died mid-send."""
    return or_(
        OutboxEmail.status == "failed",
        (OutboxEmail.status == "sending") & (OutboxEmail.last_attempt_at < now - STALE_SENDING),
    )


def failed_emails(*, page: int = 1, per_page: int = 50, now: datetime | None = None):
    condition = _needs_attention(now or utcnow())
    total = db.session.scalar(select(func.count()).select_from(OutboxEmail).where(condition))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        select(OutboxEmail)
        .where(condition)
        .order_by(OutboxEmail.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return FailedEmailPage(list(items), page, per_page, total)


def retry_email(outbox_id: int, now: datetime | None = None) -> bool:
    """Put a failed (or stuck) email back in the queue; sent after the commit.
    False if it is not one that needs attention (sent meanwhile, or unknown)."""
    retried = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, _needs_attention(now or utcnow()))
        .values(status="pending", attempts=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    if retried:
        enqueue_after_commit(
            db.session,
            "workers.mail.deliver_email",
            outbox_id,
            job_id=f"mail-{outbox_id}",
            queue="mail",
            retry=RETRY,
        )
    return bool(retried)
