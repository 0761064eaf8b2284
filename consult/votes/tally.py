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

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _flask_gettext

from ..errors import InvalidInput

YES, NO, ABSTAIN = "yes", "no", "abstain"
YES_NO_CHOICES = (YES, NO, ABSTAIN)
RULES = ("simple", "absolute", "two_thirds")
METHODS = ("yesno", "irv", "schulze")

ZERO = Decimal(0)
ONE = Decimal(1)

# Weights far outside this range are refused: they only arise from mistakes, and
# would overflow or lose precision in Decimal arithmetic.
_WEIGHT_EXPONENT_LIMIT = 30
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _(message: str, **variables: Any) -> str:
    """Translate ``message`` inside the app; outside it (CLI, plain tests), return
    it interpolated but untranslated, so counting never needs an app context.

    Named ``_`` so that ``pybabel extract`` (default keywords) finds the messages.
    """
    if has_app_context() and "babel" in current_app.extensions:
        return _flask_gettext(message, **variables)
    return message % variables if variables else message


# --- ballots ------------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string, or None.

    Floats go through their shortest repr (0.1 stays 0.1); bools are refused, since
    ``true`` is not a number even though Python treats it as 1. Callers raise their
    own, complete message (translations cannot assemble sentences from parts).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = Decimal(value.strip())
    else:
        return None
    return number if number.is_finite() else None


def _weight(value: Any) -> Decimal:
    """A ballot weight: finite, strictly positive and of sensible size."""
    weight = _to_decimal(value)
    if weight is None:
        raise InvalidInput(_("The weight must be a finite number."))
    if weight <= 0:
        raise InvalidInput(_("The weight must be greater than zero."))
    if abs(weight.adjusted()) > _WEIGHT_EXPONENT_LIMIT:
        raise InvalidInput(_("The weight is out of range."))
    return weight


def _ranking(value: Any) -> list[str]:
    """A ranking: candidate names, best first, each non-empty and named once.

    Names are stripped of surrounding spaces so that "A" and " A" cannot count as
    two candidates. An empty ranking is a valid blank ballot.
    """
    names = []
    for name in value:
        if not isinstance(name, str):
            raise InvalidInput(_("A ranking may only contain candidate names."))
        name = name.strip()
        if not name:
            raise InvalidInput(_("A ranking contains an empty candidate name."))
        names.append(name)
    if len(set(names)) != len(names):
        raise InvalidInput(_("A ranking names the same candidate more than once."))
    return names


@dataclass
class Ballot:
    """One ballot: "yes", "no" or "abstain", or a ranking (best first), with a weight.

    Validated on construction, so a tally can trust every Ballot it is given,
    however it was built.
    """

    choice: str | list[str]
    weight: Decimal = field(default=ONE)

    def __post_init__(self) -> None:
        if isinstance(self.choice, str):
            if self.choice not in YES_NO_CHOICES:
                raise InvalidInput(_('A yes/no ballot must be "yes", "no" or "abstain".'))
        elif isinstance(self.choice, list | tuple):
            self.choice = _ranking(self.choice)
        else:
            raise InvalidInput(_("A ballot must be a yes/no choice or a ranking."))
        self.weight = _weight(self.weight)

    @property
    def is_ranking(self) -> bool:
        return isinstance(self.choice, list)


def parse_ballots(data: Any) -> list[Ballot]:
    """Ballots from decoded JSON, refusing anything ambiguous with InvalidInput.

    Each item is "yes"/"no"/"abstain", a list of names (best first), or an object
    ``{"choice": ...}`` or ``{"ranking": [...]}`` with an optional ``"weight"``
    (a number or numeric string, finite and > 0). Unknown keys are refused so that
    a misspelt "weight" is not silently counted as 1. Errors name the ballot by its
    position (from 1).
    """
    if not isinstance(data, list):
        raise InvalidInput(_("The ballots must be a list."))
    ballots = []
    for number, item in enumerate(data, start=1):
        try:
            ballots.append(_parse_ballot(item))
        except InvalidInput as error:
            raise InvalidInput(
                _("Ballot %(number)s: %(reason)s", number=number, reason=error.message)
            ) from None
    return ballots


def _parse_ballot(item: Any) -> Ballot:
    if isinstance(item, str | list):
        return Ballot(item)
    if not isinstance(item, dict):
        raise InvalidInput(_("A ballot must be a choice, a list of names or an object."))
    unknown = set(item) - {"choice", "ranking", "weight"}
    if unknown:
        raise InvalidInput(
            _("Unknown field: %(fields)s.", fields=", ".join(sorted(map(str, unknown))))
        )
    if ("choice" in item) == ("ranking" in item):
        raise InvalidInput(_('A ballot needs exactly one of "choice" and "ranking".'))
    if "ranking" in item and not isinstance(item["ranking"], list):
        raise InvalidInput(_('"ranking" must be a list of names.'))
    choice = item["ranking"] if "ranking" in item else item["choice"]
    if not isinstance(choice, str | list):
        raise InvalidInput(_("A ballot must be a yes/no choice or a ranking."))
    if "weight" in item:
        return Ballot(choice, item["weight"])
    return Ballot(choice)


def _ballots(ballots: Iterable[Any]) -> list[Ballot]:
    """Ballot objects as they are, or raw decoded JSON parsed first."""
    ballots = list(ballots)
    if all(isinstance(ballot, Ballot) for ballot in ballots):
        return ballots
    return parse_ballots(ballots)


def _of_kind(ballots: Iterable[Any], ranked: bool) -> list[Ballot]:
    """Refuse a ranking in a yes/no count and the reverse, naming the first offender."""
    ballots = _ballots(ballots)
    for number, ballot in enumerate(ballots, start=1):
        if ballot.is_ranking != ranked:
            if ranked:
                message = _("Ballot %(number)s is not a ranking.", number=number)
            else:
                message = _("Ballot %(number)s is not a yes/no ballot.", number=number)
            raise InvalidInput(message)
    return ballots


# --- JSON ---------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    """Plain digits ("10", not "1E+1") unless the exponent would make that absurd."""
    if abs(value.adjusted()) <= 2 * _WEIGHT_EXPONENT_LIMIT:
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
        count = _to_decimal(quorum["count"])
        if count is None or count < 0:
            raise InvalidInput(_("The quorum must be a number, zero or more."))
        return count
    share = _to_decimal(quorum["share"])
    if share is None or not 0 <= share <= 1:
        raise InvalidInput(_("The quorum share must be a number between 0 and 1."))
    if electorate_weight is None:
        raise InvalidInput(_("A quorum given as a share needs the size of the electorate."))
    return share * _electorate(electorate_weight)


def _electorate(value: Any) -> Decimal:
    electorate = _to_decimal(value)
    if electorate is None or electorate <= 0:
        raise InvalidInput(_("The electorate must be a number greater than zero."))
    return electorate


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
    ballots = _of_kind(ballots, ranked=False)
    if rule not in RULES:
        raise InvalidInput(_("Unknown majority rule: %(rule)s.", rule=str(rule)))
    if not isinstance(abstentions_count, bool):
        raise InvalidInput(_("Whether abstentions count must be true or false."))
    totals = dict.fromkeys(YES_NO_CHOICES, ZERO)
    for ballot in ballots:
        totals[ballot.choice] += ballot.weight
    yes, no, abstain = totals[YES], totals[NO], totals[ABSTAIN]
    participation = yes + no + abstain

    electorate = None if electorate_weight is None else _electorate(electorate_weight)
    if electorate is not None and participation > electorate:
        raise InvalidInput(_("The ballots weigh more than the whole electorate."))
    required = quorum_required(quorum, electorate)
    quorum_met = participation >= required

    if rule == "absolute":
        if electorate is None:
            raise InvalidInput(_("An absolute majority needs the size of the electorate."))
        base = electorate
    else:
        base = yes + no + (abstain if abstentions_count else ZERO)
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


# --- ranked ballots -----------------------------------------------------------


def _candidates(groups: Mapping[tuple[str, ...], Decimal], candidates: Any) -> list[str]:
    """The given candidates (checked), or everyone named on a ballot, by name.

    With a given list, a ballot naming someone else is refused rather than ignored:
    it means the ballots do not belong to this poll.
    """
    named = {name for ranking in groups for name in ranking}
    if candidates is None:
        return sorted(named)
    if isinstance(candidates, str) or not isinstance(candidates, Sequence):
        raise InvalidInput(_("The candidates must be a list of names."))
    try:
        names = _ranking(candidates)
    except InvalidInput:
        raise InvalidInput(
            _("The candidates must be a list of different, non-empty names.")
        ) from None
    unknown = named - set(names)
    if unknown:
        raise InvalidInput(
            _("A ballot ranks someone who is not a candidate: %(name)s.", name=min(unknown))
        )
    return names


def _group(ballots: list[Ballot]) -> Counter:
    """Identical rankings added up once, so counting scales with the number of
    different rankings, not of ballots."""
    groups: Counter = Counter()
    for ballot in ballots:
        groups[tuple(ballot.choice)] += ballot.weight
    return groups


def _pick_elimination(tied: list[str], history: list[dict[str, Decimal]]) -> tuple[str, str | None]:
    """Whom to eliminate among ``tied`` (all with the fewest votes this round), and
    which rule decided: see the module docstring. ``history`` ends with this round."""
    if len(tied) == 1:
        return tied[0], None
    for decided_by, counts in [("first_round", history[0])] + [
        ("earlier_round", counts) for counts in reversed(history[1:-1])
    ]:
        fewest = min(counts[name] for name in tied)
        tied = [name for name in tied if counts[name] == fewest]
        if len(tied) == 1:
            return tied[0], decided_by
    return max(tied), "name"


def instant_runoff(ballots: Iterable[Any], candidates: Sequence[str] | None = None) -> dict:
    """Instant-runoff: eliminate the weakest until someone holds a strict majority of
    the continuing (not exhausted) ballots' weight.

    Each round lists the votes of every candidate still in the race, the continuing
    and exhausted weight, and who was elected or eliminated (with the tie-break used,
    if any). A ballot is exhausted once none of its candidates remains; a blank
    ranking is exhausted from the start. Without any continuing ballot there is no
    winner (None).
    """
    ballots = _of_kind(ballots, ranked=True)
    groups = _group(ballots)
    names = _candidates(groups, candidates)
    rankings = list(groups.items())

    # Each group of identical rankings sits on the pile of its current choice; only
    # the eliminated candidate's pile moves, so each round costs its transfers.
    continuing = set(names)
    piles: dict[str, list[int]] = {name: [] for name in names}
    counts = dict.fromkeys(names, ZERO)
    position = [0] * len(rankings)
    exhausted = ZERO
    for index, (ranking, weight) in enumerate(rankings):
        if ranking:
            piles[ranking[0]].append(index)
            counts[ranking[0]] += weight
        else:
            exhausted += weight

    rounds: list[dict[str, Any]] = []
    history: list[dict[str, Decimal]] = []
    winner = None
    while continuing:
        standing = {name: counts[name] for name in names if name in continuing}
        history.append(standing)
        total = sum(standing.values(), ZERO)
        record: dict[str, Any] = {
            "round": len(rounds) + 1,
            "counts": standing,
            "continuing": total,
            "exhausted": exhausted,
            "elected": None,
            "eliminated": None,
            "tie_break": None,
        }
        rounds.append(record)
        if total == 0:
            break
        leader = max(standing, key=standing.__getitem__)
        if 2 * standing[leader] > total:
            winner = record["elected"] = leader
            break
        fewest = min(standing.values())
        tied = [name for name in standing if standing[name] == fewest]
        loser, decided_by = _pick_elimination(tied, history)
        record["eliminated"] = loser
        if decided_by:
            record["tie_break"] = {"tied": sorted(tied), "decided_by": decided_by}

        continuing.discard(loser)
        for index in piles.pop(loser):
            ranking, weight = rankings[index]
            at = position[index] + 1
            while at < len(ranking) and ranking[at] not in continuing:
                at += 1
            position[index] = at
            if at < len(ranking):
                piles[ranking[at]].append(index)
                counts[ranking[at]] += weight
            else:
                exhausted += weight
        counts[loser] = ZERO

    return {
        "method": "irv",
        "winner": winner,
        "candidates": names,
        "rounds": rounds,
        "exhausted": exhausted,
        "total_weight": sum(groups.values(), ZERO),
        "ballots": len(ballots),
    }


def schulze(ballots: Iterable[Any], candidates: Sequence[str] | None = None) -> dict:
    """Schulze (beatpath) method, with winning votes as the strength of a defeat.

    ``pairwise[a][b]`` is the weight of ballots ranking a above b; candidates a
    ballot leaves out rank below all it ranks, equal among themselves.
    ``strongest_paths[a][b]`` is the widest path from a to b over the defeats
    (d[a][b] > d[b][a]), found with Floyd-Warshall. ``potential_winners`` are
    Schulze's winners (p[w][x] ≥ p[x][w] for all x); the full ``ranking``, ``ties``
    and ``winner`` follow the tie-break rule in the module docstring. Without a
    single non-blank ballot there is no winner (None), though the ranking is given.
    """
    ballots = _of_kind(ballots, ranked=True)
    groups = _group(ballots)
    names = _candidates(groups, candidates)
    size = len(names)
    index = {name: position for position, name in enumerate(names)}
    everyone = frozenset(range(size))

    d = [[ZERO] * size for _ in range(size)]
    for ranking, weight in groups.items():
        ranked = [index[name] for name in ranking]
        below = everyone.difference(ranked)
        for place, a in enumerate(ranked):
            row = d[a]
            for b in ranked[place + 1 :]:
                row[b] += weight
            for b in below:
                row[b] += weight

    p = [
        [d[i][j] if i != j and d[i][j] > d[j][i] else ZERO for j in range(size)]
        for i in range(size)
    ]
    for k in range(size):
        for i in range(size):
            if i == k or not p[i][k]:
                continue
            for j in range(size):
                if j != i and j != k:
                    p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))

    remaining = list(range(size))
    ranking_order: list[str] = []
    ties: list[list[str]] = []
    while remaining:
        tier = sorted(
            (names[a] for a in remaining if not any(p[b][a] > p[a][b] for b in remaining)),
        )
        if not tier:  # impossible: Schulze proved the relation transitive, so acyclic
            raise RuntimeError("Schulze relation has a cycle")
        ranking_order.extend(tier)
        if len(tier) > 1:
            ties.append(tier)
        remaining = [a for a in remaining if names[a] not in tier]

    potential = sorted(
        names[a] for a in range(size) if all(p[a][b] >= p[b][a] for b in range(size))
    )
    voted = any(ranking for ranking in groups)
    return {
        "method": "schulze",
        "winner": ranking_order[0] if voted and ranking_order else None,
        "ranking": ranking_order,
        "ties": ties,
        "potential_winners": potential,
        "candidates": names,
        "pairwise": _matrix(names, d),
        "strongest_paths": _matrix(names, p),
        "total_weight": sum(groups.values(), ZERO),
        "ballots": len(ballots),
    }


def _matrix(names: list[str], values: list[list[Decimal]]) -> dict[str, dict[str, Decimal]]:
    return {
        a: {b: values[i][j] for j, b in enumerate(names) if j != i} for i, a in enumerate(names)
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
    ballots = _ballots(ballots)
    if method == "yesno":
        result = tally_yes_no(ballots, **settings)
    elif method == "irv":
        result = instant_runoff(ballots, **settings)
    else:
        result = schulze(ballots, **settings)
    return to_json(result)
