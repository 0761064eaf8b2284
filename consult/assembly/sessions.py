"""Calling a session, its agenda proposed from the plan, opening and adjourning it."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..amendments.models import Amendment, AmendmentStatus
from ..audit.services import record
from ..consultations.models import Consultation
from ..database import utcnow
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Membership
from ..inputs import clean_text
from ..plans import services as plans
from ..votes.models import QUORUM_BASES, QUORUM_KINDS, RULES, Poll, PollCandidate
from . import events, queries, wording
from .agenda import leave_floor, put_on_floor
from .models import RANKED_METHODS, AgendaPoint, AssemblySession, PointKind, SessionState
from .permissions import (
    adjourn_refusal,
    create_refusal,
    edit_agenda_refusal,
    enforce,
    start_refusal,
    view_refusal,
)
from .presence import close_all_intervals

MAX_SPEAKING_SECONDS = 3600


# --- reading ---------------------------------------------------------------------------


def get_session(actor, forum_slug: str, session_id) -> AssemblySession:
    """The session if ``actor`` may read its forum (the same 404 otherwise)."""
    forum = forums.get_forum_for(actor, forum_slug)
    session = db.session.get(AssemblySession, session_id) if isinstance(session_id, int) else None
    if session is None or session.forum_id != forum.id or view_refusal(actor, session):
        raise NotFound()
    return session


def sessions_of(consultation: Consultation) -> list[AssemblySession]:
    return list(
        db.session.scalars(
            select(AssemblySession)
            .where(AssemblySession.consultation_id == consultation.id)
            .order_by(AssemblySession.starts_at, AssemblySession.id)
        )
    )


# --- calling a session -----------------------------------------------------------------


@dataclass
class SessionInput:
    """What the facilitator fills in (the rules of its votes included)."""

    title: str
    starts_at: datetime
    place: str = ""
    online_url: str = ""
    chair_id: int | None = None
    default_speaking_seconds: int = 180
    coalition_cap_seconds: int | None = None
    amendment_rule: str = "simple"
    approval_rule: str = "simple"
    ranked_method: str = "schulze"
    quorum_kind: str = "none"
    quorum_value: Decimal = field(default_factory=lambda: Decimal(0))
    quorum_base: str = "present"
    secret: bool = True
    max_proxies: int = 1


def _field_error(message: str, name: str) -> InvalidInput:
    error = InvalidInput(message)
    error.field = name
    return error


def _check_input(consultation: Consultation, data: SessionInput) -> None:
    if not clean_text(data.title, multiline=False):
        raise _field_error(_("Give the session a title."), "title")
    if data.starts_at is None or data.starts_at.tzinfo is None:
        raise _field_error(_("Give the date and time the session starts."), "starts_at")
    url = clean_text(data.online_url, multiline=False)
    if url and not url.startswith(("https://", "http://")):
        raise _field_error(_("The online link must start with https://."), "online_url")
    if not 10 <= data.default_speaking_seconds <= MAX_SPEAKING_SECONDS:
        raise _field_error(
            _("The speaking time is between 10 seconds and an hour."), "default_speaking_seconds"
        )
    cap = data.coalition_cap_seconds
    if cap is not None and not 10 <= cap <= 10 * MAX_SPEAKING_SECONDS:
        raise _field_error(
            _("The cap per coalition is between 10 seconds and ten hours."),
            "coalition_cap_seconds",
        )
    rules_known = (
        data.amendment_rule in RULES
        and data.approval_rule in RULES
        and data.ranked_method in RANKED_METHODS
        and data.quorum_kind in QUORUM_KINDS
        and data.quorum_base in QUORUM_BASES
    )
    if not rules_known:
        raise _field_error(_("Choose the rules of the session's votes."), "amendment_rule")
    if data.quorum_value < 0 or (data.quorum_kind == "share" and data.quorum_value > 1):
        raise _field_error(_("A quorum given as a share is between 0 and 1."), "quorum_value")
    if not 0 <= data.max_proxies <= 10:
        raise _field_error(_("A delegate may carry at most 10 proxies."), "max_proxies")
    if data.chair_id is not None and not _is_member(consultation, data.chair_id):
        raise _field_error(_("The chair must be a member of the forum."), "chair_id")


def _is_member(consultation: Consultation, user_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.forum_id == consultation.forum_id, Membership.user_id == user_id)
        )
    )


def create_session(actor, consultation: Consultation, data: SessionInput) -> AssemblySession:
    """Call a session; its agenda is proposed from the plan (``propose_agenda``)."""
    enforce(create_refusal(actor, consultation))
    _check_input(consultation, data)
    session = AssemblySession(
        forum_id=consultation.forum_id,
        consultation_id=consultation.id,
        plan_id=consultation.plan_id,
        title=clean_text(data.title, multiline=False)[:300],
        starts_at=data.starts_at,
        place=clean_text(data.place, multiline=False)[:300],
        online_url=clean_text(data.online_url, multiline=False)[:500],
        chair_id=data.chair_id if data.chair_id is not None else getattr(actor, "id", None),
        default_speaking_seconds=data.default_speaking_seconds,
        coalition_cap_seconds=data.coalition_cap_seconds,
        amendment_rule=data.amendment_rule,
        approval_rule=data.approval_rule,
        ranked_method=data.ranked_method,
        quorum_kind=data.quorum_kind,
        quorum_value=data.quorum_value if data.quorum_kind != "none" else Decimal(0),
        quorum_base=data.quorum_base,
        secret=data.secret,
        max_proxies=data.max_proxies,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(session)
    db.session.flush()
    points = propose_agenda(session)
    record("assembly.created", session, actor=actor, forum=consultation.forum, points=len(points))
    return session


# --- the agenda the plan proposes ------------------------------------------------------


def assembly_amendments(session: AssemblySession) -> list[Amendment]:
    """The amendments put to the assembly: sent to a vote by the facilitators and
    not in a vote being prepared or running elsewhere."""
    running = select(Poll.id).where(
        Poll.plan_id == session.plan_id, Poll.state.in_(("draft", "open"))
    )
    busy = select(Poll.amendment_id).where(Poll.id.in_(running), Poll.amendment_id.is_not(None))
    ranked = select(PollCandidate.amendment_id).where(
        PollCandidate.poll_id.in_(running), PollCandidate.amendment_id.is_not(None)
    )
    return list(
        db.session.scalars(
            select(Amendment).where(
                Amendment.plan_id == session.plan_id,
                Amendment.status == AmendmentStatus.VOTING,
                Amendment.id.not_in(busy),
                Amendment.id.not_in(ranked),
            )
        )
    )


def _grouped_in_text_order(
    session: AssemblySession, found: list[Amendment]
) -> list[list[Amendment]]:
    """Amendments on one item together, items in the order of the text; those
    whose item is not in the current text come last, by number."""
    order = {
        node.key: node.position for node in plans.version_nodes(plans.get_version(session.plan))
    }
    groups: dict[str, list[Amendment]] = {}
    for amendment in sorted(found, key=lambda a: a.number):
        key = amendment.target_key or f"#{amendment.id}"
        groups.setdefault(key, []).append(amendment)
    last = len(order) + 1
    return sorted(
        groups.values(),
        key=lambda group: (order.get(group[0].target_key, last), group[0].number),
    )


def propose_agenda(session: AssemblySession) -> list[AgendaPoint]:
    """Every amendment put to the assembly, in the order of the text, competing
    ones of one item in one point; then the approval of the resulting text."""
    groups = _grouped_in_text_order(session, assembly_amendments(session))
    points = [
        AgendaPoint(
            session_id=session.id,
            position=position,
            kind=PointKind.AMENDMENTS,
            title=wording.title("", wording.parts(amendments=group))[:300],
            target_key=group[0].target_key,
            amendments=group,
        )
        for position, group in enumerate(groups, start=1)
    ]
    points.append(
        AgendaPoint(
            session_id=session.id,
            position=len(points) + 1,
            kind=PointKind.APPROVAL,
            title=wording.title("", wording.parts(plan_title=session.plan.title))[:300],
        )
    )
    db.session.add_all(points)
    db.session.flush()
    return points


# --- opening and adjourning ------------------------------------------------------------


def start_session(actor, session: AssemblySession, now: datetime | None = None) -> None:
    """Open the session and put the first point on the floor."""
    enforce(start_refusal(actor, session))
    now = now or utcnow()
    session.state = SessionState.IN_SESSION
    session.opened_at = now
    first = queries.next_point(session, None)
    if first is not None:
        put_on_floor(session, first, now)
    record("assembly.started", session, actor=actor, forum=session.forum)
    events.publish(session, "point", point=session.current_point_id)


def adjourn_session(actor, session: AssemblySession, now: datetime | None = None) -> None:
    """Close the session: the point on the floor is done, presence intervals end."""
    point = queries.current_point(session)
    poll = db.session.get(Poll, point.poll_id) if point and point.poll_id else None
    enforce(adjourn_refusal(actor, session, None, point, poll))
    now = now or utcnow()
    if point is not None:
        leave_floor(session, point, now)
    close_all_intervals(actor, session, now)
    session.state = SessionState.ADJOURNED
    session.adjourned_at = now
    record("assembly.adjourned", session, actor=actor, forum=session.forum)
    events.publish(session, "point", point=None)


def update_speaking_rules(
    actor, session: AssemblySession, default_seconds: int, cap_seconds: int | None
) -> None:
    """The default speaking time and the cap per coalition, changed during the session."""
    enforce(edit_agenda_refusal(actor, session))
    if not 10 <= default_seconds <= MAX_SPEAKING_SECONDS:
        raise _field_error(
            _("The speaking time is between 10 seconds and an hour."), "default_speaking_seconds"
        )
    if cap_seconds is not None and not 10 <= cap_seconds <= 10 * MAX_SPEAKING_SECONDS:
        raise _field_error(
            _("The cap per coalition is between 10 seconds and ten hours."),
            "coalition_cap_seconds",
        )
    session.default_speaking_seconds = default_seconds
    session.coalition_cap_seconds = cap_seconds
    record(
        "assembly.speaking_rules",
        session,
        actor=actor,
        forum=session.forum,
        default=default_seconds,
        cap=cap_seconds,
    )
    events.publish(session, "speakers")
