from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import Base, LabelledEnumString, UTCDateTime, check_in, created_at, intpk, utcnow
from ..labels import LabelledEnum
from ..plans.models import Plan, PlanVersion


class ConsolidationState(LabelledEnum):
    QUEUED = "queued", _l("Waiting for a worker")
    RUNNING = "running", _l("Applying the amendments")
    FINISHED = "finished", _l("Finished")
    FAILED = "failed", _l("Failed")


STATES = tuple(member.value for member in ConsolidationState)


class Consolidation(Base):
    """A facilitator's request for the next consolidated draft of a plan, and
    what the job that built it did: progress while it runs, then the new
    version, the change log and the conflicts left for people to resolve."""

    __tablename__ = "consolidations"
    __table_args__ = (CheckConstraint(check_in("state", STATES), name="state"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    # Set to plan_id while queued or running, NULL after: the unique constraint
    # lets only one consolidation of a plan be under way at a time.
    active_plan_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    state: Mapped[ConsolidationState] = mapped_column(
        LabelledEnumString(ConsolidationState, 10), default=ConsolidationState.QUEUED
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    base_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL")
    )
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="SET NULL")
    )
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    applied_count: Mapped[int] = mapped_column(Integer, default=0)
    conflict_count: Mapped[int] = mapped_column(Integer, default=0)
    rebased_count: Mapped[int] = mapped_column(Integer, default=0)
    revise_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Its last sign of life: asked, claimed, or the running job's heartbeat
    # (consult/leases.py).
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=utcnow)
    # The change log and the conflicts, as JSON (see services.run).
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    plan: Mapped[Plan] = relationship()
    requested_by: Mapped[User | None] = relationship()
    base_version: Mapped[PlanVersion | None] = relationship(foreign_keys=[base_version_id])
    version: Mapped[PlanVersion | None] = relationship(foreign_keys=[version_id])

    @property
    def is_active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def is_finished(self) -> bool:
        return self.state == "finished"

    @property
    def is_failed(self) -> bool:
        return self.state == "failed"
