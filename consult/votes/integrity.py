"""Counting a vote from its ballots and checking the count: the canonical
(sorted) ballots, their SHA-256 checksum, the result computed at closing, the
running count where the poll shows one, and ``verify``'s recount."""

import hashlib
import json
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import Conflict, ServiceError
from ..extensions import db
from . import tally as counting
from .models import (
    Ballot,
    Poll,
    PollVoter,
)
from .queries import stored_result


def weight_text(weight: Decimal) -> str:
    """A weight written the same way on every database ("1", "2.5")."""
    return format(Decimal(weight).normalize(), "f")


def canonical_ballots(poll: Poll) -> list[tuple[Any, str]]:
    """Every counted ballot as (choice, weight text), sorted: the list the checksum
    covers and the exports publish. Sorting erases the order ballots came in."""
    rows = db.session.execute(
        select(Ballot.choice, Ballot.weight).where(Ballot.poll_id == poll.id)
    ).all()
    ballots = [(json.loads(choice), weight_text(weight)) for choice, weight in rows]
    return sorted(ballots, key=_ballot_line)


def _ballot_line(ballot: tuple[Any, str]) -> str:
    return json.dumps(list(ballot), ensure_ascii=False, separators=(",", ":"))


def checksum(ballots: list[tuple[Any, str]]) -> str:
    """SHA-256 over the sorted ballots, one JSON line each: anyone with the
    published ballot list can recompute it."""
    text = "\n".join(_ballot_line(ballot) for ballot in ballots)
    return hashlib.sha256(text.encode()).hexdigest()


def quorum_setting(poll: Poll) -> dict | None:
    if poll.quorum_kind == "none":
        return None
    return {poll.quorum_kind: poll.quorum_value}


def compute_result(poll: Poll) -> dict[str, Any]:
    """Count the poll's ballots with its settings and frozen electorate.

    Pure given the database rows, so closing and ``verify`` agree: the same ballots
    always give the same result, JSON-ready (numbers as exact strings).
    """
    ballots = canonical_ballots(poll)
    counted = [counting.Ballot(choice, Decimal(weight)) for choice, weight in ballots]
    if poll.is_ranked:
        names = [candidate.name for candidate in poll.candidates]
        details = counting.tally(poll.method, counted, candidates=names)
    else:
        details = counting.tally(
            "yesno",
            counted,
            rule=poll.rule,
            electorate_weight=poll.electorate_weight,
            abstentions_count=poll.abstentions_count,
        )
    turnout_weight = sum((Decimal(weight) for _, weight in ballots), Decimal(0))
    present_weight = db.session.scalar(
        select(func.coalesce(func.sum(PollVoter.weight), 0)).where(
            PollVoter.poll_id == poll.id, PollVoter.present.is_(True)
        )
    )
    measured = Decimal(present_weight) if poll.quorum_base == "present" else turnout_weight
    required = counting.quorum_required(quorum_setting(poll), poll.electorate_weight)
    met = measured >= required
    return counting.to_json(
        {
            "poll": poll.id,
            "method": poll.method,
            "rule": poll.rule if not poll.is_ranked else None,
            "abstentions_count": poll.abstentions_count if not poll.is_ranked else None,
            "winner": details["winner"] if met else None,
            "electorate_size": poll.electorate_size,
            "electorate_weight": Decimal(poll.electorate_weight).normalize(),
            "ballots": len(ballots),
            "turnout_weight": turnout_weight.normalize(),
            "quorum": {
                "kind": poll.quorum_kind,
                "value": Decimal(poll.quorum_value).normalize(),
                "base": poll.quorum_base,
                "required": required.normalize(),
                "measured": measured.normalize(),
                "met": met,
            },
            "tally": details,
            "checksum": checksum(ballots),
        }
    )


def live_result(poll: Poll) -> dict | None:
    """The count so far, for polls that do not hide it (None otherwise)."""
    if not poll.state.is_open or poll.hide_results:
        return None
    return compute_result(poll)


def verify(poll: Poll) -> dict[str, Any]:
    """Recount a closed poll from its ballots and compare with what was frozen."""
    if not poll.state.is_closed or poll.result is None:
        raise Conflict(_("Only a closed vote has a result to verify."))
    try:
        recount = compute_result(poll)
    except ServiceError as error:
        # Ballots that cannot even be counted (a weight or choice no vote can
        # produce) were altered after closing: a failed check, not a crash.
        ballots = canonical_ballots(poll)
        recount = {
            "checksum": checksum(ballots),
            "winner": None,
            "ballots": len(ballots),
            "error": str(error.message),
        }
    stored = stored_result(poll)
    return {
        "poll": poll.id,
        "ok": recount == stored and recount["checksum"] == poll.checksum,
        "checksum_matches": recount["checksum"] == poll.checksum,
        "result_matches": recount == stored,
        "stored_checksum": poll.checksum,
        "computed_checksum": recount["checksum"],
        "winner": recount["winner"],
        "ballots": recount["ballots"],
        "error": recount.get("error"),
    }
