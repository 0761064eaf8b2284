"""Reading a session: who is summoned and present, its points, its speakers.

Each function is one or two statements whatever the size of the assembly, so
the live fragments that call them cost the same for 5 delegates or 300.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..extensions import db
from ..forums.models import Membership
from .models import (
    AgendaPoint,
    AssemblySession,
    Attendance,
    SpeakerRequest,
    SpeakerSide,
    SpeakerState,
)


def summoned_condition(forum_id: int):
    """The delegates a session of this forum summons: the same people the
    assembly's polls count as electorate (delegates with a vote weight, not
    observers, with an active account they have activated)."""
    return and_(
        Membership.forum_id == forum_id,
        Membership.is_delegate.is_(True),
        Membership.vote_weight > 0,
        Membership.role != "observer",
        User.active.is_(True),
        User.password_hash.is_not(None),
    )


def is_summoned(membership: Membership | None) -> bool:
    """The same rule as ``summoned_condition``, for a membership already read."""
    if membership is None or membership.role == "observer":
        return False
    user = membership.user
    return (
        membership.is_delegate
        and membership.vote_weight > 0
        and user.active
        and user.password_hash is not None
    )


def _open_attendance(session_id: int):
    return and_(
        Attendance.session_id == session_id,
        Attendance.user_id == Membership.user_id,
        Attendance.checked_out_at.is_(None),
    )


@dataclass(frozen=True)
class Presence:
    """The quorum figure: delegates present of those summoned, and their weight."""

    present: int
    summoned: int
    present_weight: Decimal
    summoned_weight: Decimal


def presence(session: AssemblySession) -> Presence:
    """Counted in one statement, whatever the number of delegates."""
    present = func.count(Attendance.id)
    row = db.session.execute(
        select(
            func.count(Membership.id),
            func.coalesce(func.sum(Membership.vote_weight), 0),
            present,
            func.coalesce(func.sum(Membership.vote_weight).filter(Attendance.id.is_not(None)), 0),
        )
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Attendance, _open_attendance(session.id))
        .where(summoned_condition(session.forum_id))
    ).one()
    return Presence(
        present=row[2],
        summoned=row[0],
        present_weight=Decimal(row[3]),
        summoned_weight=Decimal(row[1]),
    )


def present_ids(session: AssemblySession) -> set[int]:
    """The summoned delegates checked in now (the roll call for a vote)."""
    return set(
        db.session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .join(Attendance, _open_attendance(session.id))
            .where(summoned_condition(session.forum_id))
        )
    )


def is_present(session: AssemblySession, user_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(
                Attendance.session_id == session.id,
                Attendance.user_id == user_id,
                Attendance.checked_out_at.is_(None),
            )
        )
    )


@dataclass(frozen=True)
class Delegate:
    """A line of the roll call: a summoned delegate and whether they are here."""

    user: User
    membership: Membership
    present_since: datetime | None


def delegates(session: AssemblySession) -> list[Delegate]:
    """Every summoned delegate, by name, with their open check-in (two statements)."""
    rows = db.session.execute(
        select(Membership, User, Attendance.checked_in_at)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Attendance, _open_attendance(session.id))
        .options(selectinload(Membership.coalition))
        .where(summoned_condition(session.forum_id))
        .order_by(func.lower(User.display_name), User.id)
    ).all()
    return [Delegate(user=user, membership=m, present_since=since) for m, user, since in rows]


def roll_call(session: AssemblySession) -> list[Attendance]:
    """Every presence interval, in the order people arrived."""
    return list(
        db.session.scalars(
            select(Attendance)
            .options(selectinload(Attendance.user))
            .where(Attendance.session_id == session.id)
            .order_by(Attendance.checked_in_at, Attendance.id)
        )
    )


# --- the agenda ------------------------------------------------------------------------


def points(session: AssemblySession) -> list[AgendaPoint]:
    """The agenda in order, with the amendments of each point (two statements)."""
    return list(
        db.session.scalars(
            select(AgendaPoint)
            .options(selectinload(AgendaPoint.amendments))
            .where(AgendaPoint.session_id == session.id)
            .order_by(AgendaPoint.position, AgendaPoint.id)
        )
    )


def current_point(session: AssemblySession) -> AgendaPoint | None:
    if session.current_point_id is None:
        return None
    return db.session.scalar(
        select(AgendaPoint)
        .options(selectinload(AgendaPoint.amendments))
        .where(AgendaPoint.id == session.current_point_id)
    )


def get_point(session: AssemblySession, point_id) -> AgendaPoint | None:
    point = db.session.get(AgendaPoint, point_id) if isinstance(point_id, int) else None
    return point if point is not None and point.session_id == session.id else None


def next_point(session: AssemblySession, after: AgendaPoint | None) -> AgendaPoint | None:
    """The first pending point after ``after`` (or the first pending one)."""
    query = (
        select(AgendaPoint)
        .options(selectinload(AgendaPoint.amendments))
        .where(AgendaPoint.session_id == session.id, AgendaPoint.state == "pending")
    )
    if after is not None:
        query = query.where(AgendaPoint.position > after.position)
    return db.session.scalar(query.order_by(AgendaPoint.position, AgendaPoint.id).limit(1))


# --- speakers --------------------------------------------------------------------------

# Points of order first, then in the order people asked.
_SIDE_ORDER = {SpeakerSide.POINT_OF_ORDER: 0, SpeakerSide.FOR: 1, SpeakerSide.AGAINST: 1}


def speakers(point: AgendaPoint | None) -> list[SpeakerRequest]:
    """Everyone on the point's list who has not withdrawn: who spoke, who speaks,
    then the queue in the order they will be called."""
    if point is None:
        return []
    rows = db.session.scalars(
        select(SpeakerRequest)
        .options(selectinload(SpeakerRequest.user), selectinload(SpeakerRequest.coalition))
        .where(SpeakerRequest.point_id == point.id, SpeakerRequest.state != "withdrawn")
        .order_by(SpeakerRequest.requested_at, SpeakerRequest.id)
    ).all()
    return sorted(rows, key=_list_order)


def _list_order(request: SpeakerRequest):
    stage = {SpeakerState.DONE: 0, SpeakerState.SPEAKING: 1, SpeakerState.WAITING: 2}
    if request.state is SpeakerState.DONE:
        return (0, request.called_at, request.id)
    return (stage[request.state], _SIDE_ORDER[request.side], request.requested_at, request.id)


def waiting(requests: list[SpeakerRequest]) -> list[SpeakerRequest]:
    return [r for r in requests if r.state is SpeakerState.WAITING]


def speaking(requests: list[SpeakerRequest]) -> SpeakerRequest | None:
    return next((r for r in requests if r.state is SpeakerState.SPEAKING), None)


def own_request(point: AgendaPoint | None, user_id: int | None) -> SpeakerRequest | None:
    """The reader's place on the point's list, if they are waiting or speaking."""
    if point is None or user_id is None:
        return None
    return db.session.scalar(
        select(SpeakerRequest).where(
            SpeakerRequest.point_id == point.id,
            SpeakerRequest.user_id == user_id,
            SpeakerRequest.state.in_(("waiting", "speaking")),
        )
    )
