from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, check_in, created_at, intpk

# How a notification went (or did not go) out by email: its own email, a line
# in a digest, or none (the member wanted none). NULL: not decided yet.
EMAIL_STATES = ("immediate", "digest", "skipped")


class Notification(Base):
    """Something a member should know about, shown in the app and, by the
    member's preference, emailed (see ``emails``).

    ``email_state`` is the exact window of the email digests: a notification
    is taken by one email or one digest with a conditional UPDATE, so none is
    sent twice or missed, whatever the clock, the time zone or the order in
    which transactions commit."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_email_state_user", "email_state", "user_id"),
        CheckConstraint(check_in("email_state", EMAIL_STATES), name="email_state"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    forum_id: Mapped[int | None] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[created_at]
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_state: Mapped[str | None] = mapped_column(String(10))

    actor = relationship("User", foreign_keys=[actor_id])
    forum = relationship("Forum")


# The values of the two tables below (their labels: ``preferences.Topic``,
# ``preferences.Frequency``, ``preferences.Watch``).
TOPICS = ("my_amendments", "group_sections", "replies_mentions", "phases_votes")
FREQUENCIES = ("immediately", "daily", "weekly", "never")
WATCH_TARGETS = ("amendment", "thread")
WATCH_STATES = ("follow", "mute")


class NotificationPreference(Base):
    """How often a member wants the notifications of one topic in one forum by
    email. No row: the default (``preferences.default_frequency``)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "forum_id", "topic"),
        CheckConstraint(check_in("topic", TOPICS), name="topic"),
        CheckConstraint(check_in("frequency", FREQUENCIES), name="frequency"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(12))


class NotificationWatch(Base):
    """A member follows or mutes one amendment or one comment thread (its
    top-level comment's id): a follow brings its notifications even when the
    topic's frequency is "never"; a mute keeps them out of every email."""

    __tablename__ = "notification_watches"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        Index("ix_notification_watches_target", "target_type", "target_id"),
        CheckConstraint(check_in("target_type", WATCH_TARGETS), name="target_type"),
        CheckConstraint(check_in("state", WATCH_STATES), name="state"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[created_at]
