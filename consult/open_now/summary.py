"""What is open now in the reader's forums (the forum page and the home page):
the consultations in an open phase and until when (with the time left), the
votes open now, and the assembly sessions called or in session; then what
waits for this reader there (``for_you``). A constant number of statements for
any number of forums, plans and votes."""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from ..assembly.models import AssemblySession, SessionState
from ..consultations.models import Consultation, Phase
from ..database import utcnow
from ..date_formats import countdown, format_moment
from ..extensions import db
from ..forums.models import Forum
from ..plans.models import Plan
from ..votes.models import Poll, PollState
from .for_you import ForYou, for_reader

# Sessions shown from this long before they start.
SESSIONS_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class OpenPhase:
    forum: Forum
    plan: Plan
    consultation: Consultation
    phase: Phase
    name: str
    ends: str
    left: str  # "in 3 days"


@dataclass(frozen=True)
class OpenVote:
    forum: Forum
    poll: Poll
    closes: str
    left: str


@dataclass(frozen=True)
class CalledSession:
    forum: Forum
    session: AssemblySession
    starts: str
    in_session: bool


@dataclass
class WhatsOpen:
    phases: list[OpenPhase] = field(default_factory=list)
    votes: list[OpenVote] = field(default_factory=list)
    sessions: list[CalledSession] = field(default_factory=list)
    mine: ForYou = field(default_factory=ForYou)

    def __bool__(self) -> bool:
        return bool(self.phases or self.votes or self.sessions or self.mine)


def _castable(found: WhatsOpen, forum_ids: list[int]) -> list[int]:
    """The open votes that take ballots now: their plan has no consultation
    (no phase limits them), or its open phase allows voting (as
    ``votes.permissions.phase_reason`` rules). One statement."""
    if not found.votes:
        return []
    voting = {item.plan.id for item in found.phases if item.phase.allows("vote")}
    consulted = set(
        db.session.scalars(
            select(Consultation.plan_id).where(Consultation.forum_id.in_(forum_ids)).distinct()
        )
    )
    return [
        vote.poll.id
        for vote in found.votes
        if vote.poll.plan_id in voting or vote.poll.plan_id not in consulted
    ]


def whats_open(forums: list[Forum], reader=None, now=None) -> WhatsOpen:
    """What is open now in ``forums`` (forums the reader may see), soonest
    deadline first, and what waits for ``reader`` there; dates in the
    reader's zone and language."""
    now = now or utcnow()
    by_id = {forum.id: forum for forum in forums}
    if not by_id:
        return WhatsOpen()
    found = WhatsOpen(
        phases=_open_phases(by_id, now),
        votes=_open_votes(by_id, now),
        sessions=_called_sessions(by_id, now),
    )
    found.mine = for_reader(reader, forums, _castable(found, list(by_id)))
    return found


def _open_phases(by_id: dict[int, Forum], now) -> list[OpenPhase]:
    """The open phases of the forums' consultations, the soonest to end first."""
    rows = db.session.execute(
        select(Phase, Consultation, Plan)
        .join(Consultation, Phase.consultation_id == Consultation.id)
        .join(Plan, Consultation.plan_id == Plan.id)
        .where(Consultation.forum_id.in_(by_id), Phase.state == "open")
        .order_by(Phase.ends_at)
    )
    return [
        OpenPhase(
            by_id[consultation.forum_id],
            plan,
            consultation,
            phase,
            phase.shown_title,
            format_moment(phase.ends_at),
            countdown(phase.ends_at, now),
        )
        for phase, consultation, plan in rows
    ]


def _open_votes(by_id: dict[int, Forum], now) -> list[OpenVote]:
    """The forums' open votes, the soonest to close first."""
    polls = db.session.scalars(
        select(Poll)
        .where(Poll.forum_id.in_(by_id), Poll.state == PollState.OPEN)
        .order_by(Poll.closes_at)
    )
    return [
        OpenVote(
            by_id[poll.forum_id],
            poll,
            format_moment(poll.closes_at),
            countdown(poll.closes_at, now),
        )
        for poll in polls
    ]


def _called_sessions(by_id: dict[int, Forum], now) -> list[CalledSession]:
    """The forums' assembly sessions in session, or called to start within
    ``SESSIONS_AHEAD``, the soonest first."""
    sessions = db.session.scalars(
        select(AssemblySession)
        .where(
            AssemblySession.forum_id.in_(by_id),
            AssemblySession.state.in_([SessionState.SCHEDULED, SessionState.IN_SESSION]),
            AssemblySession.starts_at <= now + SESSIONS_AHEAD,
        )
        .order_by(AssemblySession.starts_at)
    )
    return [
        CalledSession(
            by_id[session.forum_id],
            session,
            format_moment(session.starts_at),
            session.state == SessionState.IN_SESSION,
        )
        for session in sessions
    ]
