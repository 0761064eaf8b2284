"""Who may do what in an assembly session, and when: one predicate per rule.

Each rule is ``<action>_refusal(actor, obj, …) -> str | None``: why ``actor``
may not do it now (translated), or None. Services raise with it (``enforce``:
403 for who the actor is, 409 for where the session stands); pages ask the same
predicates through ``allowed()``, so no template restates a rule.

The session is run by its chair and by the forum's facilitators; the delegates
it summons (``queries.summoned_condition``) check in, ask to speak and vote;
every reader of the forum follows it (agenda, list of speakers, projector).
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from ..consultations.models import Consultation
from ..errors import Conflict, PermissionDenied
from ..extensions import db
from ..forums import permissions as forum_rules
from ..forums.models import Membership
from ..votes.models import Poll
from . import queries
from .models import (
    AgendaPoint,
    AssemblySession,
    PointKind,
    PointState,
    SessionState,
    SpeakerRequest,
    SpeakerState,
)


class Refusal(str):
    """Why an action is refused because of where things stand (409)."""

    error = Conflict


class Forbidden(Refusal):
    """Refused because of who the actor is (403)."""

    error = PermissionDenied


def enforce(refusal: str | None) -> None:
    if refusal is not None:
        raise getattr(refusal, "error", Conflict)(str(refusal))


@dataclass
class Seat:
    """The actor's standing in one session, read once per request."""

    membership: Membership | None
    runs: bool
    summoned: bool
    present: bool
    request: SpeakerRequest | None


def seat_of(actor, session: AssemblySession, point: AgendaPoint | None = None) -> Seat:
    """Membership, chair or facilitator, summoned, checked in, place on the list."""
    signed_in = getattr(actor, "is_authenticated", False)
    membership = forum_rules.membership_of(actor, session.forum) if signed_in else None
    runs = _runs(actor, session, membership)
    summoned = queries.is_summoned(membership)
    present = summoned and queries.is_present(session, actor.id)
    point = point if point is not None else queries.current_point(session)
    request = queries.own_request(point, actor.id) if summoned else None
    return Seat(membership, runs, summoned, present, request)


def _runs(actor, session: AssemblySession, membership: Membership | None = None) -> bool:
    if actor is None:
        return True
    if not getattr(actor, "is_authenticated", False):
        return False
    return actor.id == session.chair_id or forum_rules.can_manage(actor, session.forum, membership)


# --- reading and running ---------------------------------------------------------------


def view_refusal(actor, session: AssemblySession) -> str | None:
    """Whoever reads the forum follows its sessions (agenda, speakers, projector)."""
    if forum_rules.can_view(actor, session.forum):
        return None
    return Forbidden(_("Only members can see this forum."))


def create_refusal(actor, consultation: Consultation) -> str | None:
    if not forum_rules.can_manage(actor, consultation.forum):
        return Forbidden(_("Only the forum's facilitators can call an assembly session."))
    return forum_rules.archived_refusal(consultation.forum)


def run_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    """The console: the session's chair and the forum's facilitators."""
    if (seat.runs if seat is not None else _runs(actor, session)) is True:
        return None
    return Forbidden(_("Only the chair of the session and the facilitators can run it."))


def _adjourned(session: AssemblySession) -> str | None:
    if session.state is SessionState.ADJOURNED:
        return Refusal(_("The session is adjourned."))
    return None


def _not_sitting(session: AssemblySession) -> str | None:
    if session.state is not SessionState.IN_SESSION:
        return Refusal(_("The session is not in progress."))
    return None


def edit_agenda_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    return run_refusal(actor, session, seat) or _adjourned(session)


def remove_point_refusal(actor, point: AgendaPoint, seat: Seat | None = None) -> str | None:
    """Only a point not yet taken up and without a vote leaves the agenda."""
    if refusal := edit_agenda_refusal(actor, point.session, seat):
        return refusal
    if point.state is not PointState.PENDING or point.poll_id is not None:
        return Refusal(_("Only a point not yet taken up can be removed."))
    return None


def outcome_refusal(actor, point: AgendaPoint, seat: Seat | None = None) -> str | None:
    """The chair notes what a point that is not voted on concluded (a voted
    point's outcome is its vote's)."""
    if refusal := edit_agenda_refusal(actor, point.session, seat):
        return refusal
    if point.kind is not PointKind.OTHER:
        return Refusal(_("The outcome of this point is its vote's."))
    return None


def start_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    if refusal := run_refusal(actor, session, seat):
        return refusal
    if session.state is not SessionState.SCHEDULED:
        return Refusal(_("The session has started already."))
    return None


def _vote_running(point: AgendaPoint | None, poll: Poll | None) -> str | None:
    if point is not None and poll is not None and poll.state == "open":
        return Refusal(_("Close the vote on the point first."))
    return None


def adjourn_refusal(
    actor, session: AssemblySession, seat: Seat | None = None, point=None, poll=None
) -> str | None:
    return run_refusal(actor, session, seat) or _not_sitting(session) or _vote_running(point, poll)


def move_on_refusal(
    actor, session: AssemblySession, seat: Seat | None = None, point=None, poll=None
) -> str | None:
    """Close the point on the floor and take up the next (the projector follows)."""
    return run_refusal(actor, session, seat) or _not_sitting(session) or _vote_running(point, poll)


def take_up_refusal(
    actor, point: AgendaPoint, current=None, poll=None, seat: Seat | None = None
) -> str | None:
    """Put one point on the floor, out of the agenda's order."""
    session = point.session
    if refusal := move_on_refusal(actor, session, seat, current, poll):
        return refusal
    if point.id == session.current_point_id:
        return Refusal(_("This point is on the floor already."))
    return None


def open_vote_refusal(
    actor, point: AgendaPoint | None, poll: Poll | None, seat: Seat | None = None
) -> str | None:
    """The vote on the point on the floor, with the session's rules."""
    if point is None:
        return Refusal(_("There is no point on the floor."))
    session = point.session
    if refusal := run_refusal(actor, session, seat) or _not_sitting(session):
        return refusal
    if point.kind is PointKind.OTHER:
        return Refusal(_("This point is not voted on."))
    if point.id != session.current_point_id:
        return Refusal(_("Only the point on the floor can be put to the vote."))
    if poll is not None and poll.state == "open":
        return Refusal(_("The vote on this point is open."))
    if poll is not None and poll.state == "closed":
        return Refusal(_("This point has been voted on."))
    return None


def close_vote_refusal(
    actor, point: AgendaPoint | None, poll: Poll | None, seat: Seat | None = None
) -> str | None:
    if point is None:
        return Refusal(_("There is no point on the floor."))
    if refusal := run_refusal(actor, point.session, seat):
        return refusal
    if poll is None or poll.state != "open":
        return Refusal(_("No vote is open on this point."))
    return None


# --- presence --------------------------------------------------------------------------


def _summoned(seat: Seat) -> str | None:
    if seat.summoned:
        return None
    return Forbidden(_("Only the delegates summoned to this session can do this."))


def check_in_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    seat = seat or seat_of(actor, session)
    if refusal := _summoned(seat) or _adjourned(session):
        return refusal
    if seat.present:
        return Refusal(_("You are checked in already."))
    return None


def check_out_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    seat = seat or seat_of(actor, session)
    if refusal := _summoned(seat):
        return refusal
    if not seat.present:
        return Refusal(_("You are not checked in."))
    return None


def proxy_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    """Handing one's vote on the point (or taking it back): the delegates
    summoned; the vote's own rules (``votes.grant_proxy``) decide the rest."""
    return _summoned(seat or seat_of(actor, session))


def mark_presence_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    """The chair marks a delegate present or absent (the roll call)."""
    return run_refusal(actor, session, seat) or _adjourned(session)


# --- speakers --------------------------------------------------------------------------


def speak_refusal(
    actor, session: AssemblySession, seat: Seat | None = None, point=None
) -> str | None:
    """Asking to speak on the point on the floor: a delegate who is checked in."""
    seat = seat or seat_of(actor, session, point)
    if refusal := _summoned(seat) or _not_sitting(session):
        return refusal
    if session.current_point_id is None:
        return Refusal(_("There is no point on the floor."))
    if not seat.present:
        return Refusal(_("Check in before asking to speak."))
    if seat.request is not None:
        return Refusal(_("You are on the list of speakers already."))
    return None


def withdraw_refusal(actor, request: SpeakerRequest | None) -> str | None:
    if request is None or getattr(actor, "id", None) != request.user_id:
        return Forbidden(_("Only the delegate who asked to speak can withdraw."))
    if request.state is not SpeakerState.WAITING:
        return Refusal(_("Only a request still waiting can be withdrawn."))
    return None


def call_next_refusal(
    actor, session: AssemblySession, seat: Seat | None = None, requests=None
) -> str | None:
    if refusal := run_refusal(actor, session, seat) or _not_sitting(session):
        return refusal
    if requests is not None and not queries.waiting(requests):
        return Refusal(_("Nobody is waiting to speak."))
    return None


def finish_speaker_refusal(
    actor, session: AssemblySession, seat: Seat | None = None, requests=None
) -> str | None:
    if refusal := run_refusal(actor, session, seat):
        return refusal
    if requests is not None and queries.speaking(requests) is None:
        return Refusal(_("Nobody has the floor."))
    return None


def time_limit_refusal(actor, session: AssemblySession, seat: Seat | None = None) -> str | None:
    return run_refusal(actor, session, seat) or _adjourned(session)


# --- what a page offers ----------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """What the session's pages offer the reader, from the rules above."""

    run: bool
    delegate: bool
    present: bool
    edit_agenda: bool
    start: bool
    adjourn: bool
    move_on: bool
    open_vote: bool
    close_vote: bool
    mark_presence: bool
    check_in: bool
    check_out: bool
    speak: bool
    withdraw: bool
    call_next: bool
    finish_speaker: bool
    time_limit: bool
    seat: Seat


def allowed(
    actor,
    session: AssemblySession,
    point: AgendaPoint | None = None,
    poll: Poll | None = None,
    requests: list[SpeakerRequest] | None = None,
) -> Allowed:
    """``point``: the point on the floor, ``poll``: its vote, ``requests``: its
    list of speakers, when the page has read them (else read here)."""
    if point is None:
        point = queries.current_point(session)
    if poll is None and point is not None and point.poll_id is not None:
        poll = db.session.get(Poll, point.poll_id)
    seat = seat_of(actor, session, point)
    if requests is None:
        requests = queries.speakers(point) if seat.runs else []
    return Allowed(
        run=seat.runs,
        delegate=seat.summoned,
        present=seat.present,
        edit_agenda=edit_agenda_refusal(actor, session, seat) is None,
        start=start_refusal(actor, session, seat) is None,
        adjourn=adjourn_refusal(actor, session, seat, point, poll) is None,
        move_on=move_on_refusal(actor, session, seat, point, poll) is None,
        open_vote=open_vote_refusal(actor, point, poll, seat) is None,
        close_vote=close_vote_refusal(actor, point, poll, seat) is None,
        mark_presence=mark_presence_refusal(actor, session, seat) is None,
        check_in=check_in_refusal(actor, session, seat) is None,
        check_out=check_out_refusal(actor, session, seat) is None,
        speak=speak_refusal(actor, session, seat, point) is None,
        withdraw=withdraw_refusal(actor, seat.request) is None,
        call_next=call_next_refusal(actor, session, seat, requests) is None,
        finish_speaker=finish_speaker_refusal(actor, session, seat, requests) is None,
        time_limit=time_limit_refusal(actor, session, seat) is None,
        seat=seat,
    )
