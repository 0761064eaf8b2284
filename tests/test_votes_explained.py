"""Votes that explain themselves (issue 15): a vote opens and is cast only while
the consultation's phase allows voting, a closed vote's result says how it was
reached (base, threshold, quorum, tie-breaks, consequences) on its page and in
its downloads, a closed vote offers nothing only an open vote can do, and the
set-up form starts from the group in charge and the right phase."""

import csv
import html
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consult.amendments import lifecycle, plan_settings, proposing
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.errors import Conflict
from consult.plans import services as plans
from consult.votes import casting, explanation, explanation_text, permissions, scheduling, setup
from consult.votes import lifecycle as votes_lifecycle
from consult.votes.models import Poll
from consult.votes.setup import PollSettings
from tests.factories import sign_in

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n"
STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


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
    return [make.member(forum, groups=[group], locale="en").user for _ in range(5)]


# --- helpers ------------------------------------------------------------------------------


def item_key(plan, ref="1"):
    return plans.find_node(plan.current_version, ref).key


def admitted(session, plan, facilitator, author, ref="1", text="A better text."):
    amendment = proposing.propose(
        author, plan, target=item_key(plan, ref), operation="replace", text=text, submit=True
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    session.commit()
    return amendment


def consultation_with(session, facilitator, plan, *kinds, first_started=HOUR):
    """A consultation whose phases follow each other, a day each, the first one
    started ``first_started`` ago and opened by the scheduler."""
    start = utcnow() - first_started
    phases = [
        PhaseInput(kind, start + index * DAY, start + (index + 1) * DAY)
        for index, kind in enumerate(kinds)
    ]
    consultation = consultations.create_consultation(
        facilitator, plan, title="Consultation", phases=phases
    )
    phase_scheduler.advance_due()
    session.commit()
    return consultation


def group_poll(session, facilitator, plan, group, amendment, *, open_now=True, **settings):
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="amendment",
        scope="group",
        group=group,
        amendment=amendment,
        opens_at=utcnow(),
        closes_at=utcnow() + 5 * DAY,
        settings=PollSettings(**settings),
    )
    if open_now:
        votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    return poll


def closed_vote(session, facilitator, plan, group, voters, choices, **settings):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = group_poll(session, facilitator, plan, group, amendment, **settings)
    for voter, choice in zip(voters, choices, strict=False):
        casting.cast(voter, poll, choice)
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    return poll


def explained(poll):
    result = explanation.explain(poll)
    return result, explanation_text.sentences(poll, result)


def delegates(make, session, forum, weights):
    people = []
    for weight in weights:
        membership = make.member(forum, locale="en")
        membership.is_delegate = True
        membership.vote_weight = Decimal(weight)
        people.append(membership.user)
    session.commit()
    return people


def main_html(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.find("<main") : page.find("</main>")]


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main_html(response))))


def poll_url(poll, suffix=""):
    return f"/forums/{poll.forum.slug}/polls/{poll.id}{suffix}"


def selected_value(page: str, name: str) -> str | None:
    """The value of the selected option of the select named ``name``."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, name
    option = re.search(r"<option(?=[^>]*\bselected\b)[^>]*>", select_html.group(1))
    if option is None:
        return None
    return re.search(r'value="([^"]*)"', option.group(0)).group(1)


# --- phase gating ---------------------------------------------------------------------------


def test_a_vote_opens_and_is_cast_only_while_the_phase_allows_voting(
    session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation = consultation_with(session, facilitator, plan, "amendments", "voting", "review")
    # Set up any time...
    poll = group_poll(session, facilitator, plan, group, amendment, open_now=False)
    # ...but not opened during the amendments phase, by hand or by the scheduler.
    with pytest.raises(Conflict, match="This vote cannot be opened now: Voting opens on") as error:
        votes_lifecycle.open_poll(facilitator, poll)
    assert error.value.status == 409
    session.rollback()
    assert scheduling.advance_polls() == {"opened": 0, "closed": 0}
    assert poll.state == "draft"
    allowed = permissions.allowed(facilitator, poll)
    assert not allowed.may_open and allowed.waiting
    assert allowed.open_reason.startswith("This vote cannot be opened now")

    phase_scheduler.advance(facilitator, consultation)  # the voting phase opens
    session.commit()
    assert permissions.allowed(facilitator, poll).may_open
    assert scheduling.advance_polls() == {"opened": 1, "closed": 0}
    session.commit()
    assert permissions.allowed(voters[0], poll).may_cast
    casting.cast(voters[0], poll, "yes")
    session.commit()

    phase_scheduler.advance(facilitator, consultation)  # review: no more voting
    session.commit()
    with pytest.raises(Conflict, match="Votes cannot be cast now: Voting closed on") as error:
        casting.cast(voters[1], poll, "no")
    assert error.value.status == 409
    session.rollback()
    allowed = permissions.allowed(voters[1], poll)
    assert not allowed.may_cast and allowed.vote_reason.startswith("Votes cannot be cast now")
    assert not permissions.allowed(voters[0], poll).may_change
    # Closing still works: the count of the ballots cast in the voting phase.
    assert votes_lifecycle.close_poll(facilitator, poll)


def test_the_refusal_is_in_the_readers_language(session, plan, group, facilitator, voters):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation_with(session, facilitator, plan, "amendments", "voting")
    poll = group_poll(session, facilitator, plan, group, amendment, open_now=False)
    with force_locale("es"), pytest.raises(Conflict) as error:
        votes_lifecycle.open_poll(facilitator, poll)
    assert "La votación se abre el" in str(error.value.message)


def test_a_phase_without_any_vote_says_so(session, plan, group, facilitator, voters):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation_with(session, facilitator, plan, "amendments", "review")
    poll = group_poll(session, facilitator, plan, group, amendment, open_now=False)
    with pytest.raises(Conflict, match="There is no vote in this consultation now"):
        votes_lifecycle.open_poll(facilitator, poll)


def test_the_page_of_a_waiting_vote_says_why_and_offers_no_opening(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation_with(session, facilitator, plan, "amendments", "voting")
    poll = group_poll(session, facilitator, plan, group, amendment, open_now=False)
    sign_in(client, facilitator)
    page = client.get(poll_url(poll))
    assert "This vote cannot be opened now: Voting opens on" in text_of(page)
    assert "Open the vote now" not in text_of(page)
    assert "Cancel the vote" in text_of(page)
    refused = client.post(poll_url(poll, "/open"))
    assert refused.status_code == 409
    assert "Voting opens on" in text_of(refused)


def test_the_page_of_an_open_vote_after_its_phase_offers_no_ballot(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation = consultation_with(session, facilitator, plan, "voting", "review")
    poll = group_poll(session, facilitator, plan, group, amendment)
    sign_in(client, voters[1])
    assert "Cast my vote" in text_of(client.get(poll_url(poll)))
    phase_scheduler.advance(facilitator, consultation)
    session.commit()
    page = client.get(poll_url(poll))
    assert "Votes cannot be cast now: Voting closed on" in text_of(page)
    assert "Cast my vote" not in text_of(page)
    refused = client.post(poll_url(poll, "/vote"), data={"choice": "yes"})
    assert refused.status_code == 409


def test_a_plan_without_consultation_votes_as_before(session, plan, group, facilitator, voters):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = group_poll(session, facilitator, plan, group, amendment)
    assert poll.state == "open"
    assert permissions.phase_reason(poll) is None
    casting.cast(voters[0], poll, "yes")


# --- a closed vote --------------------------------------------------------------------------


def test_a_closed_vote_offers_no_ballot_and_no_change_but_the_receipt_check(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = group_poll(session, facilitator, plan, group, amendment)
    code = casting.cast(voters[0], poll, "yes")
    session.commit()
    sign_in(client, voters[0])
    running = main_html(client.get(poll_url(poll)))
    assert "Change my vote" in running
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    page = client.get(poll_url(poll))
    closed = main_html(page)
    assert f'action="{poll_url(poll, "/vote")}"' not in closed
    assert "Change my vote" not in closed and "Cast my vote" not in closed
    assert "votes can be changed until closing" not in closed
    assert "You voted in this vote." in text_of(page)
    assert f'action="{poll_url(poll, "/receipt")}"' in closed
    allowed = permissions.allowed(voters[0], poll)
    assert (allowed.may_cast, allowed.may_change, allowed.may_check_receipt) == (
        False,
        False,
        True,
    )
    checked = client.post(poll_url(poll, "/receipt"), data={"code": code})
    assert "This ballot is counted: Yes." in text_of(checked)
    # And the service refuses what the page no longer offers.
    assert client.post(poll_url(poll, "/vote"), data={"choice": "no"}).status_code == 409


def test_a_facilitator_sees_no_running_controls_on_a_closed_vote(
    client, session, plan, group, facilitator, voters
):
    poll = closed_vote(session, facilitator, plan, group, voters, ["yes"])
    sign_in(client, facilitator)
    text = text_of(client.get(poll_url(poll)))
    for action in ("Open the vote now", "Close and count now", "Cancel the vote", "Roll call"):
        assert action not in text
    roll_call = text_of(client.get(poll_url(poll, "/roll-call")))
    assert "The roll call is taken while the vote is open." in roll_call
    assert "Save the roll call" not in roll_call


def test_a_facilitator_runs_an_open_vote(client, session, plan, group, facilitator, voters):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = group_poll(session, facilitator, plan, group, amendment)
    sign_in(client, facilitator)
    text = text_of(client.get(poll_url(poll)))
    for action in ("Close and count now", "Cancel the vote", "Roll call"):
        assert action in text
    assert "Open the vote now" not in text
    assert "Save the roll call" in text_of(client.get(poll_url(poll, "/roll-call")))


def test_a_cancelled_vote_has_no_receipt_to_check(session, plan, group, facilitator, voters):
    amendment = admitted(session, plan, facilitator, voters[0])
    poll = group_poll(session, facilitator, plan, group, amendment)
    code = casting.cast(voters[0], poll, "yes")
    votes_lifecycle.cancel_poll(facilitator, poll)
    assert not permissions.allowed(voters[0], poll).may_check_receipt
    with pytest.raises(Conflict):
        casting.check_receipt(poll, code)


# --- the result explained -------------------------------------------------------------------


def test_simple_majority_without_abstentions_in_the_base(session, plan, group, facilitator, voters):
    poll = closed_vote(session, facilitator, plan, group, voters, ["yes", "yes", "no", "abstain"])
    result, words = explained(poll)
    assert (result.base, result.base_weight, result.threshold) == ("yes_no", Decimal(3), (1, 2))
    shares = {option.option: option.share for option in result.options}
    assert shares == {"yes": Decimal("0.666667"), "no": Decimal("0.333333"), "abstain": None}
    label = poll.amendment.label
    assert words == [
        "4 of 5 members of the group voted.",
        "The majority is measured on the votes cast for yes or no (3); abstentions (1) are "
        "left out.",
        "Yes: 66.7% of the votes cast for yes or no (2 of 3); more than half needed: reached.",
        "No quorum was required.",
        f"Amendment {label} is accepted.",
    ]


def test_simple_majority_with_abstentions_in_the_base(session, plan, group, facilitator, voters):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "yes", "no", "abstain", "abstain"],
        abstentions_count=True,
    )
    result, words = explained(poll)
    assert (result.base, result.base_weight, result.threshold_met) == ("cast", Decimal(5), False)
    assert (
        "Yes: 40.0% of the votes cast, abstentions included (2 of 5); more than half needed: "
        "missed." in words
    )
    assert "an abstention works like a no" in words[1]
    assert words[-1] == f"Amendment {poll.amendment.label} is rejected."


def test_absolute_majority_is_of_the_electorate(session, plan, group, facilitator, voters):
    poll = closed_vote(
        session, facilitator, plan, group, voters, ["yes", "yes", "yes"], rule="absolute"
    )
    result, words = explained(poll)
    assert (result.base, result.base_weight) == ("electorate", Decimal(5))
    assert (
        "Yes: 60.0% of the electorate (3 of 5); more than half of the electorate needed: "
        "reached." in words
    )
    assert "whether they voted or not" in words[1]


@pytest.mark.parametrize(
    ("abstentions_count", "sentence", "passed"),
    [
        (
            False,
            "Yes: 66.7% of the votes cast for yes or no (2 of 3); two thirds needed: reached.",
            True,
        ),
        (
            True,
            "Yes: 50.0% of the votes cast, abstentions included (2 of 4); two thirds needed: "
            "missed.",
            False,
        ),
    ],
)
def test_two_thirds_with_and_without_abstentions(
    session, plan, group, facilitator, voters, abstentions_count, sentence, passed
):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "yes", "no", "abstain"],
        rule="two_thirds",
        abstentions_count=abstentions_count,
    )
    result, words = explained(poll)
    assert (result.threshold, result.threshold_strict, result.threshold_met) == (
        (2, 3),
        False,
        passed,
    )
    assert sentence in words
    assert result.to_json()["threshold"] == "2/3"


def test_quorum_reached(session, plan, group, facilitator, voters):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "no", "yes"],
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    result, words = explained(poll)
    assert (result.quorum.required, result.quorum.measured, result.quorum.met) == (
        Decimal("2.5"),
        Decimal(3),
        True,
    )
    assert "Quorum: 50.0% of the electorate (2.5 votes); 3 cast: reached." in words
    assert "The quorum was missed, so the vote decided nothing." not in words


def test_quorum_missed_decides_nothing(session, plan, group, facilitator, voters):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "yes"],
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    result, words = explained(poll)
    assert (result.quorum.met, result.winner) == (False, None)
    assert "2 of 5 members of the group voted." in words
    assert "Quorum: 50.0% of the electorate (2.5 votes); 2 cast: missed." in words
    assert "The quorum was missed, so the vote decided nothing." in words
    label = poll.amendment.label
    assert words[-1] == f"Amendment {label} is back to admitted, to be taken up again."
    assert result.consequences[0].outcome == "admitted"
    assert session.get(type(poll.amendment), poll.amendment_id).status == "admitted"


def test_a_count_quorum(session, plan, group, facilitator, voters):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "no"],
        quorum_kind="count",
        quorum_value=Decimal(3),
    )
    _result, words = explained(poll)
    assert "Quorum: 3 votes; 2 cast: missed." in words


def assembly_approval(session, facilitator, plan, people, choices, **settings):
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now,
        closes_at=now + HOUR,
        settings=PollSettings(**settings),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    for person, choice in zip(people, choices, strict=True):
        casting.cast(person, poll, choice)
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    return poll


def test_a_weighted_assembly_vote_is_explained_by_weight(make, session, forum, plan, facilitator):
    people = delegates(make, session, forum, ["1", "1", "2.5", "1", "1", "1"])
    poll = assembly_approval(
        session,
        facilitator,
        plan,
        people[:5],
        ["yes", "yes", "no", "yes", "abstain"],
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    result, words = explained(poll)
    assert result.weighted
    assert (result.turnout_weight, result.electorate_weight) == (Decimal("6.5"), Decimal("7.5"))
    assert words[0] == (
        "5 of 6 delegates voted, carrying 6.5 of the electorate's 7.5 votes (weighted)."
    )
    assert (
        "Yes: 54.5% of the votes cast for yes or no (3 of 5.5); more than half needed: reached."
        in words
    )
    assert "Quorum: 50.0% of the electorate (3.75 votes); 6.5 cast: reached." in words
    assert words[-1] == f"The plan “{plan.title}” is approved: version 1 is its final text."
    # Weights per option only: never a number of ballots that could single someone out.
    assert all(option.beats is None for option in result.options)
    document = result.to_json()
    assert [o["weight"] for o in document["options"]] == ["3", "2.5", "1"]


def test_an_unweighted_assembly_vote_counts_delegates(make, session, forum, plan, facilitator):
    people = delegates(make, session, forum, ["1", "1", "1"])
    poll = assembly_approval(session, facilitator, plan, people, ["no", "no", "yes"])
    result, words = explained(poll)
    assert not result.weighted
    assert words[0] == "3 of 3 delegates voted."
    assert words[-1] == f"The plan “{plan.title}” is not approved."


def test_an_instant_runoff_says_which_tie_break_it_used(session, plan, group, facilitator, voters):
    first = admitted(session, plan, facilitator, voters[0], text="One way.")
    second = admitted(session, plan, facilitator, voters[0], text="Another way.")
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="competing",
        scope="group",
        group=group,
        target_key=item_key(plan),
        opens_at=now,
        closes_at=now + HOUR,
        settings=PollSettings(method="irv"),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    casting.cast(voters[0], poll, [first.label])
    casting.cast(voters[1], poll, [second.label])
    casting.cast(voters[2], poll, ["current", first.label])
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    result, words = explained(poll)
    assert (result.tie_breaks[0].decided_by, result.tie_breaks[0].eliminated) == (
        "name",
        "current",
    )
    assert (
        f"Round 1: {first.label}, {second.label}, Keep the current text were tied with the "
        "fewest votes in every round; Keep the current text, whose name sorts last, was "
        "eliminated (the documented tie-break)." in words
    )
    assert (
        f"{first.label} in round 2: 66.7% of the ballots still in the count (2 of 3); more "
        "than half needed: reached." in words
    )
    assert f"Amendment {first.label} is accepted." in words
    assert f"Amendment {second.label} is rejected." in words


def test_a_schulze_vote_gives_its_order(session, plan, group, facilitator, voters):
    first = admitted(session, plan, facilitator, voters[0], text="One way.")
    second = admitted(session, plan, facilitator, voters[0], text="Another way.")
    now = utcnow()
    poll = setup.create_poll(
        facilitator,
        plan,
        subject="competing",
        scope="group",
        group=group,
        target_key=item_key(plan),
        opens_at=now,
        closes_at=now + HOUR,
        settings=PollSettings(method="schulze"),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    casting.cast(voters[0], poll, [second.label, first.label])
    casting.cast(voters[1], poll, [second.label])
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    result, words = explained(poll)
    assert result.ranking[0] == second.label
    assert result.options[0].beats == 2
    assert any(w.startswith(f"Order of the options: {second.label} > ") for w in words)
    assert f"Amendment {second.label} is accepted." in words


def test_the_page_and_the_downloads_explain_the_result(
    client, session, plan, group, facilitator, voters
):
    poll = closed_vote(
        session,
        facilitator,
        plan,
        group,
        voters,
        ["yes", "yes", "no", "abstain"],
        rule="two_thirds",
        quorum_kind="share",
        quorum_value=Decimal("0.5"),
    )
    sentence = "Yes: 66.7% of the votes cast for yes or no (2 of 3); two thirds needed: reached."
    quorum = "Quorum: 50.0% of the electorate (2.5 votes); 4 cast: reached."
    sign_in(client, voters[1])
    page = text_of(client.get(poll_url(poll)))
    assert "How the result was reached" in page
    assert sentence in page and quorum in page
    assert f"Amendment {poll.amendment.label} is accepted." in page

    document = json.loads(client.get(poll_url(poll, "/results.json")).get_data(as_text=True))
    explained_json = document["explanation"]
    assert (explained_json["base"], explained_json["threshold"]) == ("yes_no", "2/3")
    assert explained_json["quorum"]["met"] is True
    assert sentence in explained_json["sentences"]

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(poll_url(poll, "/results.csv")).get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    after = rows[rows.index([]) + 1 :]
    assert after[0] == ["How the result was reached"]
    assert [sentence] in after and [quorum] in after
    assert ["Yes", "2", "66.7%"] in after and ["Abstain", "1", "not counted"] in after


def test_the_explanation_is_written_in_the_readers_language(
    client, session, plan, group, facilitator, voters
):
    poll = closed_vote(session, facilitator, plan, group, voters, ["yes", "yes", "no"])
    with force_locale("es"):
        result = explanation.explain(poll)
        assert explanation.percent(result.options[0].share) == "66,7\xa0%"
        rows = explanation_text.option_rows(poll, result)
    assert rows[0][2] == "66,7\xa0%"


# --- the set-up form ------------------------------------------------------------------------


def new_poll_url(plan, **query):
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/forums/{plan.forum.slug}/plans/{plan.id}/polls/new?{text}"


def test_the_form_preselects_the_group_in_charge_of_the_section(
    client, make, session, forum, facilitator
):
    plan = plans.import_plan(None, forum, STRUCTURED, language="es", filename="plan.txt")
    plan.open_for_input = True
    make.group(forum, "Alpha")  # listed first, not in charge
    energy = make.group(forum, "Energía")
    author = make.member(forum, groups=[energy], locale="en").user
    plan_settings.assign_section(
        None, plan, plans.find_node(plan.current_version, "1").key, energy.id
    )
    session.commit()
    amendment = admitted(session, plan, facilitator, author, ref="1.1")
    sign_in(client, facilitator)
    page = client.get(new_poll_url(plan, subject="amendment", amendment=amendment.id))
    assert selected_value(page.get_data(as_text=True), "working_group") == str(energy.id)
    assert setup.group_in_charge(plan, amendment.target_key) == energy.id
    assert setup.group_in_charge(plan, plans.find_node(plan.current_version, "2.A.1").key) is None


def test_the_phase_defaults_to_voting_for_groups_and_assembly_for_the_plan(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation = consultation_with(session, facilitator, plan, "amendments", "voting", "assembly")
    voting, assembly = consultation.phases[1], consultation.phases[2]
    sign_in(client, facilitator)
    group_form = client.get(new_poll_url(plan, subject="amendment", amendment=amendment.id))
    assert selected_value(group_form.get_data(as_text=True), "phase") == str(voting.id)
    plan_form = client.get(new_poll_url(plan, subject="plan"))
    assert selected_value(plan_form.get_data(as_text=True), "phase") == str(assembly.id)


def test_the_plan_approval_is_tied_to_no_phase_without_an_assembly_phase(
    client, session, plan, facilitator
):
    consultation_with(session, facilitator, plan, "amendments", "voting")
    sign_in(client, facilitator)
    page = client.get(new_poll_url(plan, subject="plan"))
    assert selected_value(page.get_data(as_text=True), "phase") in (None, "")


def test_the_form_takes_its_closing_time_from_the_phase(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    consultation = consultation_with(session, facilitator, plan, "voting", "review")
    voting = consultation.phases[0]
    sign_in(client, facilitator)
    response = client.post(
        new_poll_url(plan, subject="amendment", amendment=amendment.id),
        data={
            "scope": "group",
            "working_group": str(group.id),
            "rule": "simple",
            "quorum_kind": "none",
            "quorum_base": "ballots",
            "max_proxies": "0",
            "phase": str(voting.id),
        },
    )
    assert response.status_code == 302, text_of(response)
    poll = session.scalar(select(Poll).where(Poll.amendment_id == amendment.id))
    assert (poll.phase_id, poll.closes_at, poll.state) == (voting.id, voting.ends_at, "open")


def test_the_form_shows_errors_beside_their_fields(
    client, session, plan, group, facilitator, voters
):
    amendment = admitted(session, plan, facilitator, voters[0])
    sign_in(client, facilitator)
    url = new_poll_url(plan, subject="amendment", amendment=amendment.id)
    data = {
        "scope": "group",
        "working_group": str(group.id),
        "rule": "simple",
        "quorum_kind": "share",
        "quorum_value": "7",
        "quorum_base": "ballots",
        "max_proxies": "0",
        "closes_at": (utcnow() + 3 * DAY).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="quorum_value-error">([^<]*)</p>', main_html(response))
    assert error and "between 0 and 1" in error.group(1)
    assert 'aria-invalid="true"' in main_html(response)

    response = client.post(url, data={**data, "quorum_kind": "none", "closes_at": ""})
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="closes_at-error">([^<]*)</p>', main_html(response))
    assert error and "Give the closing time, or choose a phase." in error.group(1)

    response = client.post(url, data={**data, "quorum_kind": "none", "working_group": ""})
    error = re.search(r'<p class="error" id="working_group-error">([^<]*)</p>', main_html(response))
    assert error and "Choose the working group that votes." in error.group(1)
