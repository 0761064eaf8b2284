"""The banner of a plan under consultation (issue 14): the phase, until when,
what this reader may do now and why not, offered exactly as the services'
own rules allow; the text declared final after the assembly's approval."""

import re
from datetime import timedelta

import pytest

from consult.amendments.permissions import amend_refusal
from consult.database import utcnow
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")
DAY = timedelta(days=1)


def banner(client, forum, plan) -> str:
    html = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    found = re.search(r'<aside class="phase-banner[^"]*".*?</aside>', html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(0))) if found else ""


def test_a_plan_without_a_consultation_shows_no_banner(client, forum, member, plan):
    sign_in(client, member)
    assert banner(client, forum, plan) == ""


def test_a_member_reads_the_phase_its_end_and_everything_it_allows(
    client, make, forum, member, plan
):
    make.consultation(plan, timezone="America/Bogota", advance=True)
    sign_in(client, member)
    text = banner(client, forum, plan)
    assert "Now: Amendments, until" in text
    assert "Bogotá" in text or "Colombia" in text  # in the reader's zone, named
    assert "You can propose amendments, support amendments, and comment on the plan." in text
    assert "The consultation's calendar" in text


def test_an_observer_is_told_why_not_and_is_offered_nothing(client, make, forum, plan):
    make.consultation(plan, advance=True)
    observer = make.member(forum, role="observer", locale="en").user
    sign_in(client, observer)
    text = banner(client, forum, plan)
    assert "You can" not in text
    assert "Only members of the forum can propose amendments." in text
    assert "Observers can read the comments but cannot write them." in text


def test_what_the_banner_offers_is_what_the_rule_allows(app, client, make, forum, plan):
    make.consultation(plan, advance=True)
    people = {
        "member": make.member(forum, locale="en").user,
        "observer": make.member(forum, role="observer", locale="en").user,
        "facilitator": make.facilitator(forum, locale="en"),
    }
    for who, person in people.items():
        sign_in(client, person)
        text = banner(client, forum, plan)
        offered = (
            "You can" in text and "propose amendments" in text.split("You can")[1].split(".")[0]
        )
        with app.test_request_context():
            allowed = amend_refusal(person, plan, None, {}) is None
        assert offered == allowed, who


def test_between_phases_the_banner_says_when_the_next_opens(client, make, forum, member, plan):
    now = utcnow()
    make.consultation(plan, [("amendments", now + 2 * DAY, now + 9 * DAY)])
    sign_in(client, member)
    text = banner(client, forum, plan)
    assert "No phase of the consultation is open now." in text
    assert "Amendments can be proposed from" in text
    assert "You can" not in text


def test_an_approved_plan_says_its_text_is_final(client, session, make, forum, member, plan):
    make.consultation(plan, advance=True)
    plan.current_version.is_final = True
    session.commit()
    sign_in(client, member)
    text = banner(client, forum, plan)
    assert "Final text, approved by the assembly." in text
    assert "You can" not in text


def test_the_banner_costs_the_same_statements_whatever_the_plan(
    client, make, forum, member, count_statements, pages_built_each_time
):
    small = make.plan(forum, "Plan\n\n1. Uno.\n")
    big = make.plan(forum, "Plan\n\n" + "\n".join(f"{n}. Punto {n}." for n in range(1, 200)))
    for plan in (small, big):
        make.consultation(plan, advance=True)
    sign_in(client, member)
    counts = []
    for plan in (small, big):
        client.get(f"/forums/{forum.slug}/plans/{plan.id}/")  # warm the text cache
        with count_statements() as seen:
            assert banner(client, forum, plan)
        counts.append(len(seen))
    assert counts[0] == counts[1]
