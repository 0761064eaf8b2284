"""Polls, their frozen electorate, proxies, and ballots kept apart from voters.

Secrecy is a property of the schema: ``ballots`` has no column naming a person
and no timestamp, and its key is random (a sequence would follow the order of
``poll_participations.recorded_at``). Who voted lives in ``poll_participations``,
which names no ballot. Only named polls also keep ``named_votes``, the public
record of who chose what, with its history.

Known limit: someone who can read the database files (not the app, its pages or
its exports, which sort ballots) could compare the physical order of ballot rows
with participation times while a vote runs. Database access is for the
platform's operators only.
"""

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..amendments.models import Amendment
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk
from ..forums.models import Forum, WorkingGroup
from ..labels import LabelledEnum
from ..plans.models import Plan, PlanVersion


class PollState(LabelledEnum):
    """Where a vote stands. The values are what the database stores; what each
    state allows is in ``permissions``."""

    DRAFT = "draft", _l("to open")
    OPEN = "open", _l("open")
    CLOSED = "closed", _l("closed")
    CANCELLED = "cancelled", _l("cancelled")

    @property
    def is_open(self) -> bool:
        return self is PollState.OPEN

    @property
    def is_closed(self) -> bool:
        """Closed with a result (not cancelled)."""
        return self is PollState.CLOSED

    @property
    def is_draft(self) -> bool:
        return self is PollState.DRAFT

    @property
    def is_active(self) -> bool:
        """Being prepared or running: its amendments are taken."""
        return self in (PollState.DRAFT, PollState.OPEN)

    @property
    def has_voters(self) -> bool:
        """Opened at some point and not called off: it has an electorate and ballots."""
        return self in (PollState.OPEN, PollState.CLOSED)


class PollScope(LabelledEnum):
    """Who votes."""

    GROUP = "group", _l("A working group")
    ASSEMBLY = "assembly", _l("The forum assembly (delegates)")


class PollSubject(LabelledEnum):
    """What is put to the vote."""

    AMENDMENT = "amendment", _l("An amendment")
    COMPETING = "competing", _l("Competing amendments on one item")
    PLAN = "plan", _l("Approval of the plan")


class PollMethod(LabelledEnum):
    """How the ballots are counted."""

    YESNO = "yesno", _l("Yes / no / abstain")
    SCHULZE = "schulze", _l("Ranked choice, Schulze method (Condorcet)")
    IRV = "irv", _l("Ranked choice, instant-runoff")


class PollRule(LabelledEnum):
    """The majority a yes/no vote needs."""

    SIMPLE = "simple", _l("Simple majority of the votes cast")
    ABSOLUTE = "absolute", _l("Absolute majority of the electorate")
    TWO_THIRDS = "two_thirds", _l("Two thirds of the votes cast")


class QuorumKind(LabelledEnum):
    NONE = "none", _l("No quorum")
    SHARE = "share", _l("A share of the electorate (e.g. 0.5 for half)")
    COUNT = "count", _l("A number of votes (weighted)")


class QuorumBase(LabelledEnum):
    """What the quorum measures: the weight of ballots cast, or of delegates
    marked present at the assembly (a roll call)."""

    BALLOTS = "ballots", _l("Votes cast")
    PRESENT = "present", _l("Delegates marked present (roll call)")


class YesNoChoice(LabelledEnum):
    """A choice on a yes/no ballot (the values of ``tally_ballots.YES_NO_CHOICES``)."""

    YES = "yes", _l("Yes")
    NO = "no", _l("No")
    ABSTAIN = "abstain", _l("Abstain")


def _values(enum: type[LabelledEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


SCOPES = _values(PollScope)
SUBJECTS = _values(PollSubject)
STATES = _values(PollState)
METHODS = _values(PollMethod)
RULES = _values(PollRule)
QUORUM_KINDS = _values(QuorumKind)
QUORUM_BASES = _values(QuorumBase)
STATUS_QUO = "current"  # the candidate "keep the current text" in a ranked poll


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (
        CheckConstraint(check_in("scope", SCOPES), name="scope"),
        CheckConstraint(check_in("subject", SUBJECTS), name="subject"),
        CheckConstraint(check_in("state", STATES), name="state"),
        CheckConstraint(check_in("method", METHODS), name="method"),
        CheckConstraint(check_in("rule", RULES), name="rule"),
        CheckConstraint(check_in("quorum_kind", QUORUM_KINDS), name="quorum_kind"),
        CheckConstraint(check_in("quorum_base", QUORUM_BASES), name="quorum_base"),
        CheckConstraint("quorum_value >= 0", name="quorum_not_negative"),
        CheckConstraint("max_proxies >= 0", name="max_proxies_not_negative"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    scope: Mapped[PollScope] = mapped_column(LabelledEnumString(PollScope, 10))
    working_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL")
    )
    subject: Mapped[PollSubject] = mapped_column(LabelledEnumString(PollSubject, 10))
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE")
    )
    target_key: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[PollMethod] = mapped_column(LabelledEnumString(PollMethod, 8))
    secret: Mapped[bool] = mapped_column(Boolean, default=True)
    rule: Mapped[PollRule] = mapped_column(
        LabelledEnumString(PollRule, 12), default=PollRule.SIMPLE
    )
    quorum_kind: Mapped[QuorumKind] = mapped_column(
        LabelledEnumString(QuorumKind, 8), default=QuorumKind.NONE
    )
    quorum_value: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=Decimal(0))
    quorum_base: Mapped[QuorumBase] = mapped_column(
        LabelledEnumString(QuorumBase, 8), default=QuorumBase.BALLOTS
    )
    abstentions_count: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_results: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=True)
    # How many other delegates' votes one delegate may carry; 0: no proxies.
    max_proxies: Mapped[int] = mapped_column(Integer, default=0)
    phase_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_phases.id", ondelete="SET NULL"), index=True
    )
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[PollState] = mapped_column(
        LabelledEnumString(PollState, 10), default=PollState.DRAFT
    )
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the voters who had not voted were told it closes within a day (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    # Frozen when the poll opens.
    electorate_size: Mapped[int] = mapped_column(Integer, default=0)
    electorate_weight: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    # Frozen when the poll closes.
    ballot_count: Mapped[int | None] = mapped_column(Integer)
    turnout_weight: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    quorum_met: Mapped[bool | None] = mapped_column(Boolean)
    winner: Mapped[str | None] = mapped_column(String(60))
    result: Mapped[str | None] = mapped_column(Text)  # the full tally, as JSON
    checksum: Mapped[str | None] = mapped_column(String(64))

    forum: Mapped[Forum] = relationship()
    plan: Mapped[Plan] = relationship()
    working_group: Mapped[WorkingGroup | None] = relationship()
    amendment: Mapped[Amendment | None] = relationship()
    version: Mapped[PlanVersion | None] = relationship()
    candidates: Mapped[list["PollCandidate"]] = relationship(
        back_populates="poll", order_by="PollCandidate.position", cascade="all, delete-orphan"
    )

    @property
    def is_ranked(self) -> bool:
        return self.method in ("irv", "schulze")


class PollCandidate(Base):
    """One option of a ranked poll: a competing amendment, or keeping the text."""

    __tablename__ = "poll_candidates"
    __table_args__ = (UniqueConstraint("poll_id", "name"),)

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    # The name ballots use ("E3", or STATUS_QUO), the same in every language.
    name: Mapped[str] = mapped_column(String(60))
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)

    poll: Mapped[Poll] = relationship(back_populates="candidates")
    amendment: Mapped[Amendment | None] = relationship()


class PollVoter(Base):
    """A member of the electorate, frozen with their weight when the poll opened."""

    __tablename__ = "poll_voters"
    __table_args__ = (
        UniqueConstraint("poll_id", "user_id"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=Decimal(1))
    coalition_id: Mapped[int | None] = mapped_column(
        ForeignKey("coalitions.id", ondelete="SET NULL")
    )
    present: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class PollProxy(Base):
    """A delegate handing their vote in one poll to another delegate. Revoking
    deletes the row (the audit log keeps both events)."""

    __tablename__ = "poll_proxies"
    __table_args__ = (
        UniqueConstraint("poll_id", "grantor_id"),
        CheckConstraint("grantor_id <> holder_id", name="not_to_self"),
    )

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    grantor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_at]

    grantor: Mapped[User] = relationship(foreign_keys=[grantor_id])
    holder: Mapped[User] = relationship(foreign_keys=[holder_id])


class Participation(Base):
    """That a voter's vote was cast (by them, or by their proxy). The unique
    constraint is what makes "one person, one vote" hold under any concurrency."""

    __tablename__ = "poll_participations"
    __table_args__ = (UniqueConstraint("poll_id", "voter_id"),)

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[created_at]
    # SHA-256 of "poll:voter:receipt code": proves that whoever changes this vote
    # holds this voter's receipt. Without the code (80 random bits) it cannot be
    # matched to a ballot's receipt_hash, so it is no link between the two.
    receipt_check: Mapped[str] = mapped_column(String(64))


class Ballot(Base):
    """A counted ballot. No voter, no time: see the module docstring.

    ``receipt_hash`` is the SHA-256 of the receipt code shown once to the voter,
    who alone can use it to find this ballot again (to check or change it)."""

    __tablename__ = "ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str] = mapped_column(Text)  # JSON: "yes"/"no"/"abstain" or a ranking
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)


class NamedVote(Base):
    """Named polls only: who chose what and when, every change kept."""

    __tablename__ = "named_votes"

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    choice: Mapped[str] = mapped_column(Text)
    weight: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    receipt_hash: Mapped[str] = mapped_column(String(64))
    cast_at: Mapped[created_at]
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    voter: Mapped[User] = relationship(foreign_keys=[voter_id])
    cast_by: Mapped[User | None] = relationship(foreign_keys=[cast_by_id])
