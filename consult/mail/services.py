"""The outbox: emails rendered in the recipient's language and written to it,
to be sent by a job once the transaction commits (see ``delivery``). In
development (MAIL_BACKEND=log) each message is written to ``instance/mail/``
instead of being sent (see ``transport``).
"""

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue, enqueue_after_commit
from ..timezones import recipients_zone
from .delivery import RETRY
from .models import OutboxEmail


def render_email(locale: str, template: str, **context) -> dict:
    """Subject, text and HTML of ``templates/emails/<template>.*`` in ``locale``."""
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
