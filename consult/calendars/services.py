"""Calendars (RFC 5545): a consultation's phases and votes as an .ics file, and
each member's personal feed of everything that concerns them across forums.

Events are written in UTC (``DTSTART:20261210T220000Z``), with UIDs that stay
the same from one download to the next (calendar applications update an event
instead of adding a copy), summaries in the reader's language and descriptions
that give the times in the reader's zone.
"""

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..consultations.models import Consultation, Phase
from ..database import utcnow
from ..date_formats import format_moment
from ..errors import NotFound
from ..extensions import db
from ..forums.models import Membership, WorkingGroupMember
from ..urls import external_url
from ..votes.models import Poll, PollVoter

PRODID = "-//Consult//Consult calendar//EN"
# What a vote still in the calendar may be: a cancelled one is left out.
LISTED_POLL_STATES = ("draft", "open", "closed")
KEY_BYTES = 24


# --- the member's secret address -----------------------------------------------------


def reset_feed(user: User) -> str:
    """A new secret for ``user``'s feed; the old address stops working at once."""
    user.calendar_key = secrets.token_urlsafe(KEY_BYTES)
    return user.calendar_key


def feed_url(user: User) -> str | None:
    if not user.calendar_key:
        return None
    return external_url("calendars.feed", user_id=user.id, key=user.calendar_key)


def user_for_feed(user_id: int, key: str) -> User:
    """The member whose feed this is; NotFound for an unknown or old secret, or
    a deactivated account (the same answer, so nothing is learnt by guessing)."""
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if (
        user is None
        or not user.active
        or not user.calendar_key
        or not isinstance(key, str)
        or not hmac.compare_digest(user.calendar_key.encode(), key.encode())
    ):
        raise NotFound()
    return user


# --- what goes in ----------------------------------------------------------------------


def consultation_polls(consultation: Consultation) -> list[Poll]:
    return list(
        db.session.scalars(
            select(Poll)
            .where(Poll.plan_id == consultation.plan_id, Poll.state.in_(LISTED_POLL_STATES))
            .order_by(Poll.opens_at, Poll.id)
        )
    )


def member_consultations(user: User) -> list[Consultation]:
    """The consultations of every forum ``user`` belongs to."""
    forums = select(Membership.forum_id).where(Membership.user_id == user.id)
    return list(
        db.session.scalars(
            select(Consultation)
            .options(selectinload(Consultation.phases), selectinload(Consultation.forum))
            .where(Consultation.forum_id.in_(forums))
            .order_by(Consultation.id)
        )
    )


def member_polls(user: User) -> list[Poll]:
    """The votes open to ``user``: those whose electorate (frozen when they
    opened) holds them, and those still to open that they would vote in (a
    working group of theirs, or the assembly if they are a delegate)."""
    in_electorate = exists().where(PollVoter.poll_id == Poll.id, PollVoter.user_id == user.id)
    voting_member = and_(
        Membership.forum_id == Poll.forum_id,
        Membership.user_id == user.id,
        Membership.role != "observer",
    )
    in_group = exists().where(
        WorkingGroupMember.working_group_id == Poll.working_group_id,
        WorkingGroupMember.user_id == user.id,
    )
    would_vote = exists().where(
        voting_member,
        or_(
            and_(Poll.scope == "group", in_group),
            and_(
                Poll.scope == "assembly",
                Membership.is_delegate.is_(True),
                Membership.vote_weight > 0,
            ),
        ),
    )
    return list(
        db.session.scalars(
            select(Poll)
            .options(selectinload(Poll.forum))
            .where(
                or_(
                    and_(Poll.state.in_(("open", "closed")), in_electorate),
                    and_(Poll.state == "draft", would_vote),
                )
            )
            .order_by(Poll.opens_at, Poll.id)
        )
    )


# --- writing it ------------------------------------------------------------------------


def _host() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "consult"


def _utc(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar


def _event(uid: str, summary: str, start, end, url: str, description: str, stamp) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", _utc(start))
    if end is not None and _utc(end) > _utc(start):
        event.add("dtend", _utc(end))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")  # a phase or a vote does not make anyone busy
    return event


def phase_event(consultation: Consultation, phase: Phase, stamp: datetime) -> Event:
    name = phase.shown_title
    return _event(
        f"consult-phase-{phase.id}@{_host()}",
        _("%(consultation)s: %(phase)s", consultation=consultation.title, phase=name),
        phase.starts_at,
        phase.ends_at,
        external_url(
            "consultations.show", slug=consultation.forum.slug, consultation_id=consultation.id
        ),
        _(
            "Phase “%(phase)s” of the consultation “%(consultation)s”, from %(start)s to %(end)s.",
            phase=name,
            consultation=consultation.title,
            start=format_moment(phase.starts_at),
            end=format_moment(phase.ends_at),
        ),
        stamp,
    )


def poll_event(poll: Poll, stamp: datetime) -> Event:
    opens = poll.opened_at or poll.opens_at
    closes = poll.closed_at or poll.closes_at
    return _event(
        f"consult-poll-{poll.id}@{_host()}",
        _("Vote: %(title)s", title=poll.title),
        opens,
        closes,
        external_url("votes.show", slug=poll.forum.slug, poll_id=poll.id),
        _(
            "The vote opens on %(start)s and closes on %(end)s.",
            start=format_moment(opens),
            end=format_moment(closes),
        ),
        stamp,
    )


def consultation_calendar(consultation: Consultation, now: datetime | None = None) -> bytes:
    """The consultation's phases and votes, in the current language and zone."""
    stamp = _utc(now or utcnow())
    calendar = _calendar(consultation.title)
    for phase in consultation.phases:
        calendar.add_component(phase_event(consultation, phase, stamp))
    for poll in consultation_polls(consultation):
        calendar.add_component(poll_event(poll, stamp))
    return calendar.to_ical()


def member_calendar(user: User, now: datetime | None = None) -> bytes:
    """Everything that concerns ``user`` across their forums: the phases of
    the consultations, and the votes open to them with their closing times.
    Render it under the member's ``force_locale`` and ``force_timezone``."""
    stamp = _utc(now or utcnow())
    calendar = _calendar(_("Consult: %(name)s", name=user.display_name))
    for consultation in member_consultations(user):
        for phase in consultation.phases:
            calendar.add_component(phase_event(consultation, phase, stamp))
    for poll in member_polls(user):
        calendar.add_component(poll_event(poll, stamp))
    return calendar.to_ical()
