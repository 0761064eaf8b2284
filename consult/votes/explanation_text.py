"""A closed vote's result in the reader's language (``sentences``,
``option_rows``) and as chart rows, from ``explanation.explain``: the vote's
page and its downloads say the same thing."""

from decimal import Decimal

from flask_babel import gettext as _

from . import queries
from . import tally as counting
from .explanation import (
    BASE_CAST,
    BASE_CONTINUING,
    BASE_ELECTORATE,
    BASE_YES_NO,
    Consequence,
    ResultExplanation,
    TieBreak,
    number,
    percent,
)
from .models import Poll, YesNoChoice


def chart_rows(poll: Poll, result: dict | None) -> list[tuple[str, Decimal]]:
    """The bars of the result's chart: each option's weighted votes (yes/no),
    its votes in the last round (instant-runoff), or how many options it beats
    in pairwise comparison (Schulze, ``tally.pairwise_wins``)."""
    if not result:
        return []
    details = result["tally"]
    if not poll.is_ranked:
        return [
            (str(YesNoChoice(choice).label), Decimal(details[choice]))
            for choice in counting.YES_NO_CHOICES
        ]
    labels = queries.candidate_labels(poll)
    if poll.method == "irv":
        last = details["rounds"][-1]["counts"] if details["rounds"] else {}
        return [(labels.get(name, name), Decimal(value)) for name, value in last.items()]
    wins = counting.pairwise_wins(details["strongest_paths"])
    return [(labels.get(name, name), Decimal(wins[name])) for name in details["ranking"]]


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
