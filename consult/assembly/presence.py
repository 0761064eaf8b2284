"""The roll call: delegates check in and out (or the chair marks them), each
presence an interval with its times. While a vote "of delegates present" is
open on the floor, its roll call follows the room (``points.sync_roll_call``)."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..forums.models import Membership
from . import events, queries
from .models import AssemblySession, Attendance
from .permissions import (
    Refusal,
    check_in_refusal,
    check_out_refusal,
    enforce,
    mark_presence_refusal,
)
from .points import sync_roll_call


def _open_interval(session: AssemblySession, user_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(
            Attendance.session_id == session.id,
            Attendance.user_id == user_id,
            Attendance.checked_out_at.is_(None),
        )
    )


def _arrive(actor, session: AssemblySession, user_id: int, now: datetime) -> Attendance:
    interval = Attendance(
        session_id=session.id,
        user_id=user_id,
        checked_in_at=now,
        marked_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(interval)
            db.session.flush()
    except IntegrityError:
        # Checked in at the same moment from another device or by the chair.
        enforce(Refusal(_("This delegate is checked in already.")))
    return interval


def _leave(actor, interval: Attendance, now: datetime) -> None:
    interval.checked_out_at = now
    interval.checked_out_by_id = getattr(actor, "id", None)


def _changed(actor, session: AssemblySession, action: str, user_id: int) -> None:
    sync_roll_call(session)
    record(action, session, actor=actor, forum=session.forum, delegate=user_id)
    events.publish(session, "presence")


def check_in(actor, session: AssemblySession, now: datetime | None = None) -> Attendance:
    """A delegate arrives (from their phone)."""
    enforce(check_in_refusal(actor, session))
    interval = _arrive(actor, session, actor.id, now or utcnow())
    _changed(actor, session, "assembly.checked_in", actor.id)
    return interval


def check_out(actor, session: AssemblySession, now: datetime | None = None) -> None:
    """A delegate leaves (they may hand their vote on the point to a proxy)."""
    enforce(check_out_refusal(actor, session))
    interval = _open_interval(session, actor.id)
    if interval is not None:
        _leave(actor, interval, now or utcnow())
    _changed(actor, session, "assembly.checked_out", actor.id)


def _summoned_delegate(session: AssemblySession, user_id) -> int:
    found = (
        db.session.scalar(
            select(Membership.user_id)
            .join(Membership.user)
            .where(queries.summoned_condition(session.forum_id), Membership.user_id == user_id)
        )
        if isinstance(user_id, int)
        else None
    )
    if found is None:
        raise InvalidInput(_("Choose a delegate summoned to this session."))
    return found


def mark(
    actor, session: AssemblySession, user_id, present: bool, now: datetime | None = None
) -> None:
    """The chair marks a delegate present or absent; nothing happens when the
    roll call says so already."""
    enforce(mark_presence_refusal(actor, session))
    user_id = _summoned_delegate(session, user_id)
    now = now or utcnow()
    interval = _open_interval(session, user_id)
    if present and interval is None:
        _arrive(actor, session, user_id, now)
    elif not present and interval is not None:
        _leave(actor, interval, now)
    else:
        return
    action = "assembly.marked_present" if present else "assembly.marked_absent"
    _changed(actor, session, action, user_id)


def close_all_intervals(actor, session: AssemblySession, now: datetime) -> None:
    """At adjournment everyone still present leaves (one statement)."""
    db.session.execute(
        update(Attendance)
        .where(Attendance.session_id == session.id, Attendance.checked_out_at.is_(None))
        .values(checked_out_at=now, checked_out_by_id=getattr(actor, "id", None))
        .execution_options(synchronize_session=False)
    )
