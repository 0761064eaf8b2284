"""What a closed vote's result means: ``explain`` computes it as numbers (a
``ResultExplanation``, from the frozen result and the poll's settings), and
``sentences`` / ``option_rows`` say it in the reader's language, with numbers
formatted by Babel. The vote's page and its downloads render the same
explanation, so they cannot tell different stories.

It publishes nothing that ``disclosure.disclosures`` withholds: only weighted
totals, shares of them and the number of voters, never a number of ballots per
option (which would single out a delegate whose weight is unique).
"""

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _

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


def explain(poll: Poll) -> ResultExplanation | None:
    """The explanation of a closed poll's frozen result (None before it closes)."""
    result = queries.stored_result(poll)
    if poll.state != "closed" or result is None:
        return None
    details = result["tally"]
    quorum = result["quorum"]
    base = base_weight = threshold = threshold_met = winner_round = None
    strict = True
    options: list[OptionShare] = []
    ranking: list[str] = []
    ties: list[TieBreak] = []
    if poll.method == "yesno":
        totals = {choice: Decimal(details[choice]) for choice in counting.YES_NO_CHOICES}
        if poll.rule == "absolute":
            base = BASE_ELECTORATE
        else:
            base = BASE_CAST if details["abstentions_count"] else BASE_YES_NO
        base_weight = Decimal(details["base"])
        threshold, strict = ((2, 3), False) if poll.rule == "two_thirds" else ((1, 2), True)
        threshold_met = bool(details["rule_met"])
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
    elif poll.method == "irv":
        rounds = details["rounds"]
        base, threshold = BASE_CONTINUING, (1, 2)
        if rounds:
            last = rounds[-1]
            winner_round = last["round"]
            base_weight = Decimal(last["continuing"])
            options = [
                OptionShare(name, Decimal(value), _share(Decimal(value), base_weight))
                for name, value in sorted(
                    last["counts"].items(), key=lambda item: -Decimal(item[1])
                )
            ]
            threshold_met = last["elected"] is not None
        for record in rounds:
            if record["tie_break"]:
                ties.append(
                    TieBreak(
                        tied=record["tie_break"]["tied"],
                        decided_by=record["tie_break"]["decided_by"],
                        round=record["round"],
                        eliminated=record["eliminated"],
                    )
                )
    else:
        ranking = list(details["ranking"])
        paths = details["strongest_paths"]
        options = [
            OptionShare(
                name,
                beats=sum(
                    1
                    for other in paths[name]
                    if Decimal(paths[name][other]) > Decimal(paths[other][name])
                ),
            )
            for name in ranking
        ]
        ties = [TieBreak(tied=list(tier), decided_by="name") for tier in details["ties"]]
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
        base=base,
        base_weight=base_weight,
        threshold=threshold,
        threshold_strict=strict,
        threshold_met=threshold_met,
        options=options,
        quorum=QuorumExplanation(
            kind=quorum["kind"],
            value=Decimal(quorum["value"]),
            counted_on=quorum["base"],
            required=Decimal(quorum["required"]),
            measured=Decimal(quorum["measured"]),
            met=bool(quorum["met"]),
        ),
        winner=result["winner"],
        ranking=ranking,
        round=winner_round,
        tie_breaks=ties,
        consequences=_consequences(poll, result["winner"]),
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


def option_label(poll: Poll, option: str) -> str:
    if poll.is_ranked:
        return queries.candidate_labels(poll).get(option, option)
    return queries.choice_label(poll, option)


def _share_sentence(explanation: ResultExplanation) -> str:
    """The sentence that sets the winning share against the threshold, whole (so
    that each language words it its own way)."""
    if explanation.base == BASE_CONTINUING:
        return _(
            "%(option)s in round %(round)s: %(share)s of the ballots still in the count "
            "(%(weight)s of %(base)s); more than half needed: %(outcome)s."
        )
    if explanation.base == BASE_ELECTORATE:
        return _(
            "Yes: %(share)s of the electorate (%(weight)s of %(base)s); more than half of the "
            "electorate needed: %(outcome)s."
        )
    if explanation.base == BASE_CAST:
        if explanation.threshold == (2, 3):
            return _(
                "Yes: %(share)s of the votes cast, abstentions included (%(weight)s of "
                "%(base)s); two thirds needed: %(outcome)s."
            )
        return _(
            "Yes: %(share)s of the votes cast, abstentions included (%(weight)s of %(base)s); "
            "more than half needed: %(outcome)s."
        )
    if explanation.threshold == (2, 3):
        return _(
            "Yes: %(share)s of the votes cast for yes or no (%(weight)s of %(base)s); two "
            "thirds needed: %(outcome)s."
        )
    return _(
        "Yes: %(share)s of the votes cast for yes or no (%(weight)s of %(base)s); more than "
        "half needed: %(outcome)s."
    )


def option_rows(poll: Poll, explanation: ResultExplanation) -> list[tuple[str, str, str]]:
    """(option, weighted votes, share of the base) for every option, formatted;
    for Schulze, (option, options it beats, "")."""
    rows = []
    for option in explanation.options:
        label = option_label(poll, option.option)
        if option.beats is not None:
            rows.append((label, number(Decimal(option.beats)), ""))
            continue
        share = percent(option.share) if option.share is not None else _("not counted")
        rows.append((label, number(option.weight), share))
    return rows


def _turnout(explanation: ResultExplanation) -> str:
    voted, total = number(Decimal(explanation.voters)), number(Decimal(explanation.electorate_size))
    if explanation.weighted:
        return _(
            "%(voted)s of %(total)s delegates voted, carrying %(weight)s of the electorate's "
            "%(total_weight)s votes (weighted).",
            voted=voted,
            total=total,
            weight=number(explanation.turnout_weight),
            total_weight=number(explanation.electorate_weight),
        )
    if explanation.scope == "assembly":
        return _("%(voted)s of %(total)s delegates voted.", voted=voted, total=total)
    return _("%(voted)s of %(total)s members of the group voted.", voted=voted, total=total)


def _base(explanation: ResultExplanation) -> str | None:
    base = number(explanation.base_weight) if explanation.base_weight is not None else ""
    if explanation.base == BASE_YES_NO:
        abstain = next(o.weight for o in explanation.options if o.option == counting.ABSTAIN)
        return _(
            "The majority is measured on the votes cast for yes or no (%(base)s); abstentions "
            "(%(abstain)s) are left out.",
            base=base,
            abstain=number(abstain),
        )
    if explanation.base == BASE_CAST:
        return _(
            "The majority is measured on all the votes cast, abstentions included (%(base)s): "
            "an abstention works like a no.",
            base=base,
        )
    if explanation.base == BASE_ELECTORATE:
        return _(
            "The majority is measured on the whole electorate (%(base)s), whether they voted "
            "or not.",
            base=base,
        )
    if explanation.base == BASE_CONTINUING:
        return _(
            "Instant-runoff: the option with the fewest votes is eliminated round by round until "
            "one holds more than half of the ballots still in the count."
        )
    return _(
        "Schulze method: the options are ordered by comparing them in pairs; the winner is "
        "preferred to every other option, directly or through a chain of preferences."
    )


def _majority(poll: Poll, explanation: ResultExplanation) -> list[str]:
    if explanation.method == "schulze":
        if not explanation.ranking:
            return []
        return [
            _(
                "Order of the options: %(ranking)s.",
                ranking=" > ".join(option_label(poll, name) for name in explanation.ranking),
            )
        ]
    if explanation.method == "irv":
        leader = explanation.options[0] if explanation.options else None
        if leader is None or leader.share is None:
            return [_("No option won: no ballot stayed in the count.")]
    else:
        leader = explanation.options[0]
        if leader.share is None:
            return [_("No vote counts toward the majority, so it was not reached.")]
    return [
        _share_sentence(explanation)
        % {
            "option": option_label(poll, leader.option),
            "round": number(Decimal(explanation.round or 1)),
            "share": percent(leader.share),
            "weight": number(leader.weight),
            "base": number(explanation.base_weight),
            "outcome": _("reached") if explanation.threshold_met else _("missed"),
        }
    ]


def _quorum(explanation: ResultExplanation) -> str:
    quorum = explanation.quorum
    if quorum.kind == "none":
        return _("No quorum was required.")
    values = {
        "required": number(quorum.required),
        "measured": number(quorum.measured),
        "outcome": _("reached") if quorum.met else _("missed"),
    }
    if quorum.kind == "share":
        values["share"] = percent(quorum.value)
        if quorum.counted_on == "present":
            return _(
                "Quorum: %(share)s of the electorate present at the roll call (%(required)s "
                "votes); %(measured)s present: %(outcome)s.",
                **values,
            )
        return _(
            "Quorum: %(share)s of the electorate (%(required)s votes); %(measured)s cast: "
            "%(outcome)s.",
            **values,
        )
    if quorum.counted_on == "present":
        return _(
            "Quorum: %(required)s votes present at the roll call; %(measured)s present: "
            "%(outcome)s.",
            **values,
        )
    return _("Quorum: %(required)s votes; %(measured)s cast: %(outcome)s.", **values)


def _tie_break(poll: Poll, tie: TieBreak) -> str:
    names = ", ".join(option_label(poll, name) for name in tie.tied)
    if tie.round is None:
        return _(
            "%(names)s are tied under the Schulze method; the documented tie-break orders them "
            "by name.",
            names=names,
        )
    values = {
        "round": number(Decimal(tie.round)),
        "names": names,
        "name": option_label(poll, tie.eliminated or ""),
    }
    if tie.decided_by == "first_round":
        return _(
            "Round %(round)s: %(names)s were tied with the fewest votes; %(name)s, with the fewest "
            "first-round votes, was eliminated.",
            **values,
        )
    if tie.decided_by == "earlier_round":
        return _(
            "Round %(round)s: %(names)s were tied with the fewest votes; %(name)s, with the fewest "
            "votes in an earlier round, was eliminated.",
            **values,
        )
    return _(
        "Round %(round)s: %(names)s were tied with the fewest votes in every round; %(name)s, "
        "whose name sorts last, was eliminated (the documented tie-break).",
        **values,
    )


def _consequence(consequence: Consequence) -> str:
    if consequence.subject == "amendment":
        return {
            "accepted": _("Amendment %(label)s is accepted."),
            "rejected": _("Amendment %(label)s is rejected."),
            "admitted": _("Amendment %(label)s is back to admitted, to be taken up again."),
        }[consequence.outcome] % {"label": consequence.name}
    return {
        "approved": _("The plan “%(title)s” is approved: version %(number)s is its final text."),
        "not_approved": _("The plan “%(title)s” is not approved."),
        "not_final": _(
            "The plan “%(title)s” is not approved: its text changed while the vote ran, so the "
            "version voted on (%(number)s) was not made final."
        ),
        "nothing": _("The plan “%(title)s” is not approved: the vote decided nothing."),
    }[consequence.outcome] % {"title": consequence.name, "number": consequence.version}


def sentences(poll: Poll, explanation: ResultExplanation) -> list[str]:
    """The result in words, in the reader's language: participation, the base
    and the threshold, the quorum, the tie-breaks and what the vote did."""
    lines = [_turnout(explanation)]
    base = _base(explanation)
    if base:
        lines.append(base)
    lines.extend(_majority(poll, explanation))
    lines.append(_quorum(explanation))
    if not explanation.quorum.met:
        lines.append(_("The quorum was missed, so the vote decided nothing."))
    if poll.is_ranked:
        if explanation.tie_breaks:
            lines.extend(_tie_break(poll, tie) for tie in explanation.tie_breaks)
        else:
            lines.append(_("No tie had to be broken."))
    lines.extend(_consequence(consequence) for consequence in explanation.consequences)
    return lines
