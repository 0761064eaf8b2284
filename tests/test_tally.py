"""Vote counting: Schulze against published worked examples, instant-runoff against
the peer library pyrankvote, yes/no rules and quorums, and ballot validation.

Plain functions, no app or database: the tally must stand on its own.
"""

import json
import math
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.errors import InvalidInput
from consult.votes.tally import (
    Ballot,
    instant_runoff,
    parse_ballots,
    schulze,
    tally,
    tally_yes_no,
    to_json,
)

D = Decimal
NAMES = ["A", "B", "C", "D", "E"]


def ranked(groups: list[tuple[int, str]]) -> list[Ballot]:
    """Ballots from (voters, "ACBED") pairs, one weighted ballot per group."""
    return [Ballot(list(order), D(voters)) for voters, order in groups]


def expanded(groups: list[tuple[int, str]]) -> list[Ballot]:
    """The same ballots, one unweighted ballot per voter."""
    return [Ballot(list(order)) for voters, order in groups for _ in range(voters)]


def naive_pairwise(names, ballots):
    """d[a][b] straight from the definition: a ranked above b, unranked below ranked."""
    d = {a: {b: D(0) for b in names if b != a} for a in names}
    for ballot in ballots:
        position = {name: place for place, name in enumerate(ballot.choice)}
        for a in names:
            for b in names:
                if a != b and position.get(a, math.inf) < position.get(b, math.inf):
                    d[a][b] += ballot.weight
    return d


@st.composite
def profiles(draw, max_candidates=5, max_ballots=25, weighted=False):
    """(candidates, ballots): random partial rankings, optionally with integer weights."""
    size = draw(st.integers(1, max_candidates))
    names = NAMES[:size]
    ballots = []
    for _ in range(draw(st.integers(0, max_ballots))):
        order = draw(st.permutations(names))
        length = draw(st.integers(0, size))
        weight = draw(st.integers(1, 5)) if weighted else 1
        ballots.append(Ballot(list(order[:length]), D(weight)))
    return names, ballots


# --- Schulze: published worked examples -----------------------------------------

# Wikipedia, "Schulze method", section Example (also Example 1 of Markus Schulze's
# examples page): 45 voters, 5 candidates.
WIKIPEDIA_45 = [
    (5, "ACBED"),  # g1
    (5, "ADECB"),  # g2
    (8, "BEDAC"),  # g3
    (3, "CABED"),  # g4
    (7, "CAEBD"),  # g5
    (2, "CBADE"),  # g6
    (7, "DCEBA"),  # g7
    (8, "EBADC"),  # g8
]

# Pairwise counts derived by hand from the groups above (every voter ranks all five,
# so d[Y][X] = 45 - d[X][Y]); they match the article's table.
WIKIPEDIA_45_PAIRWISE = {
    "A": {
        "B": 20,  # g1 5 + g2 5 + g4 3 + g5 7
        "C": 26,  # g1 5 + g2 5 + g3 8 + g8 8
        "D": 30,  # g1 5 + g2 5 + g4 3 + g5 7 + g6 2 + g8 8
        "E": 22,  # g1 5 + g2 5 + g4 3 + g5 7 + g6 2
    },
    "B": {
        "A": 25,
        "C": 16,  # g3 8 + g8 8
        "D": 33,  # g1 5 + g3 8 + g4 3 + g5 7 + g6 2 + g8 8
        "E": 18,  # g1 5 + g3 8 + g4 3 + g6 2
    },
    "C": {
        "A": 19,
        "B": 29,
        "D": 17,  # g1 5 + g4 3 + g5 7 + g6 2
        "E": 24,  # g1 5 + g4 3 + g5 7 + g6 2 + g7 7
    },
    "D": {
        "A": 15,
        "B": 12,
        "C": 28,
        "E": 14,  # g2 5 + g6 2 + g7 7
    },
    "E": {"A": 23, "B": 27, "C": 21, "D": 31},
}

# Strongest paths, from the article (e.g. p[A][C] = 28 via A-(30)-D-(28)-C, not the
# direct 26; p[E][A] = 25 via E-(31)-D-(28)-C-(29)-B-(25)-A).
WIKIPEDIA_45_PATHS = {
    "A": {"B": 28, "C": 28, "D": 30, "E": 24},
    "B": {"A": 25, "C": 28, "D": 33, "E": 24},
    "C": {"A": 25, "B": 29, "D": 29, "E": 24},
    "D": {"A": 25, "B": 28, "C": 28, "E": 24},
    "E": {"A": 25, "B": 28, "C": 28, "D": 31},
}


def as_decimals(matrix):
    return {a: {b: D(value) for b, value in row.items()} for a, row in matrix.items()}


def test_hand_derived_counts_are_consistent():
    for a, row in WIKIPEDIA_45_PAIRWISE.items():
        for b, value in row.items():
            assert value + WIKIPEDIA_45_PAIRWISE[b][a] == 45
    assert naive_pairwise(NAMES, expanded(WIKIPEDIA_45)) == as_decimals(WIKIPEDIA_45_PAIRWISE)


@pytest.mark.parametrize("make", [ranked, expanded], ids=["weighted", "one-per-voter"])
def test_schulze_wikipedia_45_voters(make):
    result = schulze(make(WIKIPEDIA_45))
    assert result["pairwise"] == as_decimals(WIKIPEDIA_45_PAIRWISE)
    assert result["strongest_paths"] == as_decimals(WIKIPEDIA_45_PATHS)
    assert result["winner"] == "E"
    assert result["potential_winners"] == ["E"]
    assert result["ranking"] == ["E", "A", "C", "B", "D"]
    assert result["ties"] == []
    assert result["total_weight"] == 45


# The example of earlier versions of the same article (section "The Schwartz set
# heuristic"): 30 voters, 4 candidates.
WIKIPEDIA_30 = [(3, "ACDB"), (9, "BACD"), (8, "CDAB"), (5, "DABC"), (5, "DBCA")]


def test_schulze_wikipedia_30_voters():
    result = schulze(ranked(WIKIPEDIA_30))
    # Hand-derived: A>B 3+8+5, A>C 3+9+5, A>D 3+9, B>C 9+5+5, B>D 9, C>D 3+9+8.
    wins = {("A", "B"): 16, ("A", "C"): 17, ("A", "D"): 12}
    wins |= {("B", "C"): 19, ("B", "D"): 9, ("C", "D"): 20}
    for (a, b), count in wins.items():
        assert result["pairwise"][a][b] == count
        assert result["pairwise"][b][a] == 30 - count
    # Defeats A→B 16, A→C 17, D→A 18, B→C 19, C→D 20, D→B 21. Widest paths:
    # A→C→D→B 17, B→C→D→A 18, C→D→A 18, C→D→B 20, D→B→C 19, B→C→D 19, A→C→D 17.
    expected_paths = {
        "A": {"B": 17, "C": 17, "D": 17},
        "B": {"A": 18, "C": 19, "D": 19},
        "C": {"A": 18, "B": 20, "D": 20},
        "D": {"A": 18, "B": 21, "C": 19},
    }
    assert result["strongest_paths"] == as_decimals(expected_paths)
    # C beats D (20 > 19), B (20 > 19), A (18 > 17); D beats B (21 > 19), A (18 > 17);
    # B beats A (18 > 17).
    assert result["ranking"] == ["C", "D", "B", "A"]
    assert result["winner"] == "C"


def test_schulze_unranked_candidates_are_equal_and_below_the_ranked():
    # From python-vote-core's tests: A > (B = C) and B > A > C tie A with B.
    result = schulze([Ballot(["A"]), Ballot(["B", "A", "C"])], candidates=["A", "B", "C"])
    assert result["pairwise"] == as_decimals(
        {"A": {"B": 1, "C": 2}, "B": {"A": 1, "C": 1}, "C": {"A": 0, "B": 0}}
    )
    assert result["potential_winners"] == ["A", "B"]
    assert result["ties"] == [["A", "B"]]
    assert result["ranking"] == ["A", "B", "C"]
    assert result["winner"] == "A"  # Schulze tie, then the name that sorts first


def test_schulze_tie_goes_to_the_name_that_sorts_first():
    result = schulze([Ballot(["Zoe", "Adam"]), Ballot(["Adam", "Zoe"])])
    assert result["ranking"] == ["Adam", "Zoe"]
    assert result["ties"] == [["Adam", "Zoe"]]
    assert result["winner"] == "Adam"


def test_schulze_without_votes_has_no_winner():
    assert schulze([])["winner"] is None
    result = schulze([Ballot([])], candidates=["B", "A"])
    assert result["winner"] is None
    assert result["ranking"] == ["A", "B"]
    assert result["ties"] == [["A", "B"]]


def test_schulze_refuses_unknown_candidates_and_yes_no_ballots():
    with pytest.raises(InvalidInput, match="not a candidate"):
        schulze([Ballot(["A", "X"])], candidates=["A", "B"])
    with pytest.raises(InvalidInput, match="not a ranking"):
        schulze([Ballot(["A"]), Ballot("yes")])
    with pytest.raises(InvalidInput):
        schulze([Ballot(["A"])], candidates=["A", "A"])


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_schulze_elects_the_condorcet_winner(profile):
    names, ballots = profile
    d = naive_pairwise(names, ballots)
    condorcet = [a for a in names if all(d[a][b] > d[b][a] for b in names if b != a)]
    result = schulze(ballots, candidates=names)
    voted = any(ballot.choice for ballot in ballots)
    assert result["pairwise"] == d
    if condorcet and voted:  # (a lone candidate nobody voted for is no winner)
        assert result["winner"] == condorcet[0]
        assert result["potential_winners"] == condorcet
    assert sorted(result["ranking"]) == sorted(names)
    if voted:
        assert result["winner"] in result["potential_winners"]


@settings(max_examples=200, deadline=None)
@given(profiles(), st.data())
def test_schulze_elects_a_majority_favourite(profile, data):
    """A candidate ranked first by a strict majority beats everyone pairwise."""
    names, ballots = profile
    favourite = data.draw(st.sampled_from(names))
    others = [name for name in names if name != favourite]
    extra = len(ballots) + 1
    tail = data.draw(st.permutations(others))
    ballots = ballots + [Ballot([favourite, *tail]) for _ in range(extra)]
    assert schulze(ballots, candidates=names)["winner"] == favourite


@settings(max_examples=150, deadline=None)
@given(profiles(weighted=True))
def test_weights_count_like_repeated_ballots(profile):
    names, ballots = profile
    repeated = [
        Ballot(list(ballot.choice)) for ballot in ballots for _ in range(int(ballot.weight))
    ]
    assert schulze(ballots, names) == schulze(repeated, names) | {"ballots": len(ballots)}
    assert instant_runoff(ballots, names) == instant_runoff(repeated, names) | {
        "ballots": len(ballots)
    }


# --- instant-runoff ------------------------------------------------------------


def test_irv_against_pyrankvote():
    """Winners agree with pyrankvote on thousands of random unweighted ballot sets.

    Only sets where our count never meets a tie for elimination are compared, since
    the tie rules differ (pyrankvote compares later preferences, then picks at random).
    """
    import pyrankvote
    from pyrankvote import Ballot as PeerBallot
    from pyrankvote import Candidate

    rng = random.Random(20240601)
    compared = 0
    for _ in range(6000):
        size = rng.randint(2, 6)
        names = list("ABCDEF")[:size]
        rankings = []
        for _ in range(rng.randint(5, 60)):
            order = names[:]
            rng.shuffle(order)
            rankings.append(order[: rng.randint(1, size)])

        ours = instant_runoff([Ballot(ranking) for ranking in rankings], candidates=names)
        if any(round_["tie_break"] for round_ in ours["rounds"]):
            continue
        peers = {name: Candidate(name) for name in names}
        theirs = pyrankvote.instant_runoff_voting(
            list(peers.values()),
            [PeerBallot([peers[name] for name in ranking]) for ranking in rankings],
        )
        assert [candidate.name for candidate in theirs.get_winners()] == [ours["winner"]], rankings
        compared += 1
    assert compared >= 3000


def reference_irv(names, ballots):
    """Recount from scratch every round with the documented rules (a slow, obvious
    version of the pile-transfer count), returning (winner, eliminated per round)."""
    remaining = list(names)
    history, eliminated = [], []
    while remaining:
        counts = {name: D(0) for name in remaining}
        for ballot in ballots:
            for name in ballot.choice:
                if name in counts:
                    counts[name] += ballot.weight
                    break
        history.append(counts)
        total = sum(counts.values())
        if total == 0:
            return None, eliminated
        for name, votes in counts.items():
            if 2 * votes > total:
                return name, eliminated
        tied = [name for name in remaining if counts[name] == min(counts.values())]
        for earlier in [history[0], *reversed(history[1:-1])]:
            tied = [name for name in tied if earlier[name] == min(earlier[n] for n in tied)]
        loser = sorted(tied)[-1]
        eliminated.append(loser)
        remaining.remove(loser)
    return None, eliminated


@settings(max_examples=400, deadline=None)
@given(profiles(max_candidates=5, max_ballots=30, weighted=True))
def test_irv_matches_a_straightforward_recount(profile):
    names, ballots = profile
    result = instant_runoff(ballots, candidates=names)
    winner, eliminated = reference_irv(names, ballots)
    assert result["winner"] == winner
    assert [r["eliminated"] for r in result["rounds"] if r["eliminated"]] == eliminated
    for round_ in result["rounds"]:
        assert round_["continuing"] + round_["exhausted"] == result["total_weight"]
    if winner is not None:
        last = result["rounds"][-1]
        assert 2 * last["counts"][winner] > last["continuing"]


def test_irv_rounds_transfers_and_exhausted_ballots():
    ballots = ranked([(4, "A"), (3, "BC"), (2, "C"), (1, "D")])
    result = instant_runoff(ballots)
    rounds = result["rounds"]
    assert [r["counts"] for r in rounds] == [
        {"A": 4, "B": 3, "C": 2, "D": 1},
        {"A": 4, "B": 3, "C": 2},
        {"A": 4, "B": 3},
    ]
    assert [r["eliminated"] for r in rounds] == ["D", "C", None]
    assert [r["exhausted"] for r in rounds] == [0, 1, 3]
    # A has 4 of 10 ballots but 4 of the 7 still continuing: a majority.
    assert rounds[-1]["elected"] == result["winner"] == "A"
    assert result["exhausted"] == 3


def test_irv_tie_broken_by_first_round_votes():
    # Round 2: B 4, C 4 (C got D's vote); in round 1, B had 4 and C 3: C goes.
    ballots = ranked([(5, "A"), (4, "B"), (3, "CA"), (1, "DC")])
    result = instant_runoff(ballots)
    assert result["rounds"][1]["counts"] == {"A": 5, "B": 4, "C": 4}
    assert result["rounds"][1]["eliminated"] == "C"
    assert result["rounds"][1]["tie_break"] == {"tied": ["B", "C"], "decided_by": "first_round"}
    assert result["winner"] == "A"


def test_irv_tie_broken_by_the_latest_earlier_round():
    # Round 3: B 4, C 4; round 1 ties them too (3, 3); round 2 had B 4, C 3: C goes.
    ballots = ranked([(6, "A"), (3, "B"), (3, "C"), (1, "DB"), (1, "EC"), (1, "E")])
    result = instant_runoff(ballots)
    counts = [r["counts"] for r in result["rounds"]]
    assert counts[0] == {"A": 6, "B": 3, "C": 3, "D": 1, "E": 2}
    assert counts[1] == {"A": 6, "B": 4, "C": 3, "E": 2}
    assert counts[2] == {"A": 6, "B": 4, "C": 4}
    third = result["rounds"][2]
    assert third["eliminated"] == "C"
    assert third["tie_break"] == {"tied": ["B", "C"], "decided_by": "earlier_round"}


def test_irv_tie_broken_by_name_eliminates_the_name_sorting_last():
    ballots = ranked([(3, "C"), (2, "AB"), (2, "BA")])
    result = instant_runoff(ballots)
    assert result["rounds"][0]["eliminated"] == "B"
    assert result["rounds"][0]["tie_break"] == {"tied": ["A", "B"], "decided_by": "name"}
    assert result["winner"] == "A"
    # Rename A to Zed: Zed now sorts last, goes, and B wins instead.
    renamed = instant_runoff(
        [*ranked([(3, "C")]), *[Ballot(["Zed", "B"])] * 2, *[Ballot(["B", "Zed"])] * 2]
    )
    assert renamed["rounds"][0]["eliminated"] == "Zed"
    assert renamed["winner"] == "B"


def test_irv_final_two_tied_are_decided_by_the_rule():
    result = instant_runoff(ranked([(2, "X"), (2, "Y")]))
    assert result["rounds"][0]["tie_break"]["decided_by"] == "name"
    assert result["winner"] == "X"


def test_irv_edge_cases():
    assert instant_runoff([])["winner"] is None
    assert instant_runoff([])["rounds"] == []
    blank = instant_runoff([Ballot([])], candidates=["A", "B"])
    assert blank["winner"] is None
    assert blank["exhausted"] == 1
    assert instant_runoff([Ballot(["A"])], candidates=["A", "B"])["winner"] == "A"
    with pytest.raises(InvalidInput, match="not a ranking"):
        instant_runoff([Ballot("yes")])
    with pytest.raises(InvalidInput, match="not a candidate"):
        instant_runoff([Ballot(["A", "Q"])], candidates=["A"])


# --- yes / no --------------------------------------------------------------------


def votes(yes=0, no=0, abstain=0):
    return ["yes"] * yes + ["no"] * no + ["abstain"] * abstain


@pytest.mark.parametrize(
    ("counts", "abstentions_count", "passes"),
    [
        ((3, 2, 0), False, True),
        ((2, 2, 0), False, False),  # a tie is not a majority
        ((3, 2, 4), False, True),  # abstentions left out of the base
        ((3, 2, 4), True, False),  # 3 > 2 + 4 fails
        ((5, 2, 2), True, True),  # 5 > 2 + 2
    ],
)
def test_simple_majority(counts, abstentions_count, passes):
    result = tally_yes_no(votes(*counts), abstentions_count=abstentions_count)
    assert result["rule_met"] is passes
    assert result["winner"] == ("yes" if passes else "no")
    yes, no, abstain = counts
    assert result["base"] == yes + no + (abstain if abstentions_count else 0)
    assert result["participation"] == yes + no + abstain


@pytest.mark.parametrize(("yes", "passes"), [(5, False), (6, True)])
def test_absolute_majority_of_the_electorate(yes, passes):
    result = tally_yes_no(votes(yes, 0, 2), rule="absolute", electorate_weight=10)
    assert result["base"] == 10
    assert result["rule_met"] is passes


def test_absolute_majority_needs_the_electorate():
    with pytest.raises(InvalidInput, match="electorate"):
        tally_yes_no(votes(3), rule="absolute")


@pytest.mark.parametrize(
    ("counts", "abstentions_count", "passes"),
    [
        ((2, 1, 0), False, True),  # exactly two thirds: 3 * 2 ≥ 2 * 3
        ((3, 2, 0), False, False),  # 9 < 10
        ((4, 1, 1), True, True),  # 12 ≥ 12
        ((4, 1, 2), True, False),  # 12 < 14
        ((4, 1, 2), False, True),  # 12 ≥ 10
    ],
)
def test_two_thirds(counts, abstentions_count, passes):
    result = tally_yes_no(votes(*counts), rule="two_thirds", abstentions_count=abstentions_count)
    assert result["rule_met"] is passes


def test_quorum_by_count_includes_abstentions():
    met = tally_yes_no(votes(2, 0, 1), quorum={"count": 3})
    assert met["quorum_met"] is True
    assert met["winner"] == "yes"
    missed = tally_yes_no(votes(2, 0, 1), quorum={"count": 4})
    assert missed["quorum_met"] is False
    assert missed["rule_met"] is True
    assert missed["winner"] is None


@pytest.mark.parametrize(("ballots", "met"), [(4, False), (5, True)])
def test_quorum_by_share_of_the_electorate(ballots, met):
    result = tally_yes_no(votes(0, ballots), quorum={"share": "0.5"}, electorate_weight=10)
    assert result["quorum_required"] == 5
    assert result["quorum_met"] is met
    assert result["winner"] == ("no" if met else None)


def test_weights_are_exact_decimals():
    ballots = parse_ballots(
        [
            {"choice": "yes", "weight": 0.1},
            {"choice": "yes", "weight": "0.2"},
            {"choice": "no", "weight": 0.3},
            {"choice": "abstain", "weight": 2},
        ]
    )
    result = tally_yes_no(ballots, quorum={"count": "2.6"})
    assert result["yes"] == D("0.3")  # not 0.30000000000000004
    assert result["rule_met"] is False  # 0.3 is not more than 0.3
    assert result["participation"] == D("2.6")
    assert result["quorum_met"] is True
    assert to_json(result)["yes"] == "0.3"


def test_no_ballots_and_all_abstaining():
    for rule in ("simple", "two_thirds"):
        empty = tally_yes_no([], rule=rule)
        assert (empty["yes"], empty["no"], empty["abstain"]) == (0, 0, 0)
        assert empty["rule_met"] is False
        assert empty["winner"] == "no"
    assert tally_yes_no([], quorum={"count": 1})["winner"] is None
    for abstentions_count in (False, True):
        abstaining = tally_yes_no(
            votes(0, 0, 3), rule="two_thirds", abstentions_count=abstentions_count
        )
        assert abstaining["rule_met"] is False
        assert abstaining["winner"] == "no"


@pytest.mark.parametrize(
    "settings",
    [
        {"rule": "plurality"},
        {"quorum": {"count": 1, "share": "0.5"}, "electorate_weight": 10},
        {"quorum": {"count": -1}},
        {"quorum": {"share": "1.5"}, "electorate_weight": 10},
        {"quorum": {"share": "0.5"}},  # a share needs the electorate
        {"quorum": {"percent": 50}},
        {"quorum": 3},
        {"electorate_weight": 2},  # three ballots cannot come from two members
        {"electorate_weight": 0},
        {"abstentions_count": "yes"},
    ],
)
def test_yes_no_settings_refused(settings):
    with pytest.raises(InvalidInput):
        tally_yes_no(votes(1, 1, 1), **settings)


def test_yes_no_refuses_rankings():
    with pytest.raises(InvalidInput, match="Ballot 2 is not a yes/no ballot"):
        tally_yes_no([Ballot("yes"), Ballot(["A"])])


# --- parsing ----------------------------------------------------------------------


def test_parse_accepts_every_documented_form():
    ballots = parse_ballots(
        [
            "yes",
            ["A", "B"],
            [],
            {"choice": "abstain"},
            {"choice": ["B"], "weight": 2},
            {"ranking": [" C ", "A"], "weight": "1.5"},
            {"ranking": ["A"], "weight": " 1e2 "},
            {"choice": "no", "weight": D("0.25")},
        ]
    )
    assert [b.choice for b in ballots] == [
        "yes",
        ["A", "B"],
        [],
        "abstain",
        ["B"],
        ["C", "A"],
        ["A"],
        "no",
    ]
    assert [b.weight for b in ballots] == [1, 1, 1, 1, 2, D("1.5"), 100, D("0.25")]


@pytest.mark.parametrize(
    "data",
    [
        {"ballots": []},
        "yes",
        None,
        [3],
        [None],
        ["maybe"],
        ["Yes"],
        [["A", "A"]],
        [["A", " A "]],
        [["A", ""]],
        [["A", "   "]],
        [["A", 3]],
        [["A", None]],
        [["A", ["B"]]],
        [{}],
        [{"ranking": "A"}],
        [{"ranking": ["A"], "choice": "yes"}],
        [{"choice": "yes", "wieght": 2}],
        [{"choice": 1}],
        [{"choice": "yes", "weight": True}],
        [{"choice": "yes", "weight": False}],
        [{"choice": "yes", "weight": None}],
        [{"choice": "yes", "weight": float("nan")}],
        [{"choice": "yes", "weight": float("inf")}],
        [{"choice": "yes", "weight": float("-inf")}],
        [{"choice": "yes", "weight": "NaN"}],
        [{"choice": "yes", "weight": "nan"}],
        [{"choice": "yes", "weight": "Infinity"}],
        [{"choice": "yes", "weight": "inf"}],
        [{"choice": "yes", "weight": D("NaN")}],
        [{"choice": "yes", "weight": D("Infinity")}],
        [{"choice": "yes", "weight": -1}],
        [{"choice": "yes", "weight": "-2.5"}],
        [{"choice": "yes", "weight": 0}],
        [{"choice": "yes", "weight": "0"}],
        [{"choice": "yes", "weight": "abc"}],
        [{"choice": "yes", "weight": ""}],
        [{"choice": "yes", "weight": "1_000"}],
        [{"choice": "yes", "weight": "0x10"}],
        [{"choice": "yes", "weight": "1e999999999"}],
        [{"choice": "yes", "weight": [1]}],
    ],
)
def test_parse_refuses_invalid_input(data):
    with pytest.raises(InvalidInput):
        parse_ballots(data)


def test_parse_errors_name_the_ballot_in_plain_text_outside_the_app():
    with pytest.raises(InvalidInput) as error:
        parse_ballots(["yes", {"choice": "no", "weight": -1}])
    assert error.value.message == "Ballot 2: The weight must be greater than zero."


def test_messages_are_translated_inside_the_app():
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.app_context(), pytest.raises(InvalidInput, match="Ballot 1: A ranking names"):
        parse_ballots([["A", "A"]])


def test_ballot_validates_when_built_directly():
    assert Ballot(["A"], 2).weight == D(2)
    with pytest.raises(InvalidInput):
        Ballot("maybe")
    with pytest.raises(InvalidInput):
        Ballot(["A"], D(0))


# --- one entry point --------------------------------------------------------------


def test_tally_reads_raw_json_and_returns_json():
    text = json.dumps([{"ranking": list(order), "weight": n} for n, order in WIKIPEDIA_45])
    schulze_result = tally("schulze", json.loads(text))
    assert schulze_result["winner"] == "E"
    assert schulze_result["pairwise"]["A"]["B"] == "20"
    irv_result = tally("irv", json.loads(text), candidates=None)
    assert irv_result["rounds"][0]["counts"]["A"] == "10"
    yes_no = tally("yesno", ["yes", "no", "yes"], rule="two_thirds", quorum={"count": 3})
    assert yes_no["winner"] == "yes"
    assert yes_no["yes"] == "2"
    for result in (schulze_result, irv_result, yes_no):
        assert json.loads(json.dumps(result)) == result


def test_tally_refuses_unknown_methods_and_settings():
    with pytest.raises(InvalidInput, match="Unknown counting method"):
        tally("borda", [])
    with pytest.raises(InvalidInput, match="does not apply"):
        tally("irv", [["A"]], quorum={"count": 1})
    with pytest.raises(InvalidInput, match="does not apply"):
        tally("yesno", ["yes"], candidates=["A"])
