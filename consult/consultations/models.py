from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, UTCDateTime, check_in, created_at, intpk
from ..forums.models import Forum
from ..plans.models import Plan

PHASE_KINDS = ("proposals", "amendments", "review", "voting", "assembly", "closed")
PHASE_STATES = ("pending", "open", "closed")
ACTIONS = ("amend", "support", "comment", "vote")

# What each kind of phase lets members do unless the facilitator says otherwise.
DEFAULT_ACTIONS = {
    "proposals": {"amend": True, "support": True, "comment": True, "vote": False},
    "amendments": {"amend": True, "support": True, "comment": True, "vote": False},
    "review": {"amend": False, "support": False, "comment": True, "vote": False},
    "voting": {"amend": False, "support": False, "comment": True, "vote": True},
    "assembly": {"amend": False, "support": False, "comment": False, "vote": True},
    "closed": {"amend": False, "support": False, "comment": False, "vote": False},
}


class Consultation(Base):
    """A plan put through a structured process: dated phases decide what members may do."""

    __tablename__ = "consultations"

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # The time zone the calendar is written in (an IANA name, e.g. America/Bogota).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    forum: Mapped[Forum] = relationship()
    plan: Mapped[Plan] = relationship()
    phases: Mapped[list["Phase"]] = relationship(
        back_populates="consultation", order_by="Phase.position", cascade="all, delete-orphan"
    )


class Phase(Base):
    __tablename__ = "consultation_phases"
    __table_args__ = (
        CheckConstraint(check_in("kind", PHASE_KINDS), name="kind"),
        CheckConstraint(check_in("state", PHASE_STATES), name="state"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_consultation_phases_due", "state", "starts_at", "ends_at"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    allow_amend: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_support: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_vote: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When members were told that the phase closes within a day (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consultation: Mapped[Consultation] = relationship(back_populates="phases")

    def allows(self, action: str) -> bool:
        return bool(getattr(self, f"allow_{action}"))

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"
