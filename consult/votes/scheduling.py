"""The scheduler's part: polls opened and closed on time, and the reminder
before a vote closes."""

from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from ..consultations.scheduler import REMINDER_LEAD
from ..database import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..notifications.services import notify_many
from .lifecycle import change_state, close_poll, open_poll
from .models import (
    Participation,
    Poll,
    PollProxy,
    PollState,
    PollVoter,
)
from .permissions import phase_reason


def advance_polls(now: datetime | None = None) -> dict[str, int]:
    """Open and close the polls whose time has come; safe to run from several
    schedulers at once (each change happens once)."""
    now = now or utcnow()
    opened = closed = 0
    due = db.session.scalars(
        select(Poll)
        .where(
            ((Poll.state == PollState.DRAFT) & (Poll.opens_at <= now))
            | ((Poll.state == PollState.OPEN) & (Poll.closes_at <= now))
        )
        .order_by(Poll.id)
    ).all()
    for poll in due:
        try:
            with db.session.begin_nested():
                if poll.state.is_draft:
                    if now >= poll.closes_at:
                        change_state(poll, "draft", "cancelled")
                        continue
                    if phase_reason(poll, now) is not None:
                        # It waits for a phase that allows voting; its page says so.
                        continue
                    opened += open_poll(None, poll, now)
                else:
                    closed += close_poll(None, poll, now)
        except ServiceError as error:
            current_app.logger.warning("poll %s not opened: %s", poll.id, error.message)
    return {"opened": opened, "closed": closed}


def remind_closing_polls(now: datetime | None = None) -> int:
    """Tell the voters who have not voted (and did not hand their vote to a
    proxy), once, that an open poll closes within a day. A poll open for less
    than that gets no reminder. Safe with two schedulers (conditional UPDATE)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Poll)
        .where(
            Poll.state == PollState.OPEN,
            Poll.reminded_at.is_(None),
            Poll.closes_at > now,
            Poll.closes_at <= now + REMINDER_LEAD,
        )
        .order_by(Poll.id)
    ).all()
    reminded = 0
    for poll in due:
        taken = db.session.execute(
            update(Poll)
            .where(Poll.id == poll.id, Poll.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            continue  # another scheduler did
        poll.reminded_at = now
        opened = poll.opened_at or poll.opens_at
        if opened > poll.closes_at - REMINDER_LEAD:
            continue
        voted = select(Participation.voter_id).where(Participation.poll_id == poll.id)
        handed_over = select(PollProxy.grantor_id).where(PollProxy.poll_id == poll.id)
        waiting = select(PollVoter.user_id).where(
            PollVoter.poll_id == poll.id,
            PollVoter.user_id.not_in(voted),
            PollVoter.user_id.not_in(handed_over),
        )
        notify_many(waiting, "poll_closing", poll, forum=poll.forum, title=poll.title)
        reminded += 1
    return reminded


def extend_with_phase(phase, old_end: datetime, new_end: datetime) -> None:
    """Polls that close with a phase close with it at its new end (a
    ``consultations.scheduler.on_phase_extended`` step)."""
    db.session.execute(
        update(Poll)
        .where(
            Poll.phase_id == phase.id,
            Poll.state.in_(("draft", "open")),
            Poll.closes_at == old_end,
        )
        .values(
            closes_at=new_end,
            reminded_at=None if new_end - REMINDER_LEAD > utcnow() else Poll.reminded_at,
        )
        .execution_options(synchronize_session="fetch")
    )
