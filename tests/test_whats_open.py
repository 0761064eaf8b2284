"""What is open now (issue 15): the forum page and the home page name the
consultations in an open phase and until when, the votes open now and the
assembly sessions called, each linked, at a constant cost."""

import re
from datetime import timedelta

import pytest

from consult.amendments import plan_settings, supports
from consult.assembly import sessions
from consult.comments import moderation
from consult.comments import services as comments
from consult.database import utcnow
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")
DAY = timedelta(days=1)


def open_now(html: str) -> str:
    found = re.search(r'<section class="whats-open".*?</section>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0))) if found else ""


def test_the_forum_page_lists_the_phase_the_vote_and_the_session(
    client, make, forum, facilitator, member, plan
):
    consultation = make.consultation(plan, advance=True, timezone="America/Bogota")
    make.delegate(forum)
    # A vote on another plan (this one's phase takes amendments, not votes).
    poll = make.poll(make.plan(forum), facilitator, title="Approval of the budget")
    session = sessions.create_session(
        facilitator,
        consultation,
        sessions.SessionInput(title="Regional assembly", starts_at=utcnow() + 3 * DAY),
    )
    make.session.commit()
    sign_in(client, member)
    html = client.get(f"/forums/{forum.slug}/").get_data(as_text=True)
    text = open_now(html)
    assert "Approval of the budget" in text and "until" in text
    assert "Regional assembly" in text and "starts" in text
    assert f"{plan.title} · Amendments until" in text
    assert f'href="/forums/{forum.slug}/polls/{poll.id}"' in html
    assert f'href="/forums/{forum.slug}/assembly/{session.id}"' in html
    assert f'href="/forums/{forum.slug}/plans/{plan.id}/"' in html


def test_a_quiet_forum_says_nothing_is_open(client, forum, member):
    sign_in(client, member)
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "Nothing is open for input or a vote right now." in text


def test_the_home_page_names_each_entrys_forum_and_hides_other_forums(
    client, make, forum, facilitator, member, plan
):
    make.delegate(forum)
    make.poll(plan, facilitator, title="Vote of my forum")
    elsewhere = make.forum(name="A forum I am not in")
    make.delegate(elsewhere)
    other_plan = make.plan(elsewhere)
    make.poll(other_plan, make.facilitator(elsewhere), title="Vote of another forum")
    sign_in(client, member)
    text = open_now(client.get("/").get_data(as_text=True))
    assert "Vote of my forum" in text and forum.name in text
    assert "Vote of another forum" not in text


def test_the_list_costs_the_same_statements_however_much_is_open(
    client, make, forum, facilitator, member, count_statements, pages_built_each_time
):
    make.delegate(forum)
    sign_in(client, member)
    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            make.consultation(make.plan(forum), advance=True)
            make.poll(make.plan(forum), facilitator)
        with count_statements() as seen:
            assert client.get(f"/forums/{forum.slug}/").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


# --- what waits for the reader ---------------------------------------------------------


def test_a_delegate_is_told_a_vote_awaits_them_until_they_cast_it(
    client, session, make, forum, facilitator, member, plan
):
    delegate = make.delegate(forum, locale="en")
    poll = make.poll(plan, facilitator, title="Approval of the plan")
    sign_in(client, delegate)
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "Approval of the plan" in text and "awaits your vote" in text
    assert re.search(r"\(in \d+ (minutes|hours|days|weeks)\)", text), text  # the time left

    votes_casting.cast(delegate, poll, "yes")
    session.commit()
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "you have voted" in text and "awaits your vote" not in text

    sign_in(client, member)  # not a delegate: the vote is listed, nothing awaits them
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "Approval of the plan" in text
    assert "awaits your vote" not in text and "you have voted" not in text


def test_a_vote_is_said_to_await_a_ballot_only_while_the_phase_takes_ballots(
    client, session, make, forum, facilitator, plan
):
    """The consultation's phase decides when ballots are cast (as the vote
    page does): in an amendment phase the open vote awaits nothing yet."""
    delegate = make.delegate(forum, locale="en")
    make.poll(plan, facilitator, title="Approval of the plan")
    make.consultation(plan, advance=True)  # an amendments phase: no ballots
    sign_in(client, delegate)
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "Approval of the plan" in text and "awaits your vote" not in text


def test_an_author_is_shown_their_draft_and_what_their_amendment_still_needs(
    client, session, make, forum, facilitator, member, plan
):
    plan_settings.update_settings(
        facilitator, plan, open_for_input=True, threshold=3, threshold_kind="members"
    )
    draft = make.amendment(plan, member, submit=False)
    short = make.amendment(plan, member, ref="2")
    supports.support(make.member(forum).user, short)
    session.commit()
    sign_in(client, member)
    html = client.get(f"/forums/{forum.slug}/").get_data(as_text=True)
    text = open_now(html)
    assert "Waiting for you" in text
    assert f"Your draft {draft.identifier} · not submitted yet" in text
    assert f"Your amendment {short.identifier} · 1 of the 3 supports needed" in text
    assert f'href="/forums/{forum.slug}/amendments/{draft.id}"' in html

    # Someone else's amendments are not theirs.
    sign_in(client, make.member(forum, locale="en").user)
    assert "Waiting for you" not in open_now(
        client.get(f"/forums/{forum.slug}/").get_data(as_text=True)
    )


def test_a_facilitator_is_led_to_the_desk_and_the_reported_comments(
    client, session, make, forum, facilitator, member, plan
):
    consultation = make.consultation(plan, advance=True)
    make.amendment(plan, member)
    make.amendment(plan, member, ref="2", admitted_by=facilitator)
    key = plans.find_node(plan.current_version, "1").key
    reported = comments.post_comment(
        member, forum, plan=plan, target_type="node", target_key=key, body="Un comentario."
    )
    moderation.flag_comment(make.member(forum).user, reported, "Ofensivo")
    session.commit()
    sign_in(client, facilitator)
    html = client.get(f"/forums/{forum.slug}/").get_data(as_text=True)
    text = open_now(html)
    assert "To decide 2 amendments wait for a decision" in text
    assert f'href="/forums/{forum.slug}/plans/{plan.id}/amendments/triage"' in html
    assert "To moderate 1 reported comment" in text
    dashboard = f"/forums/{forum.slug}/consultations/{consultation.id}/dashboard#flagged-heading"
    assert f'href="{dashboard}"' in html

    sign_in(client, member)  # a member runs nothing
    text = open_now(client.get(f"/forums/{forum.slug}/").get_data(as_text=True))
    assert "To decide" not in text and "To moderate" not in text


def test_what_waits_for_the_reader_costs_the_same_statements_however_much_waits(
    client, session, make, forum, facilitator, member, count_statements, pages_built_each_time
):
    make.delegate(forum)
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/"
    counts = []
    for extra in (1, 5):
        for _ in range(extra):
            other = make.plan(forum)
            make.amendment(other, facilitator, submit=False)
            make.amendment(other, member)
            make.poll(other, facilitator)  # before the phase, which takes no votes
            make.consultation(other, advance=True)
        with count_statements() as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], "\n".join(seen)
