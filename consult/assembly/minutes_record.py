"""The minutes' record: what happened in an assembly session, as data.

``build_minutes`` writes a language-neutral record (ids, names people typed,
codes such as ``"for"`` or ``"simple"``, moments in ISO 8601 UTC, numbers as
exact strings): every label is produced when it is rendered, in the reader's
language (:mod:`.minutes_text`).

A vote's entry holds what the vote publishes to every reader
(``votes_disclosure.disclosures`` and ``votes.explanation``): the weighted totals, the
number of ballots per option only where that singles nobody out, and the
checksum of the ballots. Never a ballot, nor who voted what.
"""

import hashlib
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..database import utcnow
from ..extensions import db
from ..forums.models import Membership
from ..votes import disclosure as votes_disclosure
from ..votes import explanation
from ..votes import queries as votes_queries
from ..votes.models import Poll
from .models import AgendaPoint, AssemblySession, Attendance, SpeakerRequest, SpeakerState

# The version of the record's layout, for those who read the published JSON.
MINUTES_FORMAT = 1
SPOKE = (SpeakerState.SPEAKING, SpeakerState.DONE)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def _name(user) -> str:
    return user.display_name if user is not None else ""


# --- the record ---------------------------------------------------------------------


def build_minutes(session: AssemblySession) -> dict:
    """What happened in the session, as it stands in the database now."""
    points = list(
        db.session.scalars(
            select(AgendaPoint)
            .options(selectinload(AgendaPoint.amendments))
            .where(AgendaPoint.session_id == session.id)
            .order_by(AgendaPoint.position, AgendaPoint.id)
        )
    )
    return {
        "format": MINUTES_FORMAT,
        "generated_at": _moment(utcnow()),
        "session": _session_record(session),
        "attendance": _attendance(session),
        "points": _points(session, points),
        "plan": _plan_record(session, points),
    }


def _session_record(session: AssemblySession) -> dict:
    consultation = session.consultation
    return {
        "id": session.id,
        "title": session.title,
        "forum": session.forum.slug,
        "forum_name": session.forum.name,
        "consultation_id": session.consultation_id,
        "consultation_title": consultation.title,
        "timezone": consultation.timezone or "UTC",
        "starts_at": _moment(session.starts_at),
        "opened_at": _moment(session.opened_at),
        "adjourned_at": _moment(session.adjourned_at),
        "place": session.place or "",
        "online_url": session.online_url or "",
        "chair": {"id": session.chair_id, "name": _name(session.chair)},
    }


def _attendance(session: AssemblySession) -> list[dict]:
    """Everyone who checked in, with each interval of presence, by name."""
    rows = db.session.scalars(
        select(Attendance)
        .options(selectinload(Attendance.user))
        .where(Attendance.session_id == session.id)
        .order_by(Attendance.checked_in_at, Attendance.id)
    ).all()
    memberships = {
        m.user_id: m
        for m in db.session.scalars(
            select(Membership)
            .options(selectinload(Membership.coalition))
            .where(
                Membership.forum_id == session.forum_id,
                Membership.user_id.in_({row.user_id for row in rows}),
            )
        )
    }
    people: dict[int, dict] = {}
    for row in rows:
        membership = memberships.get(row.user_id)
        person = people.setdefault(
            row.user_id,
            {
                "user_id": row.user_id,
                "name": _name(row.user),
                "coalition": membership.coalition.name
                if membership and membership.coalition
                else "",
                "weight": _number(membership.vote_weight) if membership else None,
                "delegate": bool(membership and membership.is_delegate),
                "intervals": [],
            },
        )
        person["intervals"].append(
            {"in": _moment(row.checked_in_at), "out": _moment(row.checked_out_at)}
        )
    return sorted(people.values(), key=lambda p: (p["name"].casefold(), p["user_id"]))


def _speakers(session: AssemblySession) -> dict[int, list[dict]]:
    rows = db.session.scalars(
        select(SpeakerRequest)
        .options(selectinload(SpeakerRequest.user), selectinload(SpeakerRequest.coalition))
        .where(SpeakerRequest.session_id == session.id, SpeakerRequest.state.in_(SPOKE))
        .order_by(SpeakerRequest.called_at, SpeakerRequest.id)
    ).all()
    by_point: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        seconds = None
        if row.called_at is not None and row.finished_at is not None:
            seconds = max(0, int((row.finished_at - row.called_at).total_seconds()))
        by_point[row.point_id].append(
            {
                "user_id": row.user_id,
                "name": _name(row.user),
                "coalition": row.coalition.name if row.coalition else "",
                "side": str(row.side),
                "started_at": _moment(row.called_at),
                "seconds": seconds,
                "time_limit_seconds": row.time_limit_seconds,
            }
        )
    return by_point


def _points(session: AssemblySession, points: list[AgendaPoint]) -> list[dict]:
    speakers = _speakers(session)
    poll_ids = [point.poll_id for point in points if point.poll_id is not None]
    polls = {
        poll.id: poll
        for poll in db.session.scalars(
            select(Poll).options(selectinload(Poll.candidates)).where(Poll.id.in_(poll_ids))
        )
    }
    closed = [poll for poll in polls.values() if poll.state == "closed"]
    shown = votes_disclosure.disclosures(closed)
    records = []
    for number, point in enumerate(points, start=1):
        poll = polls.get(point.poll_id)
        records.append(
            {
                "id": point.id,
                "number": number,
                "kind": str(point.kind),
                "title": point.title,
                # Said in each language of the minutes (assembly.wording).
                "title_parts": point.title_parts,
                "description": point.description or "",
                "amendments": [a.label for a in point.amendments],
                "state": str(point.state),
                "started_at": _moment(point.started_at),
                "ended_at": _moment(point.ended_at),
                "speakers": speakers.get(point.id, []),
                "vote": _vote_record(poll, shown.get(poll.id)) if poll is not None else None,
            }
        )
    return records


def _vote_record(poll: Poll, shown: votes_disclosure.Disclosure | None) -> dict:
    """The vote as the minutes tell it: its rule, and once closed its figures,
    outcome and checksum (what ``votes_disclosure.disclosures`` publishes, nothing more)."""
    entry = {
        "poll_id": poll.id,
        "title": poll.title,
        "subject": poll.subject,
        "scope": poll.scope,
        "method": poll.method,
        "rule": None if poll.is_ranked else poll.rule,
        "abstentions_count": None if poll.is_ranked else bool(poll.abstentions_count),
        "secret": bool(poll.secret),
        "quorum_setting": {
            "kind": poll.quorum_kind,
            "value": _number(poll.quorum_value),
            "base": poll.quorum_base,
        },
        "state": poll.state,
        "opened_at": _moment(poll.opened_at),
        "closed_at": _moment(poll.closed_at),
        "candidates": [c.name for c in poll.candidates] if poll.is_ranked else [],
    }
    explained = explanation.explain(poll) if poll.state == "closed" else None
    if explained is None or shown is None:
        return entry
    result = votes_queries.stored_result(poll) or {}
    document = explained.to_json()
    entry.update(
        weighted=explained.weighted,
        electorate_size=poll.electorate_size,
        electorate_weight=_number(poll.electorate_weight),
        voters=explained.voters,
        turnout_weight=_number(explained.turnout_weight),
        quorum=document["quorum"],
        threshold=document.get("threshold"),
        ballots_public=shown.ballots_public,
        options=[
            {"option": t.option, "weight": _number(t.weight), "ballots": t.ballots}
            for t in shown.options
        ],
        ranking=list(explained.ranking),
        winner=result.get("winner"),
        consequences=document["consequences"],
        checksum=poll.checksum or result.get("checksum"),
    )
    return entry


def _plan_record(session: AssemblySession, points: list[AgendaPoint]) -> dict:
    plan = session.plan
    version = plan.current_version
    amendments = {a.id: a for point in points for a in point.amendments}
    return {
        "id": plan.id,
        "title": plan.title,
        "status": plan.status,
        "version_number": version.number if version is not None else None,
        "version_title": version.title if version is not None else "",
        "final": bool(version is not None and version.is_final),
        "amendments": [
            {"label": a.label, "status": a.status}
            for a in sorted(amendments.values(), key=lambda a: a.number)
        ],
    }


def digest(minutes: dict) -> str:
    """A fingerprint of the record's content (its build time aside): the
    sign-off form carries the one the chair read, so that what is signed is
    what was read."""
    content = {key: value for key, value in minutes.items() if key != "generated_at"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
