"""Consultations: the dated phases that decide what members may do, and the
scheduler that opens and closes them on time, exactly once."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..accounts.services import clean_text
from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..forums.models import Forum, Membership
from ..forums.permissions import require
from ..notifications.services import notify_many
from ..plans.models import Plan
from ..plans.services import archived_refusal
from ..timezones import format_moment
from .models import ACTIONS, DEFAULT_ACTIONS, PHASE_KINDS, Consultation, Phase
from .readings import consultation_of, start_refusal

PHASE_LABELS = {
    "proposals": _l("Proposals and comments"),
    "amendments": _l("Amendments"),
    "review": _l("Review"),
    "voting": _l("Voting"),
    "assembly": _l("Assembly"),
    "closed": _l("Closed"),
}
ACTION_LABELS = {
    "amend": _l("propose amendments"),
    "support": _l("support amendments"),
    "comment": _l("comment on the plan"),
    "vote": _l("vote"),
}
OPENS_ON = {
    "amend": _l("Amendments can be proposed from %(date)s."),
    "support": _l("Amendments can be supported from %(date)s."),
    "comment": _l("Comments open on %(date)s."),
    "vote": _l("Voting opens on %(date)s."),
}
CLOSED_ON = {
    "amend": _l("Amendments closed on %(date)s."),
    "support": _l("Supports closed on %(date)s."),
    "comment": _l("Comments closed on %(date)s."),
    "vote": _l("Voting closed on %(date)s."),
}
NOT_IN_PLAN = {
    "amend": _l("This consultation does not take amendments now."),
    "support": _l("This consultation does not take supports now."),
    "comment": _l("This consultation does not take comments now."),
    "vote": _l("There is no vote in this consultation now."),
}
PLAN_CLOSED = {
    "amend": _l("This plan is not open for amendments at the moment."),
    "support": _l("This plan is not open for supports at the moment."),
    "comment": _l("Comments are closed: this plan is not open for input at the moment."),
    "vote": _l("There is no vote on this plan at the moment."),
}


def valid_timezone(name: str) -> bool:
    if not isinstance(name, str) or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return False
    return True


def common_timezones() -> list[str]:
    """The zones of the Americas first (where the forums are), then the others."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    americas = [z for z in zones if z.startswith("America/")]
    return ["UTC", *americas, *(z for z in zones if not z.startswith("America/"))]


def to_utc(local: datetime, timezone: str) -> datetime:
    """A wall-clock time of the calendar's zone as an aware UTC datetime."""
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_time(consultation: Consultation, moment: datetime, fmt: str = "medium") -> str:
    """A moment of the consultation's calendar as the reader reads it: in their
    time zone and language, with the zone's name (see consult/timezones.py)."""
    return format_moment(moment, fmt)


# --- reading ------------------------------------------------------------------

_NOT_READ = object()  # "not given: read it"


def get_consultation(user, forum_slug: str, consultation_id) -> Consultation:
    forum = forums.get_forum_for(user, forum_slug)
    consultation = (
        db.session.get(Consultation, consultation_id) if isinstance(consultation_id, int) else None
    )
    if consultation is None or consultation.forum_id != forum.id:
        raise NotFound()
    return consultation


def list_consultations(forum: Forum) -> list[Consultation]:
    return list(
        db.session.scalars(
            select(Consultation)
            .options(selectinload(Consultation.phases))
            .where(Consultation.forum_id == forum.id)
            .order_by(Consultation.created_at.desc())
        )
    )


def comment_closed_reason(consultation: Consultation) -> str | None:
    """Why members may not comment on ``consultation`` as a whole now (None:
    they may): its own phases decide, as they do for the plan's items."""
    return closed_reason(consultation.plan, "comment", consultation=consultation)


def open_phase(consultation: Consultation) -> Phase | None:
    return next((phase for phase in consultation.phases if phase.state == "open"), None)


def closed_reason(
    plan: Plan, action: str, now: datetime | None = None, *, consultation=_NOT_READ
) -> str | None:
    """None when members may do ``action`` on this plan now; otherwise why not,
    saying when it opens or when it closed. A caller that has already read the
    plan's consultation (``consultation_of``, None included) passes it."""
    if refusal := archived_refusal(plan):
        return refusal
    if plan.status in ("approved", "archived"):
        return _("This plan is approved or archived; its text can no longer change.")
    if consultation is _NOT_READ:
        consultation = consultation_of(plan)
    if consultation is None:
        return None if plan.open_for_input else str(PLAN_CLOSED[action])
    current = open_phase(consultation)
    if current is not None and current.allows(action):
        return None
    now = now or utcnow()
    upcoming = [p for p in consultation.phases if p.state == "pending" and p.allows(action)]
    if upcoming:
        return str(OPENS_ON[action]) % {"date": local_time(consultation, upcoming[0].starts_at)}
    past = [p for p in consultation.phases if p.state == "closed" and p.allows(action)]
    if past:
        # The deadline, not the moment the scheduler noticed it had passed.
        return str(CLOSED_ON[action]) % {"date": local_time(consultation, past[-1].ends_at)}
    return str(NOT_IN_PLAN[action])


# --- writing ------------------------------------------------------------------


@dataclass
class PhaseInput:
    kind: str
    starts_at: datetime
    ends_at: datetime
    title: str = ""
    actions: dict | None = None


def _check_phases(phases: list[PhaseInput]) -> None:
    if not phases:
        raise InvalidInput(_("A consultation needs at least one phase."))
    for index, phase in enumerate(phases, start=1):
        if phase.kind not in PHASE_KINDS:
            raise InvalidInput(_("Unknown kind of phase."))
        if phase.starts_at.tzinfo is None or phase.ends_at.tzinfo is None:
            raise InvalidInput(_("Phase %(number)d needs dates with a time zone.", number=index))
        if phase.ends_at <= phase.starts_at:
            raise InvalidInput(_("Phase %(number)d must end after it starts.", number=index))
    for index, (first, second) in enumerate(pairwise(phases), start=2):
        if second.starts_at < first.ends_at:
            raise InvalidInput(
                _("Phase %(number)d starts before the previous one ends.", number=index)
            )


def create_consultation(
    actor,
    plan: Plan,
    *,
    title: str,
    description: str = "",
    timezone: str = "UTC",
    phases: list[PhaseInput],
) -> Consultation:
    forum_permissions.require_manage(actor, plan.forum)
    previous = consultation_of(plan)
    require(start_refusal(plan, previous))
    title = clean_text(title)[:300]
    if not title:
        raise InvalidInput(_("Please give the consultation a title."))
    if not valid_timezone(timezone):
        raise InvalidInput(_("Unknown time zone."))
    _check_phases(phases)
    consultation = Consultation(
        forum_id=plan.forum_id,
        plan_id=plan.id,
        # Two facilitators starting one at once: the unique (plan, number) lets one win.
        number=previous.number + 1 if previous is not None else 1,
        title=title,
        description=clean_text(description),
        timezone=timezone,
        created_by_id=getattr(actor, "id", None),
    )
    for position, phase in enumerate(phases):
        actions = {**DEFAULT_ACTIONS[phase.kind], **(phase.actions or {})}
        consultation.phases.append(
            Phase(
                position=position,
                kind=phase.kind,
                title=clean_text(phase.title)[:200],
                starts_at=phase.starts_at,
                ends_at=phase.ends_at,
                state="pending",
                **{f"allow_{action}": bool(actions[action]) for action in ACTIONS},
            )
        )
    db.session.add(consultation)
    if plan.status == "draft":
        plan.status = "consultation"
    db.session.flush()
    record("consultation.created", consultation, actor=actor, forum=plan.forum)
    return consultation


def extend_phase(actor, phase: Phase, new_end: datetime) -> None:
    """Give the current (or a coming) phase more time; recorded in the audit log."""
    consultation = phase.consultation
    forum_permissions.require_manage(actor, consultation.forum)
    if phase.state == "closed":
        raise Conflict(_("This phase is over; it can no longer be extended."))
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
    """Polls that close with the phase close with it at its new end."""
    from ..votes.models import Poll

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


def advance(actor, consultation: Consultation, now: datetime | None = None) -> Phase | None:
    """Close the open phase now and open the next one now (a facilitator's hand)."""
    forum_permissions.require_manage(actor, consultation.forum)
    now = now or utcnow()
    current = open_phase(consultation)
    pending = [p for p in consultation.phases if p.state == "pending"]
    if current is None and not pending:
        raise Conflict(_("The consultation is over; there is no next phase."))
    if current is not None:
        if now < current.ends_at:
            current.ends_at = max(now, current.starts_at + timedelta(seconds=1))
        _close(current, now)
    following = pending[0] if pending else None
    if following is not None:
        if following.starts_at > now:
            following.starts_at = max(now, current.ends_at) if current is not None else now
        _open(following, now)
    record(
        "consultation.advanced",
        consultation,
        actor=actor,
        forum=consultation.forum,
        opened=following.id if following else None,
    )
    return following


# --- the scheduler ------------------------------------------------------------------


def _open(phase: Phase, now: datetime) -> bool:
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
        phase=str(PHASE_LABELS[phase.kind]),
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
            opened += _open(phase, now)
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


# The amendments' statuses the consultation page counts, in the order of their life.
PROGRESS_STATUSES = (
    "submitted",
    "admitted",
    "voting",
    "accepted",
    "rejected",
    "merged",
    "withdrawn",
)


def progress(plan: Plan) -> dict[str, int]:
    """Amendments of the plan by status (one grouped query), for the public page."""
    from sqlalchemy import func

    from ..amendments.models import Amendment

    rows = db.session.execute(
        select(Amendment.status, func.count())
        .where(Amendment.plan_id == plan.id, Amendment.status != "draft")
        .group_by(Amendment.status)
    )
    return dict(rows.all())


def my_sections(user, plan: Plan) -> list:
    """The plan's sections in the hands of the member's working groups, so they
    see first what they are asked to work on."""
    from ..forums.models import WorkingGroupMember
    from ..plans.models import SectionGroup
    from ..plans.services import get_version, outline, version_nodes

    if not getattr(user, "is_authenticated", False) or plan.current_version_id is None:
        return []
    keys = set(
        db.session.scalars(
            select(SectionGroup.section_key)
            .join(
                WorkingGroupMember,
                WorkingGroupMember.working_group_id == SectionGroup.working_group_id,
            )
            .where(SectionGroup.plan_id == plan.id, WorkingGroupMember.user_id == user.id)
        )
    )
    if not keys:
        return []
    return [node for node in outline(version_nodes(get_version(plan))) if node.key in keys]
