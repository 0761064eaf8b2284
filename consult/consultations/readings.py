"""A plan's consultations over time: a first reading, then a second one on the
revised text… one after the other (``readings.start_refusal``), each with its
own phases, thread, dashboard and open data."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..forums.permissions import StateRefusal
from ..plans.models import Plan
from ..plans.services import archived_refusal
from .models import Consultation, Phase

_NOT_READ = object()  # "not given: read it"
_MEMO = "consultation_of"  # key of the session's memo in Session.info


def consultation_of(plan: Plan) -> Consultation | None:
    """The plan's current consultation: its latest (the only one that may still
    be open, see ``start_refusal``), or None when it never had one.

    A page asks this through several predicates (the banner alone asks it for
    each action), so the answer is kept in the session until it next writes,
    commits or rolls back (``_forget``), and read again after."""
    session = db.session()
    memo = session.info.setdefault(_MEMO, {})
    if plan.id in memo and not any(isinstance(new, Consultation) for new in session.new):
        return memo[plan.id]
    memo[plan.id] = session.scalar(
        select(Consultation)
        .options(selectinload(Consultation.phases))
        .where(Consultation.plan_id == plan.id)
        .order_by(Consultation.number.desc())
        .limit(1)
    )
    return memo[plan.id]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session, *_args) -> None:
    session.info.pop(_MEMO, None)


def start_refusal(plan: Plan, current=_NOT_READ) -> str | None:
    """Why a new consultation of ``plan`` cannot start now (None: it can). One
    at a time: the previous one must be over (every phase closed)."""
    if refusal := archived_refusal(plan):
        return StateRefusal(refusal)
    if current is _NOT_READ:
        current = consultation_of(plan)
    if current is not None and not current.is_over:
        return StateRefusal(
            _(
                "“%(title)s” (%(reading)s) is still open: close its last phase "
                "before starting a new consultation of this plan.",
                title=current.title,
                reading=current.reading_label,
            )
        )
    return None


def open_phase(consultation: Consultation) -> Phase | None:
    return next((phase for phase in consultation.phases if phase.state == "open"), None)


def consultations_of(plan: Plan) -> list[Consultation]:
    """Every consultation of the plan, the first reading first (phases loaded)."""
    return list(
        db.session.scalars(
            select(Consultation)
            .options(selectinload(Consultation.phases))
            .where(Consultation.plan_id == plan.id)
            .order_by(Consultation.number)
        )
    )


def reading_window(consultation: Consultation) -> tuple[datetime | None, datetime | None]:
    """When what was written on the plan belongs to this reading: from its start
    (the first reading also takes what came before it) until the next reading
    started (None: no limit on that side)."""
    start = consultation.created_at if consultation.number > 1 else None
    end = db.session.scalar(
        select(Consultation.created_at).where(
            Consultation.plan_id == consultation.plan_id,
            Consultation.number == consultation.number + 1,
        )
    )
    return start, end


def in_window(column, window: tuple[datetime | None, datetime | None]):
    """A condition: ``column`` (a moment) inside ``window`` (``reading_window``)."""
    start, end = window
    condition = column.is_not(None)
    if start is not None:
        condition &= column >= start
    if end is not None:
        condition &= column < end
    return condition
