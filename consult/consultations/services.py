"""Consultations: the dated phases that decide what members may do, and the
scheduler that opens and closes them on time, exactly once."""

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.services import clean_text
from ..audit.services import record
from ..database import utcnow
from ..date_formats import format_moment
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..forums.models import Forum
from ..forums.permissions import require
from ..plans.models import Plan
from ..plans.services import archived_refusal
from .models import ACTIONS, DEFAULT_ACTIONS, PHASE_KINDS, Consultation, Phase
from .readings import consultation_of, start_refusal

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
    time zone and language, with the zone's name (see consult/date_formats.py)."""
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
