"""Poll pages as members and facilitators use them: setting up a vote, casting a
ballot and getting a receipt, proxies, results, exports, and what bad input gets."""

import csv
import html
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consult.amendments import lifecycle, proposing
from consult.database import utcnow
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import setup
from consult.votes.models import Ballot, Participation, Poll
from tests.factories import sign_in
from tests.test_plans import count_statements

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n"


@pytest.fixture(autouse=True)
def english(client, session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def group(make, forum):
    return make.group(forum, "Education")


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en").user


@pytest.fixture
def plan(session, forum):
    plan = plans.import_plan(None, forum, PLAN_TEXT)
    plan.open_for_input = True
    session.commit()
    return plan


@pytest.fixture
def voters(make, forum, group):
    return [make.member(forum, groups=[group], locale="en").user for _ in range(3)]


def first_key(plan):
    return plans.version_nodes(plan.current_version)[1].key


def admitted(session, plan, facilitator, author, text="A better text.", key=None):
    amendment = proposing.propose(
        author, plan, target=key or first_key(plan), operation="replace", text=text, submit=True
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    session.commit()
    return amendment


def main_html(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.find("<main") : page.find("</main>")]


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main_html(response))))


def open_poll(session, facilitator, plan, group, amendment, **settings):
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="amendment",
        scope="group",
        group=group,
        amendment=amendment,
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=2),
        settings=setup.PollSettings(**settings),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    return poll


def poll_url(poll, suffix=""):
    return f"/forums/{poll.forum.slug}/polls/{poll.id}{suffix}"


# --- setting up -------------------------------------------------------------------------


def test_a_facilitator_puts_an_amendment_to_a_group_vote_that_opens_at_once(
    client, session, forum, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    sign_in(client, facilitator)
    detail = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}")
    assert "Put this amendment to a vote" in detail.get_data(as_text=True)
    url = (
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new?subject=amendment&amendment={amendment.id}"
    )
    assert client.get(url).status_code == 200
    closes = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        data={
            "title": "Education: E1",
            "scope": "group",
            "working_group": str(group.id),
            "method": "yesno",
            "rule": "simple",
            "quorum_kind": "share",
            "quorum_value": "0.5",
            "quorum_base": "ballots",
            "secret": "y",
            "allow_change": "y",
            "hide_results": "y",
            "max_proxies": "0",
            "closes_at": closes,
        },
    )
    assert response.status_code == 302, text_of(response)
    poll = session.scalar(select(Poll).where(Poll.amendment_id == amendment.id))
    assert (poll.title, poll.state, poll.electorate_size) == ("Education: E1", "open", 3)
    assert poll.quorum_value == Decimal("0.5")
    session.refresh(amendment)
    assert amendment.status == "voting"


def test_the_yes_no_setup_form_works_as_the_page_sends_it_without_a_method(
    client, session, forum, plan, group, facilitator, voters
):
    """The page shows no method menu for a yes/no vote (found by the browser journey)."""
    amendment = admitted(session, plan, facilitator, voters[0])
    sign_in(client, facilitator)
    url = (
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new?subject=amendment&amendment={amendment.id}"
    )
    closes = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        data={
            "scope": "group",
            "working_group": str(group.id),
            "rule": "simple",
            "quorum_kind": "none",
            "quorum_base": "ballots",
            "max_proxies": "0",
            "closes_at": closes,
        },
    )
    assert response.status_code == 302, text_of(response)
    poll = session.scalar(select(Poll).where(Poll.amendment_id == amendment.id))
    assert poll.method == "yesno"


def test_a_refused_setup_keeps_what_was_typed_and_says_why(
    client, session, forum, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    sign_in(client, facilitator)
    url = (
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new?subject=amendment&amendment={amendment.id}"
    )
    response = client.post(
        url,
        data={
            "title": "My careful title",
            "scope": "group",
            "working_group": str(group.id),
            "method": "yesno",
            "rule": "simple",
            "quorum_kind": "share",
            "quorum_value": "7",
            "quorum_base": "ballots",
            "closes_at": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert "between 0 and 1" in text_of(response)
    assert 'value="My careful title"' in main_html(response)
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_members_cannot_set_up_votes(client, forum, plan, voters):
    sign_in(client, voters[0])
    assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/polls/new").status_code == 403


# --- voting -------------------------------------------------------------------------------


def test_a_member_votes_gets_a_receipt_once_and_can_check_it(
    client, session, plan, group, facilitator, voters
):
    poll = open_poll(
        session, facilitator, plan, group, admitted(session, plan, facilitator, voters[0])
    )
    sign_in(client, voters[1])
    page = client.get(poll_url(poll))
    assert 'name="choice"' in main_html(page)
    response = client.post(poll_url(poll, "/vote"), data={"choice": "yes"})
    assert response.status_code == 200
    code = re.search(r"receipt-code\"><strong>([A-Z0-9-]+)<", main_html(response)).group(1)
    assert "Your vote: Yes" in text_of(response)
    again = client.get(poll_url(poll))
    assert "You have voted." in text_of(again)
    assert code not in again.get_data(as_text=True)
    checked = client.post(poll_url(poll, "/receipt"), data={"code": code.lower()})
    assert "This ballot is counted: Yes." in text_of(checked)
    wrong = client.post(poll_url(poll, "/receipt"), data={"code": "AAAA-AAAA-AAAA-AAAA"})
    assert "No counted ballot has this receipt code" in text_of(wrong)


def test_a_second_vote_in_a_secret_poll_needs_the_receipt(
    client, session, plan, group, facilitator, voters
):
    poll = open_poll(
        session, facilitator, plan, group, admitted(session, plan, facilitator, voters[0])
    )
    sign_in(client, voters[1])
    first = client.post(poll_url(poll, "/vote"), data={"choice": "yes"})
    code = re.search(r"receipt-code\"><strong>([A-Z0-9-]+)<", main_html(first)).group(1)
    refused = client.post(poll_url(poll, "/vote"), data={"choice": "no"})
    assert refused.status_code == 409
    assert "give the receipt code" in text_of(refused)
    changed = client.post(poll_url(poll, "/vote"), data={"choice": "no", "receipt": code})
    assert changed.status_code == 200
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ballot)) == 1
    assert json.loads(session.scalar(select(Ballot.choice))) == "no"


def test_bad_ballots_are_refused_with_a_message_and_the_choice_kept(
    client, session, plan, group, facilitator, voters
):
    one = admitted(session, plan, facilitator, voters[0], "Text one.")
    admitted(session, plan, facilitator, voters[1], "Text two.")
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="competing",
        scope="group",
        group=group,
        target_key=one.target_key,
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=1),
        settings=setup.PollSettings(method="schulze"),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    sign_in(client, voters[2])
    same_rank = client.post(poll_url(poll, "/vote"), data={"rank-E1": "1", "rank-E2": "1"})
    assert same_rank.status_code == 400
    assert "Give each option a different rank." in text_of(same_rank)
    assert re.search(r'<option value="1" selected>1</option>', main_html(same_rank))
    nothing = client.post(poll_url(poll, "/vote"), data={})
    assert nothing.status_code == 400
    assert "Rank at least one option." in text_of(nothing)
    odd = client.post(poll_url(poll, "/vote"), data={"rank-E1": "٣"})
    assert odd.status_code == 400
    assert session.scalar(select(func.count()).select_from(Participation)) == 0
    ok = client.post(poll_url(poll, "/vote"), data={"rank-E2": "1", "rank-current": "2"})
    assert ok.status_code == 200
    assert "E2 > Keep the current text" in text_of(ok)


def test_someone_outside_the_electorate_is_told_and_refused(
    client, make, session, forum, plan, group, facilitator, voters
):
    poll = open_poll(
        session, facilitator, plan, group, admitted(session, plan, facilitator, voters[0])
    )
    outsider = make.member(forum, locale="en").user
    sign_in(client, outsider)
    assert "You are not in the electorate of this vote." in text_of(client.get(poll_url(poll)))
    assert client.post(poll_url(poll, "/vote"), data={"choice": "yes"}).status_code == 403


# --- results and exports ---------------------------------------------------------------


def test_closing_shows_the_result_and_the_exports_hold_no_voter(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = open_poll(session, facilitator, plan, group, amendment)
    for voter, choice in zip(voters, ["yes", "yes", "no"], strict=True):
        votes_casting.cast(voter, poll, choice)
    session.commit()
    sign_in(client, facilitator)
    hidden = client.get(poll_url(poll))
    assert "The results are shown when the vote closes." in text_of(hidden)
    assert client.get(poll_url(poll, "/results.json")).status_code == 409
    closed = client.post(poll_url(poll, "/close"))
    assert closed.status_code == 302
    page = client.get(closed.headers["Location"])
    text = text_of(page)
    assert "Passed." in text
    assert "<svg" in main_html(page)
    session.expire_all()
    assert poll.checksum in text
    assert session.get(type(amendment), amendment.id).status == "accepted"

    document = json.loads(client.get(poll_url(poll, "/results.json")).get_data(as_text=True))
    assert document["result"]["winner"] == "yes"
    assert sorted(b["choice"] for b in document["ballots"]) == ["no", "yes", "yes"]
    assert "named_votes" not in document
    exported = json.dumps(document)
    for voter in voters:
        assert voter.email not in exported and voter.display_name not in exported
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(poll_url(poll, "/results.csv")).get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    # The ballots, then after a blank row how the result was reached.
    ballots = rows[: rows.index([])]
    assert ballots[0] == ["Choice", "Weight"]
    assert sorted(row[0] for row in ballots[1:]) == ["No", "Yes", "Yes"]
    assert ["How the result was reached"] in rows


def test_a_named_poll_publishes_who_voted_what(client, session, plan, group, facilitator, voters):
    poll = open_poll(
        session,
        facilitator,
        plan,
        group,
        admitted(session, plan, facilitator, voters[0]),
        secret=False,
        hide_results=False,
    )
    votes_casting.cast(voters[1], poll, "no")
    session.commit()
    sign_in(client, voters[2])
    text = text_of(client.get(poll_url(poll)))
    assert "Count so far" in text
    assert f"{voters[1].display_name} No" in text


def test_the_assembly_approves_the_plan_and_its_page_says_so(
    client, make, session, forum, plan, facilitator
):
    delegate = make.member(forum, locale="en")
    delegate.is_delegate = True
    session.commit()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=1),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    votes_casting.cast(delegate.user, poll, "yes")
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    sign_in(client, facilitator)
    page = text_of(client.get(f"/forums/{forum.slug}/plans/{plan.id}/"))
    assert "Approved by the assembly: final text" in page
    assert "Edit the whole text" not in page


def test_the_poll_page_costs_the_same_queries_for_any_electorate(
    app, client, make, session, forum, plan, facilitator
):
    def page_statements(size):
        group = make.group(forum)
        people = [make.member(forum, groups=[group], password=None) for _ in range(size)]
        for membership in people:  # accounts that joined, cheaply
            membership.user.password_hash = "x"
        voter = make.member(forum, groups=[group], locale="en").user
        amendment = admitted(session, plan, facilitator, voter, f"Text {size}.")
        poll = open_poll(session, facilitator, plan, group, amendment, hide_results=False)
        for membership in people[: size // 2]:
            votes_casting.cast(membership.user, poll, "yes")
        session.commit()
        sign_in(client, voter)
        with count_statements(app) as counter:
            assert client.get(poll_url(poll)).status_code == 200
        client.post("/sign-out")
        return counter["n"]

    assert page_statements(4) == page_statements(40)


def test_consult_polls_verify_recounts_and_catches_a_tampered_ballot(
    app, session, plan, group, facilitator, voters
):
    poll = open_poll(
        session, facilitator, plan, group, admitted(session, plan, facilitator, voters[0])
    )
    for voter, choice in zip(voters, ["yes", "no", "yes"], strict=True):
        votes_casting.cast(voter, poll, choice)
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    runner = app.test_cli_runner()
    good = runner.invoke(args=["polls", "verify", str(poll.id)])
    assert good.exit_code == 0, good.output
    report = json.loads(good.output)
    assert report["ok"] and report["computed_checksum"] == poll.checksum
    assert report["winner"] == "yes"

    ballot = session.scalars(select(Ballot).where(Ballot.choice == '"no"')).first()
    ballot.choice = '"yes"'
    session.commit()
    bad = runner.invoke(args=["polls", "verify", str(poll.id)])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["checksum_matches"] is False
    assert runner.invoke(args=["polls", "verify", "999999"]).exit_code != 0


@pytest.mark.parametrize(
    "changes",
    [
        {"scope": "everyone"},
        {"working_group": "abc"},
        {"working_group": ""},
        {"quorum_value": "lots"},
        {"quorum_kind": "count", "quorum_value": "-1"},
        {"max_proxies": "-1"},
        {"max_proxies": "3"},  # proxies in a group vote
        {"quorum_base": "present"},  # presence in a group vote
        {"phase": "x"},
        {"closes_at": "tomorrow"},
        {"closes_at": ""},
        {"opens_at": "2031-01-02T10:00", "closes_at": "2031-01-01T10:00"},
        {"closes_at": "2001-01-01T10:00"},
        {"title": "x" * 301},
        {"rule": "\x00"},
    ],
)
def test_the_setup_form_answers_bad_input_with_400_and_no_poll(
    client, session, forum, plan, group, facilitator, voters, changes
):
    amendment = admitted(session, plan, facilitator, voters[0])
    sign_in(client, facilitator)
    data = {
        "scope": "group",
        "working_group": str(group.id),
        "method": "yesno",
        "rule": "simple",
        "quorum_kind": "none",
        "quorum_base": "ballots",
        "max_proxies": "0",
        "closes_at": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    url = (
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new?subject=amendment&amendment={amendment.id}"
    )
    response = client.post(url, data=data)
    assert response.status_code == 400, text_of(response)
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


@pytest.mark.parametrize(
    "query",
    [
        "subject=amendment&amendment=999999",
        "subject=amendment&amendment=١",  # noqa: RUF001 (an Arabic-Indic digit one)
        "subject=nothing",
        "subject=competing",
    ],
)
def test_the_setup_page_for_something_that_is_not_there_is_a_404(
    client, forum, plan, facilitator, query
):
    sign_in(client, facilitator)
    assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/polls/new?{query}").status_code == 404


def test_a_passed_approval_of_a_text_that_changed_meanwhile_says_so(
    client, make, session, forum, plan, facilitator
):
    delegate = make.member(forum, locale="en")
    delegate.is_delegate = True
    session.commit()
    voted_on = plan.current_version
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=1),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    plans.edit_node(facilitator, plan, voted_on, first_key(plan), "Changed during the vote.")
    votes_casting.cast(delegate.user, poll, "yes")
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    sign_in(client, facilitator)
    text = text_of(client.get(poll_url(poll)))
    assert "Passed." in text and "was not made final" in text
