"""What a closed vote's result means: ``explain`` computes it as numbers (a
``ResultExplanation``, from the frozen result and the poll's settings), and
``explanation_text`` says it in the reader's language, with numbers formatted
by Babel (``percent``, ``number``). The vote's page and its downloads render the same
explanation, so they cannot tell different stories.

It publishes nothing that ``disclosure.disclosures`` withholds: only weighted
totals, shares of them and the number of voters, never a number of ballots per
option (which would single out a delegate whose weight is unique).
"""

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from flask_babel import format_decimal, format_percent, get_locale

from . import disclosure, queries
from . import tally as counting
from .models import STATUS_QUO, Poll

# The base a majority is measured against.
BASE_YES_NO = "yes_no"  # the votes cast for yes or no (abstentions left out)
BASE_CAST = "cast"  # every vote cast, abstentions included
BASE_ELECTORATE = "electorate"  # the whole electorate, voters or not
BASE_CONTINUING = "continuing"  # instant-runoff: the ballots still in the count

SHARE_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class OptionShare:
    """One option: its weighted votes and their share of the base (None when the
    option is outside the base, e.g. abstentions left out); for Schulze, the
    number of other options it beats in pairwise comparison instead."""

    option: str
    weight: Decimal | None = None
    share: Decimal | None = None
    beats: int | None = None


@dataclass(frozen=True)
class QuorumExplanation:
    kind: str  # "none", "share" or "count"
    value: Decimal
    counted_on: str  # "ballots" (votes cast) or "present" (roll call)
    required: Decimal
    measured: Decimal
    met: bool


@dataclass(frozen=True)
class TieBreak:
    """A tie the count had to break: in an instant-runoff round, who was
    eliminated among the tied and by which rule; in a Schulze order, the tied
    options, ordered by name."""

    tied: list[str]
    decided_by: str  # "first_round", "earlier_round", "name"
    round: int | None = None
    eliminated: str | None = None


@dataclass(frozen=True)
class Consequence:
    """What the vote did: ``subject`` is "amendment" (``name`` its label) or
    "plan" (``name`` its title); ``outcome`` is "accepted", "rejected" or
    "admitted" (back, to be taken up again) for an amendment, and "approved",
    "not_approved", "not_final" (passed, but the text changed while the vote
    ran) or "nothing" (no decision) for the plan."""

    subject: str
    name: str
    outcome: str
    version: int | None = None


@dataclass(frozen=True)
class ResultExplanation:
    poll: int
    method: str
    scope: str
    rule: str | None
    weighted: bool
    voters: int
    electorate_size: int
    turnout_weight: Decimal
    electorate_weight: Decimal
    base: str | None
    base_weight: Decimal | None
    # The majority needed: more than (strict) or at least a fraction of the base.
    threshold: tuple[int, int] | None
    threshold_strict: bool
    threshold_met: bool | None
    options: list[OptionShare]
    quorum: QuorumExplanation
    winner: str | None
    ranking: list[str] = field(default_factory=list)
    round: int | None = None  # instant-runoff: the round the shares are taken from
    tie_breaks: list[TieBreak] = field(default_factory=list)
    consequences: list[Consequence] = field(default_factory=list)

    def to_json(self) -> dict:
        """Numbers as exact strings, like the stored result."""
        document = counting.to_json(asdict(self))
        if self.threshold is not None:
            document["threshold"] = f"{self.threshold[0]}/{self.threshold[1]}"
        return document


def _share(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (part / whole).quantize(SHARE_PLACES)


def _yes_no(poll: Poll, details: dict) -> dict:
    totals = {choice: Decimal(details[choice]) for choice in counting.YES_NO_CHOICES}
    if poll.rule == "absolute":
        base = BASE_ELECTORATE
    else:
        base = BASE_CAST if details["abstentions_count"] else BASE_YES_NO
    base_weight = Decimal(details["base"])
    threshold, strict = ((2, 3), False) if poll.rule == "two_thirds" else ((1, 2), True)
    options = [
        OptionShare(
            choice,
            weight,
            None
            if choice == counting.ABSTAIN and base == BASE_YES_NO
            else _share(weight, base_weight),
        )
        for choice, weight in totals.items()
    ]
    return {
        "base": base,
        "base_weight": base_weight,
        "threshold": threshold,
        "threshold_strict": strict,
        "threshold_met": bool(details["rule_met"]),
        "options": options,
    }


def _instant_runoff(details: dict) -> dict:
    rounds = details["rounds"]
    fields = {"base": BASE_CONTINUING, "threshold": (1, 2)}
    if rounds:
        last = rounds[-1]
        base_weight = Decimal(last["continuing"])
        counts = sorted(last["counts"].items(), key=lambda item: -Decimal(item[1]))
        fields.update(
            round=last["round"],
            base_weight=base_weight,
            options=[
                OptionShare(name, Decimal(value), _share(Decimal(value), base_weight))
                for name, value in counts
            ],
            threshold_met=last["elected"] is not None,
        )
    fields["tie_breaks"] = [
        TieBreak(
            tied=record["tie_break"]["tied"],
            decided_by=record["tie_break"]["decided_by"],
            round=record["round"],
            eliminated=record["eliminated"],
        )
        for record in rounds
        if record["tie_break"]
    ]
    return fields


def _schulze(details: dict) -> dict:
    ranking = list(details["ranking"])
    wins = counting.pairwise_wins(details["strongest_paths"])
    return {
        "ranking": ranking,
        "options": [OptionShare(name, beats=wins[name]) for name in ranking],
        "tie_breaks": [TieBreak(tied=list(tier), decided_by="name") for tier in details["ties"]],
    }


def _quorum_explained(quorum: dict) -> QuorumExplanation:
    return QuorumExplanation(
        kind=quorum["kind"],
        value=Decimal(quorum["value"]),
        counted_on=quorum["base"],
        required=Decimal(quorum["required"]),
        measured=Decimal(quorum["measured"]),
        met=bool(quorum["met"]),
    )


def explain(poll: Poll) -> ResultExplanation | None:
    """The explanation of a closed poll's frozen result (None before it closes)."""
    result = queries.stored_result(poll)
    if not poll.state.is_closed or result is None:
        return None
    details = result["tally"]
    fields = {
        "base": None,
        "base_weight": None,
        "threshold": None,
        "threshold_strict": True,
        "threshold_met": None,
        "options": [],
    }
    if poll.method == "yesno":
        fields |= _yes_no(poll, details)
    elif poll.method == "irv":
        fields |= _instant_runoff(details)
    else:
        fields |= _schulze(details)
    return ResultExplanation(
        poll=poll.id,
        method=poll.method,
        scope=poll.scope,
        rule=poll.rule if poll.method == "yesno" else None,
        weighted=disclosure.weights_differ(poll),
        voters=result["ballots"],
        electorate_size=result["electorate_size"],
        turnout_weight=Decimal(result["turnout_weight"]),
        electorate_weight=Decimal(result["electorate_weight"]),
        quorum=_quorum_explained(result["quorum"]),
        winner=result["winner"],
        consequences=_consequences(poll, result["winner"]),
        **fields,
    )


def _consequences(poll: Poll, winner: str | None) -> list[Consequence]:
    """What closing did with this result (``lifecycle._apply_result``)."""
    if poll.subject == "plan":
        plan, version = poll.plan, poll.version
        number = version.number if version is not None else None
        if winner is None:
            outcome = "nothing"
        elif winner != counting.YES:
            outcome = "not_approved"
        else:
            outcome = "approved" if version is not None and version.is_final else "not_final"
        return [Consequence("plan", plan.title, outcome, number)]
    if poll.subject == "amendment":
        amendment = poll.amendment
        if amendment is None:
            return []
        if winner is None:
            outcome = "admitted"
        else:
            outcome = "accepted" if winner == counting.YES else "rejected"
        return [Consequence("amendment", amendment.label, outcome)]
    consequences = []
    for candidate in poll.candidates:
        if candidate.amendment is None or candidate.name == STATUS_QUO:
            continue
        if winner is None:
            outcome = "admitted"
        else:
            outcome = "accepted" if candidate.name == winner else "rejected"
        consequences.append(Consequence("amendment", candidate.amendment.label, outcome))
    return consequences


# --- in words ----------------------------------------------------------------------


def percent(value: Decimal) -> str:
    """A share as a percentage with one decimal, laid out as the reader's locale
    writes percentages ("68.2%", "68,2 %")."""
    pattern = get_locale().percent_formats[None].pattern.split(";")[0]
    if "." not in pattern:
        pattern = re.sub(r"0(?!.*0)", "0.0", pattern, count=1)
    return format_percent(value, pattern)


def number(value: Decimal) -> str:
    return format_decimal(value)
