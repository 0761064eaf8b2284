from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import Base, UTCDateTime, check_in, created_at, intpk

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxEmail(Base):
    """One email to one recipient, written in the same transaction as the
    change that caused it. The database, not Redis, knows what is still to be
    sent; the unique key makes a retried job or a repeated event a no-op."""

    __tablename__ = "outbox_emails"
    __table_args__ = (CheckConstraint(check_in("status", OUTBOX_STATUSES), name="status"),)

    id: Mapped[intpk]
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(5))
    # Extra headers (List-Unsubscribe, List-Unsubscribe-Post), written by us only.
    headers: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the last attempt claimed the row: a row still "sending" long after
    # it is one whose worker died mid-send (it may or may not have gone out).
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_failed(self) -> bool:
        """Given up on after its attempts (else it was interrupted mid-send)."""
        return self.status == "failed"
