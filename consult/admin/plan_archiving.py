"""Archiving a plan instead of deleting it, and taking it out of the archive.
The one predicate every write on a plan asks is
``plans.services.archived_refusal``."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..audit.services import record
from ..consultations.models import Consultation
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..inputs import clean_text
from ..plans.models import Plan, PlanVersion
from ..plans.services import require_not_archived
from ..votes.models import Poll


def archive_plan(actor, plan: Plan, reason: str) -> None:
    """Make the plan read-only instead of deleting it: its pages, versions,
    amendments and comments stay where they were, and no one can change them."""
    forum_permissions.require_manage(actor, plan.forum)
    reason = _checked_archive_reason(reason)
    require_not_archived(plan)
    if _pending_polls(plan):
        raise Conflict(
            _(
                "A vote on this plan is scheduled or open: close or cancel it "
                "before archiving the plan."
            )
        )
    before = plan.status
    plan.status = "archived"
    plan.open_for_input = False
    record("plan.archived", plan, actor=actor, forum=plan.forum, reason=reason, before=before)


def _pending_polls(plan: Plan) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Poll)
        .where(Poll.plan_id == plan.id, Poll.state.in_(("draft", "open")))
    )


def restore_plan(actor, plan: Plan, reason: str) -> None:
    """Take the plan out of the archive: approved again if a version was
    approved, in consultation if it has one, else a draft (its switch for
    amendments and comments stays closed until a facilitator opens it)."""
    forum_permissions.require_manage(actor, plan.forum)
    reason = _checked_archive_reason(reason)
    if plan.status != "archived":
        raise Conflict(_("This plan is not archived."))
    approved = db.session.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.plan_id == plan.id, PlanVersion.is_final.is_(True))
    )
    consulted = db.session.scalar(
        select(func.count()).select_from(Consultation).where(Consultation.plan_id == plan.id)
    )
    plan.status = "approved" if approved else "consultation" if consulted else "draft"
    record("plan.restored", plan, actor=actor, forum=plan.forum, reason=reason, after=plan.status)


def _checked_archive_reason(reason) -> str:
    text = clean_text(reason or "")
    if not text:
        raise InvalidInput(_("Please give a reason: it is kept in the audit log."))
    return text[:500]
