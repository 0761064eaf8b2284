"""The chair's agenda: points added, removed and reordered; the floor moving on."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..inputs import clean_text
from ..votes.models import Poll
from . import events, queries
from .models import AgendaPoint, AssemblySession, PointKind, PointState, SpeakerRequest
from .models import SpeakerState as Speaker
from .permissions import (
    Refusal,
    edit_agenda_refusal,
    enforce,
    move_on_refusal,
    outcome_refusal,
    remove_point_refusal,
    take_up_refusal,
)

# --- the floor -------------------------------------------------------------------------


def put_on_floor(session: AssemblySession, point: AgendaPoint, now: datetime) -> None:
    point.state = PointState.CURRENT
    point.started_at = point.started_at or now
    point.ended_at = None
    session.current_point_id = point.id


def leave_floor(session: AssemblySession, point: AgendaPoint, now: datetime) -> None:
    """The point is done; whoever was speaking on it has finished, and the
    requests still waiting lapse with it."""
    point.state = PointState.DONE
    point.ended_at = now
    for request in db.session.scalars(
        select(SpeakerRequest).where(
            SpeakerRequest.point_id == point.id, SpeakerRequest.state.in_(("waiting", "speaking"))
        )
    ):
        if request.state is Speaker.SPEAKING:
            request.state, request.finished_at = Speaker.DONE, now
        else:
            request.state = Speaker.WITHDRAWN
    session.current_point_id = None


def _floor(session: AssemblySession) -> tuple[AgendaPoint | None, Poll | None]:
    point = queries.current_point(session)
    poll = db.session.get(Poll, point.poll_id) if point is not None and point.poll_id else None
    return point, poll


def move_on(actor, session: AssemblySession, now: datetime | None = None) -> AgendaPoint | None:
    """Close the point on the floor and take up the next pending one (None at
    the end of the agenda)."""
    point, poll = _floor(session)
    enforce(move_on_refusal(actor, session, None, point, poll))
    following = queries.next_point(session, point)
    if point is None and following is None:
        enforce(Refusal(_("Every point of the agenda has been dealt with.")))
    now = now or utcnow()
    if point is not None:
        leave_floor(session, point, now)
    if following is not None:
        put_on_floor(session, following, now)
    record(
        "assembly.moved_on",
        session,
        actor=actor,
        forum=session.forum,
        point=following.id if following else None,
    )
    events.publish(session, "point", point=session.current_point_id)
    return following


def take_up(actor, point: AgendaPoint, now: datetime | None = None) -> None:
    """Put one point on the floor out of order (or back on it)."""
    session = point.session
    current, poll = _floor(session)
    enforce(take_up_refusal(actor, point, current, poll))
    now = now or utcnow()
    if current is not None:
        leave_floor(session, current, now)
    put_on_floor(session, point, now)
    record("assembly.took_up", session, actor=actor, forum=session.forum, point=point.id)
    events.publish(session, "point", point=point.id)


# --- editing ---------------------------------------------------------------------------


def _renumber(session: AssemblySession, ordered: list[AgendaPoint]) -> None:
    for position, point in enumerate(ordered, start=1):
        point.position = position


def add_point(
    actor, session: AssemblySession, title: str, description: str = "", after_id: int | None = None
) -> AgendaPoint:
    """A point that is not voted on (a report, any other business), at the end
    or after another point."""
    enforce(edit_agenda_refusal(actor, session))
    title = clean_text(title, multiline=False)[:300]
    if not title:
        error = InvalidInput(_("Give the point a title."))
        error.field = "title"
        raise error
    ordered = queries.points(session)
    at = len(ordered)
    if after_id is not None:
        at = next((i + 1 for i, p in enumerate(ordered) if p.id == after_id), at)
    point = AgendaPoint(
        session_id=session.id,
        position=0,
        kind=PointKind.OTHER,
        title=title,
        description=clean_text(description)[:5000],
    )
    db.session.add(point)
    ordered.insert(at, point)
    _renumber(session, ordered)
    db.session.flush()
    record("assembly.point_added", session, actor=actor, forum=session.forum, point=point.id)
    events.publish(session, "agenda")
    return point


def remove_point(actor, point: AgendaPoint) -> None:
    """Only a point not yet taken up and without a vote leaves the agenda."""
    session = point.session
    enforce(remove_point_refusal(actor, point))
    ordered = [p for p in queries.points(session) if p.id != point.id]
    db.session.delete(point)
    _renumber(session, ordered)
    record("assembly.point_removed", session, actor=actor, forum=session.forum, title=point.title)
    events.publish(session, "agenda")


def note_outcome(actor, point: AgendaPoint, text: str) -> None:
    """What a report or any other business concluded, in the chair's words."""
    session = point.session
    enforce(outcome_refusal(actor, point))
    point.outcome = clean_text(text)[:2000]
    record("assembly.outcome_noted", session, actor=actor, forum=session.forum, point=point.id)
    events.publish(session, "agenda", point=point.id)


def move_point(actor, point: AgendaPoint, step: int) -> None:
    """One place up (-1) or down (+1)."""
    session = point.session
    enforce(edit_agenda_refusal(actor, session))
    ordered = queries.points(session)
    index = next(i for i, p in enumerate(ordered) if p.id == point.id)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(session, ordered)
    record("assembly.point_moved", session, actor=actor, forum=session.forum, point=point.id)
    events.publish(session, "agenda")


def reorder(actor, session: AssemblySession, point_ids: list[int]) -> None:
    """The whole agenda in a new order (every point once)."""
    enforce(edit_agenda_refusal(actor, session))
    ordered = queries.points(session)
    by_id = {point.id: point for point in ordered}
    if sorted(point_ids) != sorted(by_id):
        raise InvalidInput(_("Give every point of the agenda once."))
    _renumber(session, [by_id[point_id] for point_id in point_ids])
    record("assembly.reordered", session, actor=actor, forum=session.forum)
    events.publish(session, "agenda")
