"""A plan's consultations over time: a first reading, then a second one on the
revised text… one after the other (``services.start_refusal``), each with its
own phases, thread, dashboard and open data."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..plans.models import Plan
from .models import Consultation


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
