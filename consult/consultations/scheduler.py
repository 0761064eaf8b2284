"""The consultation's calendar as it runs: by hand (a facilitator extends a
phase or moves to the next one, both audited) and on its own (the scheduler
opens and closes every phase whose time has come, safe with several
schedulers at once: each change is a conditional UPDATE, made once, and
reminds the forum's members, once, of a phase that closes within a day)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..audit.services import record
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..forums.models import Membership
from ..forums.permissions import require
from ..labels import label
from ..notifications.services import notify_many
from .models import Consultation, Phase, PhaseKind
from .permissions import advance_refusal, extend_refusal
from .services import open_phase


def open_phase_now(phase: Phase, now: datetime) -> bool:
    """Open ``phase`` unless someone else already did (a second scheduler)."""
    opened = db.session.execute(
        update(Phase)
        .where(Phase.id == phase.id, Phase.state == "pending")
        .values(state="open", opened_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if opened:
        phase.state, phase.opened_at = "open", now
        _announce(phase, "phase_opened")
    return bool(opened)


def _close(phase: Phase, now: datetime) -> bool:
    closed = db.session.execute(
        update(Phase)
        .where(Phase.id == phase.id, Phase.state == "open")
        .values(state="closed", closed_at=now, ends_at=phase.ends_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed:
        phase.state, phase.closed_at = "closed", now
        _announce(phase, "phase_closed")
    return bool(closed)


def _announce(phase: Phase, kind: str) -> None:
    """Tell every member of the forum (the rows go out by email per preference)."""
    consultation = phase.consultation
    notify_many(
        select(Membership.user_id).where(Membership.forum_id == consultation.forum_id),
        kind,
        consultation,
        forum=consultation.forum,
        phase=label(phase.kind, PhaseKind),
        phase_kind=phase.kind,  # named in each reader's language
        title=consultation.title,
    )


def advance_due(now: datetime | None = None) -> dict[str, int]:
    """Open and close every phase whose time has come. Safe to run from several
    schedulers at once and as often as wanted: each change happens once."""
    now = now or utcnow()
    opened = closed = 0
    due = db.session.scalars(
        select(Phase)
        .where(
            ((Phase.state == "pending") & (Phase.starts_at <= now))
            | ((Phase.state == "open") & (Phase.ends_at <= now))
        )
        .order_by(Phase.consultation_id, Phase.position)
    ).all()
    for phase in due:
        if phase.state == "pending":
            for other in phase.consultation.phases:
                if other.state == "open" and other.position < phase.position:
                    closed += _close(other, now)
            opened += open_phase_now(phase, now)
        if phase.state == "open" and phase.ends_at <= now:
            closed += _close(phase, now)
    return {"opened": opened, "closed": closed}


# How long before a phase (or a poll) ends members are reminded of it.
REMINDER_LEAD = timedelta(hours=24)


def remind_closing_phases(now: datetime | None = None) -> int:
    """Tell the forum's members, once, that an open phase closes within a day.
    A phase that lasts less than that gets no reminder (its opening said it).
    Safe with two schedulers: the conditional UPDATE lets one of them remind."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Phase)
        .where(
            Phase.state == "open",
            Phase.reminded_at.is_(None),
            Phase.ends_at > now,
            Phase.ends_at <= now + REMINDER_LEAD,
        )
        .order_by(Phase.id)
    ).all()
    reminded = 0
    for phase in due:
        taken = db.session.execute(
            update(Phase)
            .where(Phase.id == phase.id, Phase.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            continue  # another scheduler did
        phase.reminded_at = now
        opened = phase.opened_at or phase.starts_at
        if opened <= phase.ends_at - REMINDER_LEAD:
            _announce(phase, "phase_closing")
            reminded += 1
    return reminded


# --- by hand ---------------------------------------------------------------------------

# Steps run when a phase is extended, ``step(phase, old_end, new_end)``: the
# votes' (polls that close with the phase), registered when the app is made.
_phase_extended: list[Callable[[Phase, datetime, datetime], None]] = []


def on_phase_extended(step: Callable[[Phase, datetime, datetime], None]) -> None:
    if step not in _phase_extended:
        _phase_extended.append(step)


def extend_phase(actor, phase: Phase, new_end: datetime) -> None:
    """Give the current (or a coming) phase more time; recorded in the audit log."""
    consultation = phase.consultation
    require(extend_refusal(actor, phase))
    if new_end.tzinfo is None or new_end <= phase.starts_at or new_end <= utcnow():
        raise InvalidInput(_("The new end must be in the future and after the phase starts."))
    following = [p for p in consultation.phases if p.position > phase.position]
    if following and new_end > following[0].starts_at:
        raise InvalidInput(_("The new end must come before the next phase starts."))
    before = phase.ends_at
    phase.ends_at = new_end
    if new_end - REMINDER_LEAD > utcnow():
        phase.reminded_at = None  # remind again a day before the new end
    _extend_polls(phase, before, new_end)
    record(
        "consultation.phase_extended",
        phase,
        actor=actor,
        forum=consultation.forum,
        before=before.isoformat(),
        after=new_end.isoformat(),
    )


def _extend_polls(phase: Phase, old_end: datetime, new_end: datetime) -> None:
    """What closes with the phase closes with it at its new end: the steps that
    features above consultations register (``on_phase_extended``)."""
    for step in _phase_extended:
        step(phase, old_end, new_end)


def advance(actor, consultation: Consultation, now: datetime | None = None) -> Phase | None:
    """Close the open phase now and open the next one now (a facilitator's hand)."""
    require(advance_refusal(actor, consultation))
    now = now or utcnow()
    current = open_phase(consultation)
    pending = [p for p in consultation.phases if p.state == "pending"]
    if current is not None:
        if now < current.ends_at:
            current.ends_at = max(now, current.starts_at + timedelta(seconds=1))
        _close(current, now)
    following = pending[0] if pending else None
    if following is not None:
        if following.starts_at > now:
            following.starts_at = max(now, current.ends_at) if current is not None else now
        open_phase_now(following, now)
    record(
        "consultation.advanced",
        consultation,
        actor=actor,
        forum=consultation.forum,
        opened=following.id if following else None,
    )
    return following
