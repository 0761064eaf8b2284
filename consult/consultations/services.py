"""Consultations: starting one with its dated phases, reading them in the
calendar's zone, and what the plan's page counts. What each phase allows is
decided in :mod:`.permissions`; the calendar runs in :mod:`.scheduler`."""

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.services import clean_text
from ..audit.services import record
from ..date_formats import format_moment
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum, WorkingGroupMember
from ..forums.permissions import require
from ..plans.models import Plan, SectionGroup
from ..plans.services import get_version, outline, version_nodes
from .models import ACTIONS, DEFAULT_ACTIONS, PHASE_KINDS, Consultation, Phase
from .permissions import create_refusal
from .readings import consultation_of
from .readings import open_phase as open_phase  # asked through services by the pages


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
    previous = consultation_of(plan)
    require(create_refusal(actor, plan, previous))
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


def my_sections(user, plan: Plan) -> list:
    """The plan's sections in the hands of the member's working groups, so they
    see first what they are asked to work on."""
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
