"""The phase banner on the vote pages (issue 14): the phase, what this reader
may do about this vote (from the votes' own predicates: the electorate, the
phase, a ballot already cast) and until when; and on the plan's other pages,
"you can vote" only for whoever has a vote to cast in an open vote."""

import re
from datetime import timedelta

import pytest

from consult.database import utcnow
from consult.votes import casting
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")
DAY = timedelta(days=1)


def banner_text(page: str) -> str:
    found = re.search(r'<aside class="phase-banner[^"]*".*?</aside>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0))) if found else ""


def may_text(text: str) -> str:
    """What the banner says the reader can do ("" when nothing)."""
    return text.split("You can", 1)[1].split(".", 1)[0] if "You can" in text else ""


@pytest.fixture
def voting(make, plan):
    """The plan's consultation, in its voting phase."""
    now = utcnow()
    return make.consultation(plan, [("voting", now - DAY, now + 9 * DAY)], advance=True)


@pytest.fixture
def facilitator(make, forum):
    return make.facilitator(forum, locale="en")


@pytest.fixture
def delegate(make, forum):
    return make.delegate(forum, locale="en")


def poll_page(client, forum, poll) -> str:
    answer = client.get(f"/forums/{forum.slug}/polls/{poll.id}")
    assert answer.status_code == 200
    return banner_text(answer.get_data(as_text=True))


def plan_page(client, forum, plan) -> str:
    return banner_text(client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True))


def test_a_delegate_reads_that_they_can_vote_and_until_when(
    client, make, forum, plan, voting, facilitator, delegate
):
    poll = make.poll(plan, facilitator)
    sign_in(client, delegate)
    text = poll_page(client, forum, poll)
    assert "Now: Voting, until" in text
    assert "vote" in may_text(text)
    assert "This vote closes on" in text
    assert "(UTC" in text or "UTC" in text  # in the reader's zone, named


def test_a_member_outside_the_electorate_is_told_so(
    client, make, forum, plan, voting, facilitator, delegate, member
):
    poll = make.poll(plan, facilitator)
    sign_in(client, member)
    text = poll_page(client, forum, poll)
    assert "Now: Voting" in text
    assert "vote" not in may_text(text)
    assert "You are not in the electorate of this vote." in text
    assert "This vote closes on" not in text


def test_a_cast_vote_that_cannot_change_is_said(
    client, make, forum, plan, voting, facilitator, delegate
):
    poll = make.poll(plan, facilitator, allow_change=False)
    casting.cast(delegate, poll, "yes")
    make.session.commit()
    sign_in(client, delegate)
    text = poll_page(client, forum, poll)
    assert "vote" not in may_text(text)
    assert "does not allow changes" in text


def test_a_vote_not_open_yet_is_said_even_outside_the_voting_phase(
    client, make, forum, plan, facilitator, delegate
):
    make.consultation(plan, advance=True)  # amendments now
    poll = make.poll(
        plan, facilitator, opened=False, opens_at=utcnow() + 20 * DAY, closes_at=utcnow() + 21 * DAY
    )
    sign_in(client, delegate)
    text = poll_page(client, forum, poll)
    assert "Now: Amendments" in text
    assert "vote" not in may_text(text)
    assert "This vote has not opened yet." in text


def test_the_roll_call_and_the_set_up_pages_have_the_banner(
    client, make, forum, plan, voting, facilitator, delegate
):
    poll = make.poll(plan, facilitator)
    sign_in(client, facilitator)
    for url in (
        f"/forums/{forum.slug}/polls/{poll.id}/roll-call",
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "Now: Voting" in banner_text(page.get_data(as_text=True)), url


def test_on_the_plan_page_only_a_voter_is_told_they_can_vote(
    client, make, forum, plan, voting, facilitator, delegate, member
):
    sign_in(client, member)
    assert "No vote on this plan is open now." in plan_page(client, forum, plan)
    make.poll(plan, facilitator)
    text = plan_page(client, forum, plan)
    assert "vote" not in may_text(text)  # the phase allows voting; member is no delegate
    assert "You are not in the electorate of any vote open on this plan." in text
    sign_in(client, delegate)
    assert "vote" in may_text(plan_page(client, forum, plan))


def test_a_delegate_who_gave_their_vote_away_is_not_told_they_can_vote(
    client, make, forum, plan, voting, facilitator, delegate
):
    poll = make.poll(plan, facilitator, allow_change=False)
    casting.cast(delegate, poll, "no")
    make.session.commit()
    sign_in(client, delegate)
    text = plan_page(client, forum, plan)
    assert "vote" not in may_text(text)
    assert "You have cast or given your vote in every vote open on this plan." in text


def test_the_plan_banner_costs_the_same_statements_however_many_votes_are_open(
    client,
    make,
    forum,
    plan,
    voting,
    facilitator,
    delegate,
    count_statements,
    pages_built_each_time,
):
    sign_in(client, delegate)
    make.poll(plan, facilitator)
    counts = []
    for _round in range(2):
        client.get(f"/forums/{forum.slug}/plans/{plan.id}/")  # warm the text cache
        with count_statements() as seen:
            assert "vote" in may_text(plan_page(client, forum, plan))
        counts.append(len(seen))
        for _more in range(3):
            amendment = make.amendment(plan, facilitator, admitted_by=facilitator)
            make.poll(plan, facilitator, amendment=amendment)
    assert counts[0] == counts[1]
