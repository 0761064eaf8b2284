"""Counting votes: yes/no with quorum and majority rules, instant-runoff and Schulze.

Pure Python with no database and no request, so the same code serves the app, the
``consult polls tally`` command and the tests, and a result can be recounted by
anyone from the ballots alone. All arithmetic is exact (``Decimal``; weights are
never floats), and every tie is broken by a fixed rule, so the same ballots
always give the same result.

Tie-break rules (the complete list):

* Instant-runoff, choosing whom to eliminate when several candidates share the
  fewest votes in a round:

  1. the one among them with the fewest first-round votes;
  2. if still tied, look back through the earlier rounds, starting with the round
     just before the current one and going back to round 2, and eliminate the one
     with the fewest votes in the latest round where the tied candidates differ
     (those with more votes are dropped from the tie at each round);
  3. if still tied, the candidate whose name sorts last (Python's ``str`` order,
     which is Unicode code point order), so the name that sorts first stays.

  A tie between the last two candidates is settled by the same rule.

* Schulze: candidates are placed in tiers by Schulze's own relation (X beats Y
  when the strongest path from X to Y is stronger than the one from Y to X): each
  tier holds the remaining candidates that no remaining candidate beats. A tier
  with more than one candidate is a Schulze tie, reported in ``ties``; within it
  the candidates are ordered by name (Unicode code point order, first name
  first). The winner is the first candidate of this order.

In both methods, then, a tie that the method itself cannot resolve favours the
name that sorts first.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ..errors import InvalidInput
from .ranked import instant_runoff, pairwise_wins, schulze
from .tally_ballots import (
    ABSTAIN,
    METHODS,
    NO,
    RULES,
    WEIGHT_EXPONENT_LIMIT,
    YES,
    YES_NO_CHOICES,
    ZERO,
    Ballot,
    _,
    ballots_of,
    of_kind,
    parse_ballots,
    to_decimal,
)

# What callers name through this module, the count's one entry point.
__all__ = [
    "ABSTAIN",
    "METHODS",
    "NO",
    "RULES",
    "YES",
    "YES_NO_CHOICES",
    "Ballot",
    "instant_runoff",
    "pairwise_wins",
    "parse_ballots",
    "quorum_required",
    "schulze",
    "tally",
    "tally_yes_no",
    "to_json",
]


# --- JSON ---------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    """Plain digits ("10", not "1E+1") unless the exponent would make that absurd."""
    if abs(value.adjusted()) <= 2 * WEIGHT_EXPONENT_LIMIT:
        return format(value, "f")
    return str(value)


def to_json(value: Any) -> Any:
    """``value`` with every Decimal as an exact string (JSON numbers are floats to
    most readers) and tuples as lists, ready for ``json.dumps``."""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


# --- yes / no -----------------------------------------------------------------


def quorum_required(quorum: Mapping[str, Any] | None, electorate_weight: Any = None) -> Decimal:
    """The participation a quorum asks for: ``{"count": n}`` (weight of ballots) or
    ``{"share": s}`` (0 ≤ s ≤ 1, of the frozen electorate's weight); 0 without one.

    Kept separate so ranked polls can apply the same quorum.
    """
    if quorum is None:
        return ZERO
    if not isinstance(quorum, Mapping) or len(quorum) != 1 or not set(quorum) <= {"count", "share"}:
        raise InvalidInput(_('The quorum must be either {"count": n} or {"share": s}.'))
    if "count" in quorum:
        count = to_decimal(quorum["count"])
        if count is None or count < 0:
            raise InvalidInput(_("The quorum must be a number, zero or more."))
        return count
    share = to_decimal(quorum["share"])
    if share is None or not 0 <= share <= 1:
        raise InvalidInput(_("The quorum share must be a number between 0 and 1."))
    if electorate_weight is None:
        raise InvalidInput(_("A quorum given as a share needs the size of the electorate."))
    return share * _electorate(electorate_weight)


def _electorate(value: Any) -> Decimal:
    electorate = to_decimal(value)
    if electorate is None or electorate <= 0:
        raise InvalidInput(_("The electorate must be a number greater than zero."))
    return electorate


def _rule_base(rule: str, totals: dict, electorate, abstentions_count: bool) -> Decimal:
    """What the majority rule measures against (see ``tally_yes_no``)."""
    if rule == "absolute":
        if electorate is None:
            raise InvalidInput(_("An absolute majority needs the size of the electorate."))
        return electorate
    return totals[YES] + totals[NO] + (totals[ABSTAIN] if abstentions_count else ZERO)


def _totals(ballots: list[Ballot], rule: str, abstentions_count) -> dict[str, Decimal]:
    """The weight of each choice, once the settings are known to be valid."""
    if rule not in RULES:
        raise InvalidInput(_("Unknown majority rule: %(rule)s.", rule=str(rule)))
    if not isinstance(abstentions_count, bool):
        raise InvalidInput(_("Whether abstentions count must be true or false."))
    totals = dict.fromkeys(YES_NO_CHOICES, ZERO)
    for ballot in ballots:
        totals[ballot.choice] += ballot.weight
    return totals


def tally_yes_no(
    ballots: Iterable[Any],
    *,
    rule: str = "simple",
    electorate_weight: Any = None,
    quorum: Mapping[str, Any] | None = None,
    abstentions_count: bool = False,
) -> dict[str, Any]:
    """Count a yes/no vote and say whether it passed, and whether it could decide.

    Totals are weighted. ``participation`` is the weight of every ballot, abstentions
    included; the quorum is met when participation ≥ the quorum (``{"count": n}``,
    or ``{"share": s}`` * ``electorate_weight``).

    ``base`` is what the rule measures against: yes + no, plus abstain when
    ``abstentions_count`` (an abstention then works like a no); for "absolute" it is
    ``electorate_weight`` (required), whatever ``abstentions_count`` says.

    * simple: yes > base / 2, i.e. yes > no (yes > no + abstain when abstentions count);
    * absolute: yes > electorate_weight / 2;
    * two_thirds: yes ≥ 2/3 * base (exactly: 3 * yes ≥ 2 * base), and base > 0.

    ``winner`` is "yes" (quorum met, rule met), "no" (quorum met, rule not met) or
    None (quorum not met: the vote decided nothing). Ballots weighing more than the
    electorate are refused, since that can only be a mistake.
    """
    ballots = of_kind(ballots, ranked=False)
    totals = _totals(ballots, rule, abstentions_count)
    yes, no, abstain = totals[YES], totals[NO], totals[ABSTAIN]
    participation = yes + no + abstain

    electorate = None if electorate_weight is None else _electorate(electorate_weight)
    if electorate is not None and participation > electorate:
        raise InvalidInput(_("The ballots weigh more than the whole electorate."))
    required = quorum_required(quorum, electorate)
    quorum_met = participation >= required

    base = _rule_base(rule, totals, electorate, abstentions_count)
    # Compared without dividing, so two thirds stays exact.
    rule_met = (base > 0 and 3 * yes >= 2 * base) if rule == "two_thirds" else 2 * yes > base
    winner = (YES if rule_met else NO) if quorum_met else None
    return {
        "method": "yesno",
        "winner": winner,
        "rule": rule,
        "rule_met": rule_met,
        "abstentions_count": abstentions_count,
        "yes": yes,
        "no": no,
        "abstain": abstain,
        "participation": participation,
        "base": base,
        "electorate_weight": electorate,
        "quorum": dict(quorum) if quorum is not None else None,
        "quorum_required": required if quorum is not None else None,
        "quorum_met": quorum_met,
        "ballots": len(ballots),
    }


# --- one entry point ----------------------------------------------------------

_SETTINGS = {
    "yesno": {"rule", "electorate_weight", "quorum", "abstentions_count"},
    "irv": {"candidates"},
    "schulze": {"candidates"},
}


def tally(method: str, ballots: Iterable[Any], **settings: Any) -> dict[str, Any]:
    """Count ``ballots`` (Ballot objects, or decoded JSON) with ``method`` ("yesno",
    "irv" or "schulze") and return the result ready for ``json.dumps``.

    Settings that are None are ignored, so a command line can pass every option
    through; a setting the method does not use is refused rather than ignored.
    """
    if method not in _SETTINGS:
        raise InvalidInput(_("Unknown counting method: %(method)s.", method=str(method)))
    settings = {key: value for key, value in settings.items() if value is not None}
    for key in sorted(settings):
        if key not in _SETTINGS[method]:
            raise InvalidInput(
                _(
                    "The setting %(setting)s does not apply to %(method)s.",
                    setting=key,
                    method=method,
                )
            )
    ballots = ballots_of(ballots)
    if method == "yesno":
        result = tally_yes_no(ballots, **settings)
    elif method == "irv":
        result = instant_runoff(ballots, **settings)
    else:
        result = schulze(ballots, **settings)
    return to_json(result)
