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

from ..accounts.models import User
from ..config import LOCALES
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk, utcnow
from ..forums.models import Forum
from ..labels import LabelledEnum


class PlanStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    CONSULTATION = "consultation", _l("In consultation")
    APPROVED = "approved", _l("Approved")
    ARCHIVED = "archived", _l("Archived")


class VersionOrigin(LabelledEnum):
    """How a version was written."""

    IMPORT = "import", _l("imported")
    CONSOLIDATION = "consolidation", _l("consolidated from amendments")
    EDIT = "edit", _l("edited by hand")


class NodeKind(LabelledEnum):
    SECTION = "section", _l("Section")
    PARAGRAPH = "paragraph", _l("Paragraph")
    ITEM = "item", _l("Item")
    BULLET = "bullet", _l("Bullet")
    FOOTNOTE = "footnote", _l("Footnote")
    CLOSING = "closing", _l("Closing")


class ChangeStatus(LabelledEnum):
    """What became of a node from one version to another (``comparing``; not stored)."""

    ADDED = "added", _l("added")
    REMOVED = "removed", _l("removed")
    CHANGED = "changed", _l("changed")
    MOVED = "moved", _l("moved")
    UNCHANGED = "unchanged", _l("unchanged")


class ExportState(LabelledEnum):
    """Where the making of a document stands."""

    QUEUED = "queued", _l("Waiting for a worker")
    RUNNING = "running", _l("Making the document")
    FINISHED = "finished", _l("Ready")
    FAILED = "failed", _l("Failed")


PLAN_STATUSES = tuple(member.value for member in PlanStatus)
THRESHOLD_KINDS = ("members", "coalitions", "countries")
VERSION_ORIGINS = tuple(member.value for member in VersionOrigin)
NODE_KINDS = tuple(member.value for member in NodeKind)
# A plan's short name ("PA-2026"): see plans/short_names.py.
SHORT_NAME_MAX = 16


class Plan(Base):
    """A plan of action of a forum; its text lives in immutable versions."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(check_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
        CheckConstraint(check_in("support_threshold_kind", THRESHOLD_KINDS), name="threshold_kind"),
        CheckConstraint("support_threshold >= 0", name="threshold_not_negative"),
        UniqueConstraint("forum_id", "short_name"),
    )

    id: Mapped[intpk]
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # Names the plan in its amendments' identifiers ("PA-2026 E2 · 4.1"); unique
    # within the forum (plans/short_names.py).
    short_name: Mapped[str] = mapped_column(String(SHORT_NAME_MAX))
    status: Mapped[PlanStatus] = mapped_column(
        LabelledEnumString(PlanStatus, 20), default=PlanStatus.DRAFT
    )
    language: Mapped[str] = mapped_column(String(5), default="es")
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", use_alter=True, ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    # Until consultations (with dated phases) run a plan, this switch says whether
    # members may propose amendments and comment.
    open_for_input: Mapped[bool] = mapped_column(Boolean, default=False)
    # Supports an amendment needs before facilitators may admit it, counted in
    # members, distinct coalitions or distinct countries.
    support_threshold: Mapped[int] = mapped_column(Integer, default=0)
    support_threshold_kind: Mapped[str] = mapped_column(String(12), default="members")

    forum: Mapped[Forum] = relationship()
    current_version: Mapped["PlanVersion | None"] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )


class PlanVersion(Base):
    """A numbered snapshot of a plan's text. Never changed once written."""

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint(check_in("origin", VERSION_ORIGINS), name="origin"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    origin: Mapped[VersionOrigin] = mapped_column(LabelledEnumString(VersionOrigin, 20))
    note: Mapped[str] = mapped_column(Text, default="")
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    section_count: Mapped[int] = mapped_column(Integer, default=0)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    footnote_count: Mapped[int] = mapped_column(Integer, default=0)
    # The version the assembly approved: the plan's final text.
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language the version is written in (translations are into the others).
    language: Mapped[str] = mapped_column(String(5), default="es")

    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    created_by: Mapped[User | None] = relationship()


class PlanNode(Base):
    """One block of a version's document tree.

    ``key`` is stable: the same item keeps its key from version to version, so
    amendments and translations keep pointing at it. ``position`` is the
    document order, so a whole version is read with one ordered query.
    """

    __tablename__ = "plan_nodes"
    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        CheckConstraint(check_in("kind", NODE_KINDS), name="kind"),
        Index("ix_plan_nodes_version_position", "version_id", "position"),
        Index("ix_plan_nodes_version_ref", "version_id", "ref"),
    )

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(16))
    parent_key: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[NodeKind] = mapped_column(LabelledEnumString(NodeKind, 12))
    number: Mapped[str] = mapped_column(String(20), default="")
    ref: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)

    @property
    def is_heading(self) -> bool:
        return self.kind == "section"


class SectionGroup(Base):
    """The working group in charge of a section of a plan (by the section's stable
    key, so the assignment holds in later versions). Only that group's members
    may amend the section; a section without a group is open to every member."""

    __tablename__ = "plan_section_groups"
    __table_args__ = (UniqueConstraint("plan_id", "section_key"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    section_key: Mapped[str] = mapped_column(String(16))
    working_group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )


EXPORT_STATES = tuple(member.value for member in ExportState)


class PlanExport(Base):
    """A document of a big version rendered by a job and kept: versions never
    change, so each (version, format, language) is rendered once."""

    __tablename__ = "plan_exports"
    __table_args__ = (
        UniqueConstraint(
            "version_id",
            "fmt",
            "locale",
            "content_language",
            "line_length",
            name="uq_plan_exports_rendering",
        ),
        CheckConstraint(check_in("state", EXPORT_STATES), name="state"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id", ondelete="CASCADE"))
    fmt: Mapped[str] = mapped_column(String(8))
    locale: Mapped[str] = mapped_column(String(5))
    # The language of the plan's text: "" for the original, else translations
    # where current and the original, marked, elsewhere.
    content_language: Mapped[str] = mapped_column(String(5), default="")
    # The forum's line length when it was made: another length, another file.
    line_length: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    state: Mapped[ExportState] = mapped_column(
        LabelledEnumString(ExportState, 10), default=ExportState.QUEUED
    )
    stored_name: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # How many runs claimed it, and its last sign of life (queued, claimed, or
    # the running job's heartbeat): see consult/leases.py.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[created_at]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    version: Mapped[PlanVersion] = relationship()

    @property
    def is_active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def is_finished(self) -> bool:
        return self.state == "finished"

    @property
    def is_failed(self) -> bool:
        return self.state == "failed"


class TranslationStatus(LabelledEnum):
    """How a node's translation stands against its source (not stored:
    ``plan_translations.services.NodeState``)."""

    CURRENT = "current", _l("Translated")
    OUTDATED = "outdated", _l("Outdated: the source changed")
    MISSING = "missing", _l("Not translated")


class NodeTranslation(Base):
    """A node's text in another language, by stable key, so it follows the item
    from version to version. ``source_text`` is the source text it translates:
    when a later version changes the source, the translation is kept but is
    outdated (and the difference shows what to update)."""

    __tablename__ = "node_translations"
    __table_args__ = (
        UniqueConstraint("plan_id", "node_key", "language"),
        CheckConstraint(check_in("language", LOCALES), name="language"),
    )

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    node_key: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(5))
    text: Mapped[str] = mapped_column(Text)
    source_text: Mapped[str] = mapped_column(Text)
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[created_at]

    translator: Mapped[User | None] = relationship()
