"""The list of speakers on the point on the floor: delegates ask (for, against,
or a point of order, heard first), the chair calls the next, gives a time limit
and finishes; a coalition's speakers share the session's cap of speaking time
on each point."""

from datetime import datetime

from flask_babel import gettext as _

from ..audit.services import record
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..forums import permissions as forum_rules
from . import events, queries
from .models import AgendaPoint, AssemblySession, SpeakerRequest, SpeakerSide, SpeakerState
from .permissions import (
    Refusal,
    call_next_refusal,
    enforce,
    finish_speaker_refusal,
    speak_refusal,
    time_limit_refusal,
    withdraw_refusal,
)

MAX_LIMIT_SECONDS = 3600


def spoken_seconds(requests: list[SpeakerRequest], coalition_id: int | None) -> int:
    """Speaking time a coalition has used on the point: what its speakers who
    finished spoke, and the time given to the one speaking now."""
    used = 0
    for request in requests:
        if coalition_id is None or request.coalition_id != coalition_id:
            continue
        if request.state is SpeakerState.DONE and request.called_at and request.finished_at:
            used += int((request.finished_at - request.called_at).total_seconds())
        elif request.state is SpeakerState.SPEAKING:
            used += request.time_limit_seconds or 0
    return used


def remaining_seconds(
    session: AssemblySession, requests: list[SpeakerRequest], coalition_id: int | None
) -> int | None:
    """What is left of the coalition's cap on this point (None: no cap)."""
    if session.coalition_cap_seconds is None or coalition_id is None:
        return None
    return max(session.coalition_cap_seconds - spoken_seconds(requests, coalition_id), 0)


def _floor(session: AssemblySession) -> tuple[AgendaPoint | None, list[SpeakerRequest]]:
    point = queries.current_point(session)
    return point, queries.speakers(point)


def ask(actor, session: AssemblySession, side, now: datetime | None = None) -> SpeakerRequest:
    """A delegate asks to speak on the point on the floor."""
    try:
        side = SpeakerSide(side)
    except ValueError:
        raise InvalidInput(_("Choose for, against or a point of order.")) from None
    point, requests = _floor(session)
    enforce(speak_refusal(actor, session, None, point))
    membership = forum_rules.membership_of(actor, session.forum)
    coalition_id = membership.coalition_id if membership else None
    if remaining_seconds(session, requests, coalition_id) == 0:
        enforce(Refusal(_("Your coalition has used its speaking time on this point.")))
    request = SpeakerRequest(
        session_id=session.id,
        point_id=point.id,
        user_id=actor.id,
        coalition_id=coalition_id,
        side=side,
        requested_at=now or utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    record("assembly.asked_to_speak", session, actor=actor, forum=session.forum, side=side.value)
    events.publish(session, "speakers")
    return request


def withdraw(actor, request: SpeakerRequest) -> None:
    enforce(withdraw_refusal(actor, request))
    request.state = SpeakerState.WITHDRAWN
    session = db.session.get(AssemblySession, request.session_id)
    record("assembly.withdrew", session, actor=actor, forum=session.forum)
    events.publish(session, "speakers")


def _finish(request: SpeakerRequest | None, now: datetime) -> None:
    if request is not None:
        request.state = SpeakerState.DONE
        request.finished_at = now


def call_next(
    actor, session: AssemblySession, now: datetime | None = None
) -> SpeakerRequest | None:
    """The speaker on the floor finishes; the next in the queue whose coalition
    has time left is called with the default time (or what is left of the
    cap). Requests of a coalition that has none left lapse."""
    _point, requests = _floor(session)
    enforce(call_next_refusal(actor, session, None, requests))
    now = now or utcnow()
    _finish(queries.speaking(requests), now)
    called = None
    for request in queries.waiting(requests):
        left = remaining_seconds(session, requests, request.coalition_id)
        if left == 0:
            request.state = SpeakerState.WITHDRAWN
            continue
        request.state, request.called_at = SpeakerState.SPEAKING, now
        limit = session.default_speaking_seconds
        request.time_limit_seconds = limit if left is None else min(limit, left)
        called = request
        break
    record(
        "assembly.called_speaker",
        session,
        actor=actor,
        forum=session.forum,
        speaker=called.user_id if called else None,
    )
    events.publish(session, "speakers")
    return called


def finish(actor, session: AssemblySession, now: datetime | None = None) -> None:
    _point, requests = _floor(session)
    enforce(finish_speaker_refusal(actor, session, None, requests))
    speaker = queries.speaking(requests)
    _finish(speaker, now or utcnow())
    record(
        "assembly.speaker_finished",
        session,
        actor=actor,
        forum=session.forum,
        speaker=speaker.user_id,
    )
    events.publish(session, "speakers")


def set_time_limit(
    actor, session: AssemblySession, seconds: int, now: datetime | None = None
) -> None:
    """The speaker on the floor has ``seconds`` more from now (within what is
    left of their coalition's cap)."""
    enforce(time_limit_refusal(actor, session))
    _point, requests = _floor(session)
    speaker = queries.speaking(requests)
    if speaker is None:
        enforce(Refusal(_("Nobody has the floor.")))
    if not isinstance(seconds, int) or not 1 <= seconds <= MAX_LIMIT_SECONDS:
        raise InvalidInput(_("Give between 1 second and an hour."))
    now = now or utcnow()
    elapsed = max(int((now - speaker.called_at).total_seconds()), 0)
    limit = elapsed + seconds
    others = [r for r in requests if r.id != speaker.id]
    left = remaining_seconds(session, others, speaker.coalition_id)
    if left is not None:
        limit = min(limit, max(left, elapsed) or 1)
    speaker.time_limit_seconds = max(limit, 1)
    record("assembly.time_limit", session, actor=actor, forum=session.forum, seconds=seconds)
    events.publish(session, "speakers")


def request_of(session: AssemblySession, request_id) -> SpeakerRequest | None:
    request = db.session.get(SpeakerRequest, request_id) if isinstance(request_id, int) else None
    return request if request is not None and request.session_id == session.id else None
