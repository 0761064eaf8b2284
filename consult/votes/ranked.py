"""Counting ranked ballots: instant-runoff and Schulze, with the tie-break
rules in ``tally``'s docstring. Pure Python, exact arithmetic."""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import InvalidInput
from .tally_ballots import ZERO, Ballot, _, of_kind, parse_ranking

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
        names = parse_ranking(candidates)
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


def _first_piles(names: list[str], rankings: list) -> tuple[dict, dict, Decimal]:
    """Each group of rankings on the pile of its first choice: the piles, the
    counts and the weight of blank (exhausted) ballots."""
    piles: dict[str, list[int]] = {name: [] for name in names}
    counts = dict.fromkeys(names, ZERO)
    exhausted = ZERO
    for index, (ranking, weight) in enumerate(rankings):
        if ranking:
            piles[ranking[0]].append(index)
            counts[ranking[0]] += weight
        else:
            exhausted += weight
    return piles, counts, exhausted


def _transfer(loser: str, piles, counts, rankings, position, continuing) -> Decimal:
    """Move the eliminated candidate's pile to each ranking's next continuing
    choice; returns the weight that has none left (exhausted)."""
    exhausted = ZERO
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
    return exhausted


def _round(number: int, standing: dict, total: Decimal, exhausted: Decimal) -> dict[str, Any]:
    return {
        "round": number,
        "counts": standing,
        "continuing": total,
        "exhausted": exhausted,
        "elected": None,
        "eliminated": None,
        "tie_break": None,
    }


def instant_runoff(ballots: Iterable[Any], candidates: Sequence[str] | None = None) -> dict:
    """Instant-runoff: eliminate the weakest until someone holds a strict majority of
    the continuing (not exhausted) ballots' weight.

    Each round lists the votes of every candidate still in the race, the continuing
    and exhausted weight, and who was elected or eliminated (with the tie-break used,
    if any). A ballot is exhausted once none of its candidates remains; a blank
    ranking is exhausted from the start. Without any continuing ballot there is no
    winner (None).
    """
    ballots = of_kind(ballots, ranked=True)
    groups = _group(ballots)
    names = _candidates(groups, candidates)
    rankings = list(groups.items())

    # Each group of identical rankings sits on the pile of its current choice; only
    # the eliminated candidate's pile moves, so each round costs its transfers.
    continuing = set(names)
    piles, counts, exhausted = _first_piles(names, rankings)
    position = [0] * len(rankings)

    rounds: list[dict[str, Any]] = []
    history: list[dict[str, Decimal]] = []
    winner = None
    while continuing:
        standing = {name: counts[name] for name in names if name in continuing}
        history.append(standing)
        total = sum(standing.values(), ZERO)
        record = _round(len(rounds) + 1, standing, total, exhausted)
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
        exhausted += _transfer(loser, piles, counts, rankings, position, continuing)

    return {
        "method": "irv",
        "winner": winner,
        "candidates": names,
        "rounds": rounds,
        "exhausted": exhausted,
        "total_weight": sum(groups.values(), ZERO),
        "ballots": len(ballots),
    }


def _pairwise(groups: Counter, names: list[str]) -> list[list[Decimal]]:
    """d[a][b]: the weight of the ballots that rank a above b (a ballot's
    unranked candidates come below all it ranks)."""
    size = len(names)
    index = {name: position for position, name in enumerate(names)}
    everyone = frozenset(range(size))
    d = [[ZERO] * size for _ in range(size)]
    for ranking, weight in groups.items():
        ranked = [index[name] for name in ranking]
        below = everyone.difference(ranked)
        for place, a in enumerate(ranked):
            row = d[a]
            for b in (*ranked[place + 1 :], *below):
                row[b] += weight
    return d


def _strongest_paths(d: list[list[Decimal]]) -> list[list[Decimal]]:
    """The widest path between each pair over the defeats (Floyd-Warshall)."""
    size = len(d)
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
    return p


def _tiers(names: list[str], p: list[list[Decimal]]) -> tuple[list[str], list[list[str]]]:
    """The ranking by tiers of Schulze's relation, and the tiers that are ties."""
    remaining = list(range(len(names)))
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
    return ranking_order, ties


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
    ballots = of_kind(ballots, ranked=True)
    groups = _group(ballots)
    names = _candidates(groups, candidates)
    size = len(names)
    d = _pairwise(groups, names)
    p = _strongest_paths(d)
    ranking_order, ties = _tiers(names, p)
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


def pairwise_wins(strongest_paths: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many other options each option beats in Schulze's pairwise comparison
    (its strongest path to them is wider than theirs to it); the paths as
    ``schulze`` gives them, or as their JSON (numbers as strings)."""
    return {
        name: sum(
            1
            for other in paths
            if Decimal(str(paths[other])) > Decimal(str(strongest_paths[other][name]))
        )
        for name, paths in strongest_paths.items()
    }


def _matrix(names: list[str], values: list[list[Decimal]]) -> dict[str, dict[str, Decimal]]:
    return {
        a: {b: values[i][j] for j, b in enumerate(names) if j != i} for i, a in enumerate(names)
    }
