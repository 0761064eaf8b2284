"""What the session's pages show, read in a fixed number of statements: the
floor (point, its text and changes, its vote, its speakers), the presence
figure, the reader's own part. Views render these; nothing here writes."""

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select

from ..amendments.models import Amendment
from ..diffing import diff_html
from ..extensions import db
from ..plans.models import PlanNode
from ..votes import disclosure as votes_disclosure
from ..votes import permissions as votes_permissions
from ..votes import queries as votes_queries
from ..votes.models import Poll
from . import queries
from .models import AgendaPoint, AssemblySession, SpeakerRequest, SpeakerState
from .permissions import Allowed, allowed
from .points import poll_of


@dataclass(frozen=True)
class Change:
    """One amendment of the point as the room reads it: the word diff of a
    replacement, the text a deletion removes, or the text an insertion adds."""

    amendment: Amendment
    diff: Markup | None = None
    removed: str = ""
    added: str = ""


@dataclass(frozen=True)
class VoteView:
    """The vote on the floor as everyone may see it: turnout while it is open
    (never a partial count), the result once it is closed."""

    poll: Poll
    turnout: dict | None = None
    winner_label: str = ""
    options: list[tuple[str, Any]] = field(default_factory=list)
    quorum_met: bool | None = None


@dataclass
class Floor:
    session: AssemblySession
    point: AgendaPoint | None
    poll: Poll | None
    requests: list[SpeakerRequest]
    presence: queries.Presence
    node: PlanNode | None = None
    changes: list[Change] = field(default_factory=list)
    vote: VoteView | None = None

    @property
    def speaker(self) -> SpeakerRequest | None:
        return queries.speaking(self.requests)

    @property
    def waiting(self) -> list[SpeakerRequest]:
        return queries.waiting(self.requests)

    def countdown(self, now) -> tuple[str, str]:
        """The speaker's end of time (ISO 8601, for live.js) and the time left (m:ss)."""
        speaker = self.speaker
        return speaking_until_iso(speaker), countdown_text(speaker, now)

    @property
    def spoken(self) -> list[SpeakerRequest]:
        return [r for r in self.requests if r.state is SpeakerState.DONE]


def speaking_until_iso(request: SpeakerRequest | None) -> str:
    until = request.speaking_until if request is not None else None
    return until.isoformat() if until is not None else ""


def countdown_text(request: SpeakerRequest | None, now) -> str:
    """The time left as m:ss, for the page as served (live.js ticks it)."""
    until = request.speaking_until if request is not None else None
    if until is None:
        return ""
    left = max(int((until - now).total_seconds()), 0)
    return f"{left // 60}:{left % 60:02d}"


def _node(session: AssemblySession, point: AgendaPoint | None) -> PlanNode | None:
    if point is None or not point.target_key:
        return None
    return db.session.scalar(
        select(PlanNode).where(
            PlanNode.version_id == session.plan.current_version_id,
            PlanNode.key == point.target_key,
        )
    )


def _changes(point: AgendaPoint | None) -> list[Change]:
    if point is None:
        return []
    return [_change(amendment) for amendment in point.amendments]


def _change(amendment: Amendment) -> Change:
    if amendment.operation == "replace":
        return Change(amendment, diff=diff_html(amendment.original_text, amendment.proposed_text))
    if amendment.operation == "delete":
        return Change(amendment, removed=amendment.original_text)
    return Change(amendment, added=amendment.proposed_text)


def option_label(poll: Poll, option: str) -> str:
    if poll.is_ranked:
        return votes_queries.candidate_labels(poll).get(option, option)
    return votes_queries.choice_label(poll, option)


def _vote(poll: Poll | None) -> VoteView | None:
    if poll is None or poll.state in ("draft", "cancelled"):
        return None
    if poll.state == "open":
        return VoteView(poll=poll, turnout=votes_queries.turnout(poll))
    shown = votes_disclosure.disclosure(poll)
    return VoteView(
        poll=poll,
        turnout=votes_queries.turnout(poll),
        winner_label=option_label(poll, poll.winner) if poll.winner else "",
        options=[(option_label(poll, o.option), o.weight) for o in shown.options],
        quorum_met=poll.quorum_met,
    )


def floor(session: AssemblySession, *, text: bool = False) -> Floor:
    """The point on the floor with its vote and speakers; with ``text``, also
    the item's text and the amendments' word diffs (the projector, the phone)."""
    point = queries.current_point(session)
    poll = poll_of(point)
    result = Floor(
        session=session,
        point=point,
        poll=poll,
        requests=queries.speakers(point),
        presence=queries.presence(session),
        vote=_vote(poll),
    )
    if text:
        result.node = _node(session, point)
        result.changes = _changes(point)
    return result


def allowed_on(actor, current: Floor) -> Allowed:
    return allowed(actor, current.session, current.point, current.poll, current.requests)


@dataclass
class Ballots:
    """The reader's part in the vote on the floor (``votes_permissions.voter_status`` and
    ``votes_permissions.allowed``): their own ballot, those they carry, proxies."""

    status: Any = None
    actions: Any = None
    carried: list = field(default_factory=list)
    labels: dict = field(default_factory=dict)


def ballots(actor, current: Floor) -> Ballots:
    poll = current.poll
    if poll is None or poll.state != "open" or not getattr(actor, "is_authenticated", False):
        return Ballots()
    status = votes_permissions.voter_status(actor, poll)
    return Ballots(
        status=status,
        actions=votes_permissions.allowed(actor, poll, status),
        carried=[grantor for grantor, cast in status.proxies_held if not cast],
        labels=votes_queries.candidate_labels(poll),
    )


def place_in_queue(current: Floor, user_id: int | None) -> int | None:
    """1 for the next to be called."""
    for number, request in enumerate(current.waiting, start=1):
        if request.user_id == user_id:
            return number
    return None
