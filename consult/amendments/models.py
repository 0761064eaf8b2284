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
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..accounts.models import User
from ..config import LOCALES
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk
from ..forums.models import Coalition
from ..labels import LabelledEnum
from ..plans.models import Plan, PlanVersion


class AmendmentStatus(LabelledEnum):
    """Where an amendment stands. The values are what the database stores; who
    may move an amendment from one to another is in ``permissions``."""

    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")
    ADMITTED = "admitted", _l("Admitted")
    ACCEPTED = "accepted", _l("Accepted")
    REJECTED = "rejected", _l("Rejected")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    MERGED = "merged", _l("Merged into a compromise")
    VOTING = "voting", _l("Put to a vote")
    REVISE = "revise", _l("To be revised by the author")

    @property
    def is_draft(self) -> bool:
        """Seen by its author only."""
        return self is AmendmentStatus.DRAFT

    @property
    def is_open(self) -> bool:
        """Submitted and not decided yet."""
        return self.value in OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        """Decided: nothing more happens to it."""
        return self.value in FINAL_STATUSES

    @property
    def awaits_revision(self) -> bool:
        """A consolidated draft changed its words: its author is to revise it."""
        return self is AmendmentStatus.REVISE


class AmendmentOperation(LabelledEnum):
    """What an amendment does to its target."""

    REPLACE = "replace", _l("Replace the text")
    DELETE = "delete", _l("Delete")
    INSERT_AFTER = "insert_after", _l("Insert a new item after")
    NEW_SECTION = "new_section", _l("Add a new section after")


class SupportThresholdKind(LabelledEnum):
    """How a plan counts the supports an amendment needs before it is admitted."""

    MEMBERS = "members", _l("members")
    COALITIONS = "coalitions", _l("different coalitions")
    COUNTRIES = "countries", _l("different countries")


class SponsorStatus(LabelledEnum):
    INVITED = "invited", _l("invited")
    ACCEPTED = "accepted", _l("accepted")


OPERATIONS = tuple(member.value for member in AmendmentOperation)
STATUSES = tuple(member.value for member in AmendmentStatus)
OPEN_STATUSES = ("submitted", "admitted", "voting")
FINAL_STATUSES = ("accepted", "rejected", "withdrawn", "merged")
ORIGINS = ("web", "import")


def identifier_of(short_name: str | None, label: str, ref: str | None = None) -> str:
    """An amendment's name across the forum: its plan's short name, its number
    and the item it amends ("PA-2026 E2 · 4.1"), from the plain values (a search
    document, a row of an export); ``Amendment.identifier`` is the same."""
    named = f"{short_name} {label}" if short_name else label
    return f"{named} · {ref}" if ref else named


class Amendment(Base):
    """A proposed change to one block of a plan version.

    It keeps the target's stable key, the base version and the *full* proposed
    text (not a patch), so it can be re-based onto later versions.
    """

    __tablename__ = "amendments"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        UniqueConstraint("author_id", "form_token"),
        CheckConstraint(check_in("operation", OPERATIONS), name="operation"),
        CheckConstraint(check_in("status", STATUSES), name="status"),
        CheckConstraint(check_in("origin", ORIGINS), name="origin"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
        Index("ix_amendments_plan_status", "plan_id", "status"),
        Index("ix_amendments_plan_target", "plan_id", "target_key"),
        # A page of the list, newest (or oldest) first, without sorting them all.
        Index("ix_amendments_plan_order", "plan_id", "id"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    base_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"))
    target_key: Mapped[str | None] = mapped_column(String(16))
    target_ref: Mapped[str] = mapped_column(String(60), default="")
    operation: Mapped[str] = mapped_column(String(16))
    original_text: Mapped[str] = mapped_column(Text, default="")
    proposed_text: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="es")
    status: Mapped[AmendmentStatus] = mapped_column(
        LabelledEnumString(AmendmentStatus, 12), default=AmendmentStatus.DRAFT
    )
    origin: Mapped[str] = mapped_column(String(8), default="web")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Amendments collected offline may come from people without an account.
    author_name: Mapped[str] = mapped_column(String(200), default="")
    coalition_id: Mapped[int | None] = mapped_column(
        ForeignKey("coalitions.id", ondelete="SET NULL")
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id", ondelete="CASCADE"))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", ondelete="SET NULL")
    )
    is_compromise: Mapped[bool] = mapped_column(Boolean, default=False)
    # The consolidated version that applied this (accepted) amendment.
    applied_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL")
    )
    # The one-time token of the form that proposed it: the same form sent twice
    # (a double click, a retry after a network error) makes one amendment.
    form_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic locking: two facilitators triaging at once get a conflict.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    plan: Mapped[Plan] = relationship()
    base_version: Mapped[PlanVersion] = relationship(foreign_keys=[base_version_id])
    author: Mapped[User | None] = relationship()
    coalition: Mapped[Coalition | None] = relationship()
    parent: Mapped["Amendment | None"] = relationship(
        remote_side="Amendment.id", foreign_keys=[parent_id]
    )

    __mapper_args__ = {"version_id_col": lock_version}

    # Set by services.propose when the calendar did not allow submitting: why.
    submission_refused = None

    @property
    def label(self) -> str:
        """Its number within the plan ("E2"): enough where the plan is plain."""
        return f"E{self.number}"

    @property
    def identifier(self) -> str:
        """How people name it anywhere in the forum: "PA-2026 E2 · 4.1" (the
        plan, the number, the item). Its plan is the list's plan, already in
        the session: reading it costs no query on a page of one plan."""
        return identifier_of(self.plan.short_name, self.label, self.target_ref)

    @property
    def author_display(self) -> str:
        return self.author.display_name if self.author is not None else self.author_name

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def is_by(self, user) -> bool:
        """Whether ``user`` (signed in) wrote it."""
        return bool(getattr(user, "is_authenticated", False)) and self.author_id == user.id

    @validates("status")
    def _status_member(self, _key, value) -> AmendmentStatus:
        """Set from a plain string too (an import, a form): always a member."""
        return AmendmentStatus(value)


class AmendmentSupport(Base):
    """A member's support; the coalition and country are kept as they were at
    the time, so a later change of membership does not rewrite the count."""

    __tablename__ = "amendment_supports"
    __table_args__ = (UniqueConstraint("amendment_id", "user_id"),)

    id: Mapped[intpk]
    amendment_id: Mapped[int] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    coalition_id: Mapped[int | None] = mapped_column(
        ForeignKey("coalitions.id", ondelete="SET NULL")
    )
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()
    coalition: Mapped[Coalition | None] = relationship()


class AmendmentSponsor(Base):
    """A co-sponsor invited by the author; counts once they accept."""

    __tablename__ = "amendment_sponsors"
    __table_args__ = (
        UniqueConstraint("amendment_id", "user_id"),
        CheckConstraint(check_in("status", ("invited", "accepted")), name="status"),
    )

    id: Mapped[intpk]
    amendment_id: Mapped[int] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="invited")
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()

    @property
    def is_invited(self) -> bool:
        """Invited and not accepted yet."""
        return self.status == SponsorStatus.INVITED


class AmendmentEvent(Base):
    """One step of an amendment's history: who moved it from what to what, and why."""

    __tablename__ = "amendment_events"

    id: Mapped[intpk]
    amendment_id: Mapped[int] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[AmendmentStatus] = mapped_column(LabelledEnumString(AmendmentStatus, 12))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship()

    @validates("to_status")
    def _status_member(self, _key, value) -> AmendmentStatus:
        return AmendmentStatus(value)


class AmendmentTranslation(Base):
    """The proposed text of an amendment in another language, so members who
    read that language can follow and support it."""

    __tablename__ = "amendment_translations"
    __table_args__ = (
        UniqueConstraint("amendment_id", "language"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
    )

    id: Mapped[intpk]
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)
    # The proposed text it translates (an author may still edit a draft).
    source_text: Mapped[str] = mapped_column(Text)
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[created_at]

    translator: Mapped[User | None] = relationship()
