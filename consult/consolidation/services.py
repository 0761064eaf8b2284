"""Consolidated drafts, as a request sees them: a facilitator asks for one (a
job builds it: see ``job``), and its page reads it and what waits to be applied.
"""

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..amendments.models import Amendment
from ..audit.services import record
from ..errors import Conflict, NotFound
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..leases import LeasedWork
from ..plans import services as plans
from ..plans.models import Plan
from .models import Consolidation

# A run silent for this long (no heartbeat) died with its worker: the job may
# be taken again (nothing of it was written). Longer than an export's lease:
# two runs at once would both try to write the plan's next version.
WORK = LeasedWork(
    model=Consolidation,
    func_path="workers.consolidation.consolidate",
    prefix="consolidate",
    # A failed one run again (an administrator's retry) builds from the plan as
    # it is then, and holds the plan again (refused while another one does).
    reset_failed=lambda: {
        "active_plan_id": Consolidation.plan_id,
        "error": None,
        "finished_at": None,
    },
    lease=timedelta(minutes=10),
)

CONFLICT_REASONS = {
    "overlap": _l("These amendments change the same words."),
    "changed_since": _l("The item changed where the amendment changes it."),
    "delete_and_edit": _l("One amendment deletes the item, another changes it."),
    "target_gone": _l("The item is no longer in the plan."),
}


# --- reading ---------------------------------------------------------------------------


def get_consolidation(user, forum_slug: str, plan_id, consolidation_id) -> Consolidation:
    plan = plans.plan_for(user, forum_slug, plan_id)
    consolidation = (
        db.session.get(Consolidation, consolidation_id)
        if isinstance(consolidation_id, int)
        else None
    )
    if consolidation is None or consolidation.plan_id != plan.id:
        raise NotFound()
    return consolidation


def recent(plan: Plan, limit: int = 10) -> list[Consolidation]:
    return list(
        db.session.scalars(
            select(Consolidation)
            .options(joinedload(Consolidation.version), joinedload(Consolidation.requested_by))
            .where(Consolidation.plan_id == plan.id)
            .order_by(Consolidation.id.desc())
            .limit(limit)
        )
    )


def pending_amendments(plan: Plan) -> list[Amendment]:
    """Accepted amendments that no consolidated version has applied yet (a
    sub-amendment changes its parent's text, so only parents are applied)."""
    return list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == plan.id,
                Amendment.status == "accepted",
                Amendment.applied_version_id.is_(None),
                Amendment.parent_id.is_(None),
            )
            .order_by(Amendment.number)
        )
    )


# --- asking ----------------------------------------------------------------------------


def request_refusal(actor, plan: Plan, *, by_command: bool = False) -> str | None:
    """Why ``actor`` may not ask for a consolidated draft of ``plan`` now, or None."""
    if not by_command and not forum_permissions.can_manage(actor, plan.forum):
        return _("Only the forum's facilitators can ask for a consolidated draft.")
    if plan.status in ("approved", "archived"):
        return _("This plan is approved or archived; its text can no longer change.")
    return None


def request(actor, plan: Plan, *, by_command: bool = False) -> tuple[Consolidation, bool]:
    """Ask for the next consolidated draft; returns it and whether it is new.

    While one is queued or running for this plan, asking again returns that one
    (two facilitators clicking at once start one job). ``by_command``: asked
    from the command line, where there is no signed-in facilitator.
    """
    if not by_command:
        forum_permissions.require_manage(actor, plan.forum)
    if refusal := request_refusal(actor, plan, by_command=by_command):
        raise Conflict(refusal)
    consolidation = Consolidation(
        plan_id=plan.id,
        active_plan_id=plan.id,
        requested_by_id=getattr(actor, "id", None),
        base_version_id=plan.current_version_id,
        report={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(consolidation)
            db.session.flush()
    except IntegrityError:
        running = db.session.scalar(
            select(Consolidation).where(Consolidation.active_plan_id == plan.id)
        )
        if running is None:  # it finished in the meantime: ask again
            return request(actor, plan, by_command=by_command)
        # Its worker died, or its job never reached the queue: run it again
        # (nothing of it was written).
        WORK.take_up(running)
        return running, False
    record("plan.consolidation_requested", consolidation, actor=actor, forum=plan.forum)
    WORK.enqueue(consolidation)
    return consolidation, True


def conflict_reason(reason: str) -> str:
    return str(CONFLICT_REASONS.get(reason, reason))
