"""The mail layer: outbox rows rendered in the recipient's language, and delivery.

In development (MAIL_BACKEND=log) messages are written to the log and to
``instance/mail/``; in production (MAIL_BACKEND=smtp) they go through MAIL_*.
"""

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from rq import Retry
from sqlalchemy import select, update

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue, enqueue_after_commit
from .models import OutboxEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_RETRY = Retry(max=MAX_ATTEMPTS - 1, interval=[30, 120, 600, 1800])


def queue_email(key: str, recipient: str, locale: str, template: str, **context) -> OutboxEmail:
    """Render ``templates/emails/<template>.{txt,html}`` in ``locale`` and add it to
    the outbox (once per key). It is sent after the surrounding transaction commits."""
    existing = db.session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key == key))
    if existing is not None:
        return existing
    with force_locale(locale):
        subject = render_template(f"emails/{template}.subject.txt", **context).strip()
        body_text = render_template(f"emails/{template}.txt", **context)
        body_html = render_template(f"emails/{template}.html", **context)
    message = OutboxEmail(
        idempotency_key=key,
        recipient=recipient,
        subject=" ".join(subject.split()),
        body_text=body_text,
        body_html=body_html,
        locale=locale,
    )
    db.session.add(message)
    db.session.flush()
    enqueue_after_commit(
        db.session,
        "workers.mail.deliver_email",
        message.id,
        job_id=f"mail-{message.id}",
        queue="mail",
        retry=_RETRY,
    )
    return message


def _build(message: OutboxEmail) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}", domain="consult.local")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def _send(email: EmailMessage) -> None:
    config = current_app.config
    if config["MAIL_BACKEND"] == "log":
        folder = Path(config["INSTANCE_DIR"]) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        name = email["Message-ID"].strip("<>").split("@")[0] + ".eml"
        (folder / name).write_bytes(bytes(email))
        log.info(
            "Email to %s: %s\n%s",
            email["To"],
            email["Subject"],
            email.get_body(("plain",)).get_content(),
        )
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(
        config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
    ) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)


def deliver(outbox_id: int) -> str:
    """Send one outbox row. Safe to call twice: only a pending row is claimed."""
    claimed = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.status == "pending")
        .values(status="sending", attempts=OutboxEmail.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    message = db.session.get(OutboxEmail, outbox_id)
    try:
        _send(_build(message))
    except smtplib.SMTPRecipientsRefused as error:
        # A permanent refusal of this address: retrying would not help.
        message.status, message.last_error = "failed", str(error)[:2000]
        db.session.commit()
        return "failed"
    except (OSError, smtplib.SMTPException) as error:
        message.last_error = str(error)[:2000]
        message.status = "failed" if message.attempts >= MAX_ATTEMPTS else "pending"
        db.session.commit()
        raise
    message.status, message.sent_at, message.last_error = "sent", utcnow(), None
    db.session.commit()
    return "sent"


def relay_pending(older_than: timedelta = timedelta(0)) -> int:
    """Enqueue every pending row (after Redis was down or lost its data)."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(
        select(OutboxEmail.id).where(
            OutboxEmail.status == "pending", OutboxEmail.created_at <= cutoff
        )
    ).all()
    for outbox_id in ids:
        enqueue(
            "workers.mail.deliver_email",
            outbox_id,
            job_id=f"mail-{outbox_id}",
            queue="mail",
            retry=_RETRY,
        )
    return len(ids)
