"""The votes on the points: made, opened and closed through ``consult.votes``
(its rules, electorate, proxies, secrecy and counting), with the session's
rules; the outcome is kept on the point.

The chair runs the votes of their session: a chair who is not one of the
forum's facilitators (who appointed them) acts here as the session, so the
vote services are called as the system (``actor=None``) once this module has
checked the session's own rules; the audit log names the chair.
"""

from datetime import datetime, timedelta

from flask_babel import gettext as _

from ..audit.services import record
from ..database import utcnow
from ..extensions import db
from ..forums import permissions as forum_rules
from ..votes import lifecycle as votes_lifecycle
from ..votes import proxies as votes_proxies
from ..votes import setup as votes_setup
from ..votes.models import Poll
from . import events, queries, wording
from .models import AgendaPoint, AssemblySession, PointKind
from .permissions import (
    Refusal,
    close_vote_refusal,
    enforce,
    open_vote_refusal,
    proxy_refusal,
)

# A vote on the floor is closed by the chair; this is only its latest closing time.
VOTE_WINDOW = timedelta(hours=6)


def point_on_floor(session: AssemblySession) -> AgendaPoint:
    point = queries.current_point(session)
    if point is None:
        enforce(Refusal(_("There is no point on the floor.")))
    return point


def poll_of(point: AgendaPoint | None) -> Poll | None:
    if point is None or point.poll_id is None:
        return None
    return db.session.get(Poll, point.poll_id)


def _as(actor, session: AssemblySession):
    """Who the vote services see: the actor if they run the forum, else the system."""
    return actor if forum_rules.can_manage(actor, session.forum) else None


def _settings(
    session: AssemblySession, point: AgendaPoint, method: str
) -> votes_setup.PollSettings:
    approval = point.kind is PointKind.APPROVAL
    return votes_setup.PollSettings(
        # Read in every language: what the point is about, not a sentence.
        title=wording.name(point.title_parts) if point.title_parts else point.title,
        method=method,
        secret=session.secret,
        rule=session.approval_rule if approval else session.amendment_rule,
        quorum_kind=session.quorum_kind,
        quorum_value=session.quorum_value,
        quorum_base=session.quorum_base,
        # Never a running count on the projector: results show once it closes.
        hide_results=True,
        allow_change=True,
        max_proxies=session.max_proxies,
        include_status_quo=True,
    )


def _create_poll(by, session: AssemblySession, point: AgendaPoint, now: datetime) -> Poll:
    common = {
        "scope": "assembly",
        "opens_at": now,
        "closes_at": now + VOTE_WINDOW,
    }
    if point.kind is PointKind.APPROVAL:
        return votes_setup.create_poll(
            by,
            session.plan,
            subject="plan",
            settings=_settings(session, point, "yesno"),
            **common,
        )
    if len(point.amendments) == 1:
        return votes_setup.create_poll(
            by,
            session.plan,
            subject="amendment",
            amendment=point.amendments[0],
            settings=_settings(session, point, "yesno"),
            **common,
        )
    return votes_setup.create_poll(
        by,
        session.plan,
        subject="competing",
        amendments=list(point.amendments),
        settings=_settings(session, point, session.ranked_method),
        **common,
    )


def open_vote(actor, point: AgendaPoint, now: datetime | None = None) -> Poll:
    """Open the vote on the point on the floor (made now if it has none yet);
    for a quorum of delegates present, its roll call is the room's."""
    session = point.session
    poll = poll_of(point)
    enforce(open_vote_refusal(actor, point, poll))
    now = now or utcnow()
    by = _as(actor, session)
    if poll is None or poll.state == "cancelled":
        poll = _create_poll(by, session, point, now)
        point.poll_id = poll.id
    votes_lifecycle.open_poll(by, poll, now)
    sync_roll_call(session, point, poll)
    record("assembly.vote_opened", session, actor=actor, forum=session.forum, poll=poll.id)
    events.publish(session, "vote", point=point.id)
    return poll


def close_vote(actor, point: AgendaPoint, now: datetime | None = None) -> Poll:
    """Close and count the vote; the outcome goes on the point."""
    session = point.session
    poll = poll_of(point)
    enforce(close_vote_refusal(actor, point, poll))
    sync_roll_call(session, point, poll)
    votes_lifecycle.close_poll(_as(actor, session), poll, now)
    point.outcome_parts = wording.outcome_parts(poll)
    point.outcome = wording.outcome("", point.outcome_parts)  # as the chair reads it
    record(
        "assembly.vote_closed",
        session,
        actor=actor,
        forum=session.forum,
        poll=poll.id,
        winner=poll.winner,
    )
    events.publish(session, "vote", point=point.id)
    return poll


def sync_roll_call(
    session: AssemblySession, point: AgendaPoint | None = None, poll: Poll | None = None
) -> None:
    """While a vote "of delegates present" is open on the floor, its roll call
    is who is checked in now."""
    point = point if point is not None else queries.current_point(session)
    poll = poll if poll is not None else poll_of(point)
    if poll is None or poll.state != "open" or poll.quorum_base != "present":
        return
    votes_proxies.set_presence(None, poll, queries.present_ids(session))


# --- proxies for a delegate who leaves ------------------------------------------------------


def _running_poll(point: AgendaPoint) -> Poll:
    poll = poll_of(point)
    if poll is None or poll.state != "open":
        enforce(Refusal(_("No vote is open on this point.")))
    return poll


def hand_proxy(actor, point: AgendaPoint, holder_id) -> None:
    """Hand one's vote on the point to another delegate (``votes_proxies.grant_proxy``)."""
    enforce(proxy_refusal(actor, point.session))
    votes_proxies.grant_proxy(actor, _running_poll(point), holder_id)
    events.publish(point.session, "vote", point=point.id)


def take_proxy_back(actor, point: AgendaPoint) -> None:
    enforce(proxy_refusal(actor, point.session))
    votes_proxies.revoke_proxy(actor, _running_poll(point))
    events.publish(point.session, "vote", point=point.id)
