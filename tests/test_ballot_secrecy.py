"""A secret ballot cannot be tied to its voter by its weight (issue 20, finding 1).

An assembly of five delegates weighing 1, 1, 2.5, 1 and 1, in which the 2.5
delegate alone votes "no": nothing an ordinary member can read (the vote's page,
its CSV and JSON downloads, the API, the consultation's open data, the
notifications) lists a ballot with its weight or the number of ballots per
option. What they get is the weighted total of each option, which the issue
allows (it is the result; "no: 2.5" is what a weighted vote decides by). The
facilitators still get every ballot, from which the published checksum is
recomputed with the same SHA-256 as ever, and ``consult polls verify`` passes.
"""

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from consult.amendments import lifecycle, proposing
from consult.consultations import services as consultations
from consult.database import utcnow
from consult.errors import InvalidInput
from consult.forums.models import Membership
from consult.notifications.models import Notification
from consult.plans import services as plans
from consult.votes import casting, integrity, queries, setup
from consult.votes import lifecycle as votes_lifecycle
from consult.votes.disclosure import MIN_BALLOTS_PER_WEIGHT
from consult.votes.setup import PollSettings
from tests.factories import SHORT_PLAN, sign_in

SINGLED_OUT = "2.5"


# The forum, its facilitator, an ordinary ``member`` (not a delegate) and the
# plan (SHORT_PLAN, open for input) are the shared fixtures of tests/conftest.py.
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan_text():
    return SHORT_PLAN


def delegates(make, session, forum, weights):
    return [make.delegate(forum, weight, locale="en") for weight in weights]


def assembly_vote(session, facilitator, plan, voters, choices, **settings):
    """A closed yes/no vote of the assembly on the plan, decided by these ballots."""
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now,
        closes_at=now + timedelta(hours=1),
        settings=PollSettings(**settings),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    for voter, choice in zip(voters, choices, strict=True):
        casting.cast(voter, poll, choice)
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    return poll


@pytest.fixture
def weighted(make, session, forum, plan, facilitator):
    """Weights 1, 1, 2.5, 1, 1; the 2.5 delegate alone votes "no"."""
    people = delegates(make, session, forum, ["1", "1", "2.5", "1", "1"])
    choices = ["yes", "yes", "no", "yes", "yes"]
    poll = assembly_vote(session, facilitator, plan, people, choices)
    start = datetime(2030, 1, 1, tzinfo=UTC)
    consultation = consultations.create_consultation(
        None,
        session.get(type(plan), plan.id),
        title="Consultation",
        phases=[consultations.PhaseInput("amendments", start, start + timedelta(days=30))],
    )
    session.commit()
    return {"poll": poll, "delegates": people, "consultation": consultation}


def poll_url(poll, suffix=""):
    return f"/forums/{poll.forum.slug}/polls/{poll.id}{suffix}"


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def csv_rows(text):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def ballot_section(rows):
    """The rows before the blank one: ballots, votes by name or option totals (the
    explanation of the result follows the blank row)."""
    return rows[: rows.index([])]


def _holds(text, needle: str) -> bool:
    """``needle`` as a number of its own in ``text`` (not the "2.5" inside a
    timestamp's "52.518" seconds, which made this test fail by chance)."""
    return re.search(rf"(?<![\d.]){re.escape(needle)}(?!\d)", str(text)) is not None


def places_of(value, needle, path=()):
    """Every place in decoded JSON where ``needle`` appears: keys and values."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _holds(key, needle):
                yield (*path, key)
            yield from places_of(item, needle, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from places_of(item, needle, (*path, index))
    elif _holds(value, needle):
        yield path


def recomputed_checksum(ballots):
    """The published checksum as an auditor recomputes it from a ballot list."""
    lines = sorted(
        json.dumps([ballot["choice"], ballot["weight"]], ensure_ascii=False, separators=(",", ":"))
        for ballot in ballots
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# --- what an ordinary member can read --------------------------------------------------


def test_the_json_export_gives_option_totals_and_no_ballot(client, weighted, member):
    poll = weighted["poll"]
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert "ballots" not in document and document["published"] == "totals"
    assert document["options"] == [
        {"option": "yes", "weight": "4", "ballots": None},
        {"option": "no", "weight": SINGLED_OUT, "ballots": None},
        {"option": "abstain", "weight": "0", "ballots": None},
    ]
    assert document["result"]["checksum"] == poll.checksum
    assert document["result"]["ballots"] == 5  # how many voted, all options together
    # 2.5 only as the weighted total of "no" (the result itself), never per ballot.
    assert sorted(places_of(document, SINGLED_OUT)) == [
        ("explanation", "options", 1, "weight"),
        ("options", 1, "weight"),
        ("result", "tally", "no"),
    ]


def test_the_csv_export_gives_one_row_per_option(client, weighted, member):
    sign_in(client, member)
    rows = csv_rows(get(client, poll_url(weighted["poll"], "/results.csv")))
    # After the totals, the explanation gives the same weighted total, nothing per ballot.
    assert [row for row in rows if SINGLED_OUT in ",".join(row)] == [
        ["No", SINGLED_OUT],
        ["No", SINGLED_OUT, "38.5%"],
    ]
    assert ballot_section(rows) == [
        ["Option", "Total weight"],
        ["Yes", "4"],
        ["No", SINGLED_OUT],
        ["Abstain", "0"],
    ]


def test_the_page_says_what_is_published_and_shows_totals_only(client, weighted, member):
    poll = weighted["poll"]
    sign_in(client, member)
    page = get(client, poll_url(poll))
    assert "What is published about this vote" in page
    assert f"every weight is carried by at least {MIN_BALLOTS_PER_WEIGHT} ballots" in page
    assert "Download the totals (CSV)" in page
    assert "Download the ballots (CSV)" not in page
    assert "/ballots.csv" not in page and "/ballots.json" not in page
    table = page[page.find("<caption>Total of each option") :]
    table = table[: table.find("</table>")]
    assert ">Ballots<" not in table  # no number of ballots per option
    assert '<th scope="row">No</th><td class="number">2.5</td>' in table


def test_the_api_gives_option_totals_and_no_ballot(client, weighted, member):
    poll = weighted["poll"]
    sign_in(client, member)
    data = json.loads(get(client, f"/api/v1/forums/{poll.forum.slug}/polls/{poll.id}"))
    assert data["ballots_published"] is False
    assert [(o["option"], o["weight"], o["ballots"]) for o in data["options"]] == [
        ("yes", "4", None),
        ("no", SINGLED_OUT, None),
        ("abstain", "0", None),
    ]
    assert sorted(places_of(data, SINGLED_OUT)) == [
        ("options", 1, "weight"),
        ("results", "tally", "no"),
    ]


def test_the_open_data_gives_weighted_totals_only(client, weighted, member):
    consultation = weighted["consultation"]
    base = f"/forums/{consultation.forum.slug}/consultations/{consultation.id}/open-data"
    sign_in(client, member)
    (row,) = csv.DictReader(io.StringIO(get(client, base + "/polls.csv")[1:]))
    assert (row["yes"], row["no"], row["abstain"]) == ("4", SINGLED_OUT, "0")
    assert (row["yes_ballots"], row["no_ballots"], row["abstain_ballots"]) == ("", "", "")
    assert [column for column, value in row.items() if SINGLED_OUT in value] == ["no"]
    (data,) = json.loads(get(client, base + "/polls.json"))["rows"]
    assert sorted(places_of(data, SINGLED_OUT)) == [("no",), ("tally", "no")]


def test_no_notification_tells_a_choice_or_a_weight(session, weighted):
    poll = weighted["poll"]
    told = session.scalars(select(Notification).where(Notification.object_id == poll.id)).all()
    assert told  # the vote opened and closed
    for notification in told:
        text = json.dumps(notification.data)
        assert SINGLED_OUT not in text and '"no"' not in text


# --- what the people who check the count get --------------------------------------------


def test_facilitators_get_every_ballot_and_recompute_the_checksum(
    app, client, weighted, facilitator, member
):
    poll = weighted["poll"]
    sign_in(client, facilitator)
    assert "/ballots.json" in get(client, poll_url(poll))
    document = json.loads(get(client, poll_url(poll, "/ballots.json")))
    assert sorted((b["choice"], b["weight"]) for b in document["ballots"]) == [
        ("no", "2.5"),
        ("yes", "1"),
        ("yes", "1"),
        ("yes", "1"),
        ("yes", "1"),
    ]
    assert [o["ballots"] for o in document["options"]] == [4, 1, 0]
    assert recomputed_checksum(document["ballots"]) == poll.checksum
    rows = csv_rows(get(client, poll_url(poll, "/ballots.csv")))
    assert rows[0] == ["Choice", "Weight"] and ["No", "2.5"] in rows

    report = app.test_cli_runner().invoke(args=["polls", "verify", str(poll.id)])
    assert report.exit_code == 0, report.output
    assert json.loads(report.output)["computed_checksum"] == poll.checksum

    client.post("/sign-out")
    sign_in(client, member)
    assert client.get(poll_url(poll, "/ballots.json")).status_code == 403
    assert client.get(poll_url(poll, "/ballots.csv")).status_code == 403


def test_the_ballots_of_an_open_vote_cannot_be_downloaded(
    client, make, session, forum, plan, facilitator
):
    people = delegates(make, session, forum, ["1", "2"])
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now,
        closes_at=now + timedelta(hours=1),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    casting.cast(people[1], poll, "no")
    session.commit()
    sign_in(client, facilitator)
    assert client.get(poll_url(poll, "/ballots.json")).status_code == 409


# --- when the ballots are published --------------------------------------------------------


def test_integer_weights_keep_the_number_of_ballots_per_option_back(
    client, make, session, forum, plan, facilitator, member
):
    """Weights 1, 1, 2, 1, 1: "no: 2" could be the 2 delegate or two others; the
    number of ballots for "no" would say which, so it is not published."""
    people = delegates(make, session, forum, ["1", "1", "2", "1", "1"])
    poll = assembly_vote(session, facilitator, plan, people, ["yes", "no", "no", "yes", "yes"])
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert "ballots" not in document
    assert [(o["weight"], o["ballots"]) for o in document["options"]] == [
        ("3", None),
        ("3", None),
        ("0", None),
    ]


def test_every_weight_carried_by_enough_ballots_publishes_the_ballots(
    client, make, session, forum, plan, facilitator, member
):
    k = MIN_BALLOTS_PER_WEIGHT
    people = delegates(make, session, forum, ["1"] * k + ["2"] * k)
    choices = ["yes"] * (k - 1) + ["no"] + ["no"] * (k - 1) + ["yes"]
    poll = assembly_vote(session, facilitator, plan, people, choices)
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert document["published"] == "ballots"
    assert len(document["ballots"]) == 2 * k
    assert recomputed_checksum(document["ballots"]) == poll.checksum
    assert [(o["option"], o["ballots"]) for o in document["options"]] == [
        ("yes", k),
        ("no", k),
        ("abstain", 0),
    ]
    page = get(client, poll_url(poll))
    assert "Download the ballots (CSV)" in page and ">Ballots<" in page


def test_one_weight_too_few_keeps_the_ballots_back(
    client, make, session, forum, plan, facilitator, member
):
    k = MIN_BALLOTS_PER_WEIGHT
    people = delegates(make, session, forum, ["1"] * k + ["2"] * (k - 1))
    poll = assembly_vote(session, facilitator, plan, people, ["yes"] * (2 * k - 1))
    sign_in(client, member)
    assert "ballots" not in json.loads(get(client, poll_url(poll, "/results.json")))


def test_an_unweighted_secret_vote_publishes_its_ballots_as_before(
    client, make, session, forum, plan, facilitator, member
):
    """Equal weights tell nothing: the ballots and the counts stay public, even
    with fewer voters than the threshold."""
    people = delegates(make, session, forum, ["1", "1", "1"])
    poll = assembly_vote(session, facilitator, plan, people, ["yes", "no", "yes"])
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert document["published"] == "ballots"
    assert document["ballots"] == [
        {"choice": "no", "weight": "1"},
        {"choice": "yes", "weight": "1"},
        {"choice": "yes", "weight": "1"},
    ]
    assert [o["ballots"] for o in document["options"]] == [2, 1, 0]
    rows = csv_rows(get(client, poll_url(poll, "/results.csv")))
    assert ballot_section(rows) == [["Choice", "Weight"], ["No", "1"], ["Yes", "1"], ["Yes", "1"]]
    page = get(client, poll_url(poll))
    assert "the list of ballots (each one's choice, never who cast it)" in page


def test_a_named_weighted_vote_still_publishes_who_voted_what(
    client, make, session, forum, plan, facilitator, member
):
    people = delegates(make, session, forum, ["1", "1", "2.5", "1", "1"])
    poll = assembly_vote(
        session, facilitator, plan, people, ["yes", "yes", "no", "yes", "yes"], secret=False
    )
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert {"choice": "no", "weight": "2.5"} in document["ballots"]
    (named,) = [v for v in document["named_votes"] if v["choice"] == "no"]
    assert (named["voter"], named["weight"]) == (people[2].display_name, "2.5")
    rows = csv_rows(get(client, poll_url(poll, "/results.csv")))
    assert rows[0] == ["Voter", "Choice", "Weight", "Cast by"]
    name = people[2].display_name
    assert [name, "No", "2.5", name] in rows
    assert "Who voted what, with each vote's weight" in get(client, poll_url(poll))


def test_a_ranked_weighted_vote_publishes_first_preferences_only(
    client, make, session, forum, plan, facilitator, member
):
    people = delegates(make, session, forum, ["1", "1", "2.5"])
    key = plans.version_nodes(plan.current_version)[1].key
    for text in ("One way.", "Another way."):
        amendment = proposing.propose(
            member, plan, target=key, operation="replace", text=text, submit=True
        )
        lifecycle.decide(facilitator, amendment, "admitted")
    session.commit()
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="competing",
        scope="assembly",
        target_key=key,
        opens_at=now,
        closes_at=now + timedelta(hours=1),
        settings=PollSettings(method="schulze"),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    first, second = (candidate.name for candidate in poll.candidates[:2])
    casting.cast(people[0], poll, [first, second])
    casting.cast(people[1], poll, [first])
    casting.cast(people[2], poll, [second, "current", first])
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    sign_in(client, member)
    document = json.loads(get(client, poll_url(poll, "/results.json")))
    assert "ballots" not in document
    assert [(o["option"], o["weight"], o["ballots"]) for o in document["options"]] == [
        (first, "2", None),
        (second, SINGLED_OUT, None),
        ("current", "0", None),
    ]
    rows = csv_rows(get(client, poll_url(poll, "/results.csv")))
    assert ballot_section(rows) == [
        ["Option ranked first", "Total weight"],
        [first, "2"],
        [second, SINGLED_OUT],
        ["Keep the current text", "0"],
    ]


# --- a running count ----------------------------------------------------------------------


def test_a_secret_weighted_vote_cannot_show_its_count_while_it_runs(
    make, session, forum, plan, facilitator
):
    """A count that jumps by 2.5 tells whose ballot came in."""
    delegates(make, session, forum, ["1", "2.5"])
    now = utcnow()
    options = {
        "subject": "plan",
        "scope": "assembly",
        "opens_at": now + timedelta(minutes=5),
        "closes_at": now + timedelta(hours=1),
    }
    with pytest.raises(InvalidInput, match="cannot show its count while it runs"):
        setup.create_poll(facilitator, plan, settings=PollSettings(hide_results=False), **options)
    session.rollback()
    named = setup.create_poll(
        facilitator, plan, settings=PollSettings(hide_results=False, secret=False), **options
    )
    assert named.hide_results is False  # a named vote publishes every ballot anyway


def test_weights_that_change_before_opening_hide_the_running_count(
    make, session, forum, plan, facilitator
):
    people = delegates(make, session, forum, ["1", "1"])
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now,
        closes_at=now + timedelta(hours=1),
        settings=PollSettings(hide_results=False),
    )
    session.commit()
    membership = session.scalar(
        select(Membership).where(
            Membership.forum_id == forum.id, Membership.user_id == people[1].id
        )
    )
    membership.vote_weight = Decimal("2.5")
    session.commit()
    votes_lifecycle.open_poll(facilitator, poll)
    casting.cast(people[1], poll, "no")
    session.commit()
    assert poll.hide_results is True
    assert integrity.live_result(poll) is None
    assert not queries.results_visible(people[0], poll)
