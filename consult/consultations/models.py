from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk
from ..forums.models import Forum
from ..labels import LabelledEnum, label
from ..plans.models import Plan


class PhaseKind(LabelledEnum):
    PROPOSALS = "proposals", _l("Proposals and comments")
    AMENDMENTS = "amendments", _l("Amendments")
    REVIEW = "review", _l("Review")
    VOTING = "voting", _l("Voting")
    ASSEMBLY = "assembly", _l("Assembly")
    CLOSED = "closed", _l("Closed")


class PhaseState(LabelledEnum):
    PENDING = "pending", _l("to come")
    OPEN = "open", _l("open now")
    CLOSED = "closed", _l("closed")


class PhaseAction(LabelledEnum):
    """What a phase may let members do (its ``allow_*`` columns)."""

    AMEND = "amend", _l("propose amendments")
    SUPPORT = "support", _l("support amendments")
    COMMENT = "comment", _l("comment on the plan")
    VOTE = "vote", _l("vote")


PHASE_KINDS = tuple(member.value for member in PhaseKind)
PHASE_STATES = tuple(member.value for member in PhaseState)
ACTIONS = tuple(member.value for member in PhaseAction)

# What each kind of phase lets members do unless the facilitator says otherwise.
DEFAULT_ACTIONS = {
    "proposals": {"amend": True, "support": True, "comment": True, "vote": False},
    "amendments": {"amend": True, "support": True, "comment": True, "vote": False},
    "review": {"amend": False, "support": False, "comment": True, "vote": False},
    "voting": {"amend": False, "support": False, "comment": True, "vote": True},
    "assembly": {"amend": False, "support": False, "comment": False, "vote": True},
    "closed": {"amend": False, "support": False, "comment": False, "vote": False},
}


# How a plan's consultations are named in turn ("Second reading"); later ones
# are "Reading %(number)d".
READING_LABELS = {
    1: _l("First reading"),
    2: _l("Second reading"),
    3: _l("Third reading"),
    4: _l("Fourth reading"),
}
_READING_N = _l("Reading %(number)d")


def reading_label(number: int) -> str:
    label = READING_LABELS.get(number)
    return str(label) if label is not None else str(_READING_N) % {"number": number}


class Consultation(Base):
    """A plan put through a structured process: dated phases decide what members may do.

    A plan may go through several consultations over time (a first reading,
    then a second one on the revised text), one after the other: ``number``
    counts them, and a new one starts only once every phase of the previous
    one is closed (``readings.start_refusal``)."""

    __tablename__ = "consultations"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    # 1 for the plan's first consultation (first reading), 2 for the next…
    number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
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

    @property
    def is_over(self) -> bool:
        """Every phase has closed: nothing more happens in this consultation."""
        return all(phase.is_closed for phase in self.phases)

    @property
    def reading_label(self) -> str:
        """The reading it is ("First reading", "Second reading"…), translated."""
        return reading_label(self.number)


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
    kind: Mapped[PhaseKind] = mapped_column(LabelledEnumString(PhaseKind, 12))
    title: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    allow_amend: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_support: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_vote: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[PhaseState] = mapped_column(
        LabelledEnumString(PhaseState, 8), default=PhaseState.PENDING
    )
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When members were told that the phase closes within a day (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consultation: Mapped[Consultation] = relationship(back_populates="phases")

    @property
    def shown_title(self) -> str:
        """Its title, or else its kind, in the reader's language."""
        return self.title or label(self.kind, PhaseKind)

    def allows(self, action: str) -> bool:
        return bool(getattr(self, f"allow_{action}"))

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"
