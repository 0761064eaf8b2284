"""The assembly in session: its agenda, the roll call and the list of speakers.

Statuses are labelled enumerations (``consult.labels``) stored as short strings
with check constraints and read back as members: code compares members and
templates print ``|label``; none compares status strings.
The minutes (``minutes_json``, ``minutes_signed_*``) are written by
``consult.assembly.minutes``; this module only declares them.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..amendments.models import Amendment
from ..consultations.models import Consultation
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk
from ..forums.models import Coalition, Forum
from ..labels import LabelledEnum
from ..plans.models import Plan
from ..votes.models import QUORUM_BASES, QUORUM_KINDS, RULES
from . import wording

RANKED_METHODS = ("irv", "schulze")


class SessionState(LabelledEnum):
    SCHEDULED = "scheduled", _l("Scheduled")
    IN_SESSION = "in_session", _l("In session")
    ADJOURNED = "adjourned", _l("Adjourned")


class PointKind(LabelledEnum):
    AMENDMENTS = "amendments", _l("Amendments")
    APPROVAL = "approval", _l("Approval of the plan")
    OTHER = "other", _l("Other business")


class PointState(LabelledEnum):
    PENDING = "pending", _l("Pending")
    CURRENT = "current", _l("On the floor")
    DONE = "done", _l("Done")


class SpeakerSide(LabelledEnum):
    """Points of order are heard first (see ``speakers.queue``)."""

    POINT_OF_ORDER = "order", _l("Point of order")
    FOR = "for", _l("For")
    AGAINST = "against", _l("Against")


class SpeakerState(LabelledEnum):
    WAITING = "waiting", _l("Waiting")
    SPEAKING = "speaking", _l("Speaking")
    DONE = "done", _l("Spoke")
    WITHDRAWN = "withdrawn", _l("Withdrawn")


def _check(column: str, enum_class) -> CheckConstraint:
    return CheckConstraint(check_in(column, [member.value for member in enum_class]), name=column)


class AssemblySession(Base):
    """A meeting of the forum's delegates that settles a consultation's plan."""

    __tablename__ = "assembly_sessions"
    __table_args__ = (
        _check("state", SessionState),
        CheckConstraint("default_speaking_seconds > 0", name="default_speaking_positive"),
        CheckConstraint("coalition_cap_seconds > 0", name="coalition_cap_positive"),
        CheckConstraint(check_in("amendment_rule", RULES), name="amendment_rule"),
        CheckConstraint(check_in("approval_rule", RULES), name="approval_rule"),
        CheckConstraint(check_in("ranked_method", RANKED_METHODS), name="ranked_method"),
        CheckConstraint(check_in("quorum_kind", QUORUM_KINDS), name="quorum_kind"),
        CheckConstraint(check_in("quorum_base", QUORUM_BASES), name="quorum_base"),
        CheckConstraint("quorum_value >= 0", name="quorum_not_negative"),
        CheckConstraint("max_proxies >= 0", name="max_proxies_not_negative"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[SessionState] = mapped_column(
        LabelledEnumString(SessionState, 12), default=SessionState.SCHEDULED
    )
    # Not a foreign key: points and their session refer to each other.
    current_point_id: Mapped[int | None] = mapped_column(Integer)
    default_speaking_seconds: Mapped[int] = mapped_column(Integer, default=180)
    # The most one coalition's speakers may speak on one point; None: no cap.
    coalition_cap_seconds: Mapped[int | None] = mapped_column(Integer)
    # The rules of the session's votes (consult.votes.services.PollSettings).
    amendment_rule: Mapped[str] = mapped_column(String(12), default="simple")
    approval_rule: Mapped[str] = mapped_column(String(12), default="simple")
    ranked_method: Mapped[str] = mapped_column(String(8), default="schulze")
    quorum_kind: Mapped[str] = mapped_column(String(8), default="none")
    quorum_value: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=Decimal(0))
    quorum_base: Mapped[str] = mapped_column(String(8), default="present")
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    max_proxies: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    adjourned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    # The minutes (consult.assembly.minutes): read-only once signed.
    minutes_json: Mapped[dict | None] = mapped_column(JSON)
    minutes_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    minutes_signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    forum: Mapped[Forum] = relationship()
    consultation: Mapped[Consultation] = relationship()
    plan: Mapped[Plan] = relationship()
    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    minutes_signed_by: Mapped[User | None] = relationship(foreign_keys=[minutes_signed_by_id])
    points: Mapped[list["AgendaPoint"]] = relationship(
        back_populates="session",
        order_by="AgendaPoint.position",
        cascade="all, delete-orphan",
        lazy="raise_on_sql",
    )

    @property
    def minutes_signed(self) -> bool:
        return self.minutes_signed_at is not None


agenda_point_amendments = Table(
    "assembly_point_amendments",
    Base.metadata,
    Column(
        "point_id",
        Integer,
        ForeignKey("assembly_points.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "amendment_id",
        Integer,
        ForeignKey("amendments.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class AgendaPoint(Base):
    __tablename__ = "assembly_points"
    __table_args__ = (
        _check("kind", PointKind),
        _check("state", PointState),
        Index("ix_assembly_points_session_position", "session_id", "position"),
    )

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("assembly_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PointKind] = mapped_column(LabelledEnumString(PointKind, 12))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # The plan item the amendments change (its stable key), for the projector.
    target_key: Mapped[str | None] = mapped_column(String(16))
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="SET NULL"))
    state: Mapped[PointState] = mapped_column(
        LabelledEnumString(PointState, 12), default=PointState.PENDING
    )
    outcome: Mapped[str] = mapped_column(Text, default="")
    # What its vote decided, language-neutral (``wording.outcome_parts``).
    outcome_parts: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[AssemblySession] = relationship(back_populates="points")
    amendments: Mapped[list[Amendment]] = relationship(
        secondary=agenda_point_amendments, order_by=Amendment.number, lazy="raise_on_sql"
    )

    @property
    def title_parts(self) -> dict | None:
        """What a point proposed from the plan is about, language-neutral
        (``wording``); None for a point the chair wrote."""
        if self.kind is PointKind.AMENDMENTS:
            return wording.parts(amendments=self.amendments)
        if self.kind is PointKind.APPROVAL:
            return wording.parts(plan_title=self.session.plan.title)
        return None

    @property
    def shown_outcome(self) -> str:
        """The outcome in the reader's language (``wording``)."""
        return wording.outcome(self.outcome, self.outcome_parts)

    @property
    def shown_title(self) -> str:
        """The title in the reader's language (``wording``)."""
        return wording.title(self.title, self.title_parts)


class Attendance(Base):
    """One interval of a delegate's presence: the roll call, with times."""

    __tablename__ = "assembly_attendance"
    __table_args__ = (
        Index("ix_assembly_attendance_session_user", "session_id", "user_id"),
        # At most one open interval per delegate, whatever the concurrency.
        Index(
            "uq_assembly_attendance_open",
            "session_id",
            "user_id",
            unique=True,
            postgresql_where=text("checked_out_at IS NULL"),
            sqlite_where=text("checked_out_at IS NULL"),
        ),
    )

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("assembly_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who marked the arrival: the delegate themself or the chair.
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_out_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SpeakerRequest(Base):
    __tablename__ = "assembly_speakers"
    __table_args__ = (
        _check("side", SpeakerSide),
        _check("state", SpeakerState),
        CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        Index("ix_assembly_speakers_point_state", "point_id", "state"),
    )

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(
        ForeignKey("assembly_sessions.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[int] = mapped_column(ForeignKey("assembly_points.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    coalition_id: Mapped[int | None] = mapped_column(
        ForeignKey("coalitions.id", ondelete="SET NULL")
    )
    side: Mapped[SpeakerSide] = mapped_column(LabelledEnumString(SpeakerSide, 8))
    state: Mapped[SpeakerState] = mapped_column(
        LabelledEnumString(SpeakerState, 10), default=SpeakerState.WAITING
    )
    requested_at: Mapped[created_at]
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()
    coalition: Mapped[Coalition | None] = relationship()

    @property
    def speaking_until(self) -> datetime | None:
        if self.called_at is None or self.time_limit_seconds is None:
            return None
        return self.called_at + timedelta(seconds=self.time_limit_seconds)


__all__ = [
    "AgendaPoint",
    "AssemblySession",
    "Attendance",
    "PointKind",
    "PointState",
    "SessionState",
    "SpeakerRequest",
    "SpeakerSide",
    "SpeakerState",
    "agenda_point_amendments",
]
