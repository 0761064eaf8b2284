"""What went wrong (the failed-jobs page): emails that failed, or were left
"sending" by a worker that died mid-send, and putting one back in the queue."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue_after_commit
from .delivery import RETRY
from .models import OutboxEmail

# A row still "sending" this long after its last attempt lost its worker mid-send.
STALE_SENDING = timedelta(minutes=15)


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
