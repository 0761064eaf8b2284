"""What a closed vote publishes to every reader besides its result
(``Disclosure``), and who may download every ballot (``require_auditor``).

Secrecy: a secret ballot carries its voter's weight, so in a weighted assembly
the list of ballots would show the choice of a delegate whose weight few others
share: that list goes to every reader only when no weight stands out (see
``MIN_BALLOTS_PER_WEIGHT``), and otherwise to the people who check the count."""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..forums import services as forums
from . import tally as counting
from .integrity import weight_text
from .models import (
    Ballot,
    Poll,
    PollVoter,
)
from .queries import electorate_query

# A secret vote whose ballots do not all weigh the same publishes its list of
# ballots (and its number of ballots per option) only if every weight among them
# is carried by at least this many ballots.
MIN_BALLOTS_PER_WEIGHT = 5


@dataclass(frozen=True)
class OptionTotal:
    """One option of a vote: the weight of the ballots that chose it (in a ranked
    vote: that ranked it first) and, when it singles nobody out, their number."""

    option: str
    weight: Decimal
    ballots: int | None


@dataclass(frozen=True)
class Disclosure:
    """What a vote publishes to every reader of its forum, besides its result.

    ``ballots_public``: the list of ballots (each one's choice and weight, never a
    voter) and the number of ballots per option. That is so for a named vote
    (which publishes who voted what anyway), for a secret vote whose ballots all
    weigh the same (a weight then tells nothing: every unweighted vote), and for a
    secret vote in which every weight is carried by at least
    ``MIN_BALLOTS_PER_WEIGHT`` ballots: the sorted list is then the same as "so
    many ballots of weight w chose this", and no ballot stands out from the
    others of its weight.

    Otherwise (a secret vote in which some weight is carried by fewer ballots)
    every reader gets the weighted total of each option, and the number and
    weight of all the ballots together, nothing per ballot: next to weighted
    totals, even the number of ballots per option would give away a delegate
    whose weight is unique (weights 1, 1, 2, 1, 1: "no: 1 ballot, weight 2").
    The ballots then go only to those who run the forum's votes
    (``require_auditor``), who recompute the published checksum from them, the
    same SHA-256 as for every vote; ``verify`` recounts from the database.

    The weighted totals are the result and are always published. When a weight is
    unique they can still show that delegate's choice (a total of 2.5 where every
    other weight is 1): that is inherent in publishing a weighted vote's result.
    """

    ballots_public: bool
    options: list[OptionTotal]


def disclosures(polls: list[Poll], *, audit: bool = False) -> dict[int, Disclosure]:
    """What each of these polls publishes, from one grouped query over their
    ballots; with ``audit``, everything (for ``require_auditor``'s people)."""
    groups: dict[int, list[tuple[Any, str, int]]] = defaultdict(list)
    if polls:
        rows = db.session.execute(
            select(Ballot.poll_id, Ballot.choice, Ballot.weight, func.count())
            .where(Ballot.poll_id.in_([poll.id for poll in polls]))
            .group_by(Ballot.poll_id, Ballot.choice, Ballot.weight)
        ).all()
        for poll_id, choice, weight, number in rows:
            groups[poll_id].append((json.loads(choice), weight_text(weight), number))
    return {poll.id: _disclosure(poll, groups[poll.id], audit) for poll in polls}


def disclosure(poll: Poll, *, audit: bool = False) -> Disclosure:
    return disclosures([poll], audit=audit)[poll.id]


def _disclosure(poll: Poll, groups: list[tuple[Any, str, int]], audit: bool) -> Disclosure:
    per_weight: Counter = Counter()
    for _choice, weight, number in groups:
        per_weight[weight] += number
    public = (
        audit
        or not poll.secret
        or len(per_weight) <= 1
        or min(per_weight.values()) >= MIN_BALLOTS_PER_WEIGHT
    )
    if poll.is_ranked:
        options = [candidate.name for candidate in poll.candidates]
    else:
        options = list(counting.YES_NO_CHOICES)
    weights = dict.fromkeys(options, Decimal(0))
    numbers = dict.fromkeys(options, 0)
    for choice, weight, number in groups:
        option = (choice[0] if choice else None) if poll.is_ranked else choice
        if option in weights:
            weights[option] += Decimal(weight) * number
            numbers[option] += number
    return Disclosure(
        ballots_public=public,
        options=[
            OptionTotal(option, weights[option].normalize(), numbers[option] if public else None)
            for option in options
        ],
    )


def weights_differ(poll: Poll) -> bool:
    """Whether this poll's voters carry different weights: the assembly's delegates
    as they stand (before opening), or the electorate frozen at opening."""
    if poll.scope != "assembly":
        return False
    if poll.opened_at is None:  # to open, or cancelled before it opened
        electorate = electorate_query(poll).subquery()
        distinct = select(func.count(func.distinct(electorate.c.weight)))
    else:
        distinct = select(func.count(func.distinct(PollVoter.weight))).where(
            PollVoter.poll_id == poll.id
        )
    return (db.session.scalar(distinct) or 0) > 1


def require_auditor(actor, poll: Poll) -> None:
    """Who may download every ballot of any vote, whatever it publishes: those who
    run the forum's votes (its facilitators and administrators, and platform
    administrators), who check the count and its checksum."""
    forums.require_manage(actor, poll.forum)
