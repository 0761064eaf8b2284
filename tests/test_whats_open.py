"""What is open now (issue 15): the forum page and the home page name the
consultations in an open phase and until when, the votes open now and the
assembly sessions called, each linked, at a constant cost."""

import re
from datetime import timedelta

import pytest

from consult.assembly import sessions
from consult.database import utcnow
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
    client, make, forum, facilitator, member, count_statements
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
