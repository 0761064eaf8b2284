"""What a consultation's calendar allows and who runs it
(``consultations/permissions.py``): the reason each refusal gives, the
service raising with it, and a page that offers only what the rules allow."""

from datetime import timedelta

import pytest

from consult.consultations import permissions
from consult.consultations import scheduler as phase_scheduler
from consult.database import utcnow
from consult.errors import Conflict, PermissionDenied
from tests.factories import STRUCTURED, sign_in

DAY = timedelta(days=1)
FACILITATORS_ONLY = "Only the forum's facilitators and administrators can do this."

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, STRUCTURED, open_for_input=False)


@pytest.fixture
def running(make, plan):
    """Amendments open now, a vote to come."""
    now = utcnow()
    return make.consultation(
        plan,
        [("amendments", now - DAY, now + 10 * DAY), ("voting", now + 10 * DAY, now + 20 * DAY)],
        advance=True,
    )


def _page(client, consultation) -> str:
    response = client.get(f"/forums/{consultation.forum.slug}/consultations/{consultation.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_calendar_says_what_is_open_and_when_the_rest_opens(running, plan):
    assert permissions.calendar_refusal(plan, "amend") is None
    assert permissions.calendar_refusal(plan, "vote").startswith("Voting opens on ")
    assert permissions.discussion_refusal(running) is None  # the amendments phase takes them


def test_a_closed_phase_says_when_it_closed(session, running, plan, facilitator):
    phase_scheduler.advance(facilitator, running)
    session.commit()
    assert permissions.calendar_refusal(plan, "amend").startswith("Amendments closed on ")
    assert permissions.calendar_refusal(plan, "vote") is None


def test_only_facilitators_move_to_the_next_phase(running, member, facilitator):
    assert permissions.advance_refusal(facilitator, running) is None
    assert permissions.advance_refusal(member, running) == FACILITATORS_ONLY
    with pytest.raises(PermissionDenied):
        phase_scheduler.advance(member, running)


def test_a_consultation_that_is_over_has_no_next_phase(session, running, facilitator):
    phase_scheduler.advance(facilitator, running)
    phase_scheduler.advance(facilitator, running)
    session.commit()
    refusal = permissions.advance_refusal(facilitator, running)
    assert refusal == "The consultation is over; there is no next phase."
    with pytest.raises(Conflict, match="no next phase"):
        phase_scheduler.advance(facilitator, running)


def test_a_phase_is_extended_by_facilitators_until_it_is_over(
    session, running, member, facilitator
):
    current = running.phases[0]
    assert permissions.extend_refusal(facilitator, current) is None
    assert permissions.extend_refusal(member, current) == FACILITATORS_ONLY
    phase_scheduler.advance(facilitator, running)
    session.commit()
    refusal = permissions.extend_refusal(facilitator, current)
    assert refusal == "This phase is over; it can no longer be extended."
    with pytest.raises(Conflict):
        phase_scheduler.extend_phase(facilitator, current, utcnow() + 5 * DAY)


def test_a_new_reading_starts_once_the_current_one_is_over(running, plan, member, facilitator):
    assert permissions.create_refusal(member, plan) == FACILITATORS_ONLY
    assert "is still open" in permissions.create_refusal(facilitator, plan)


def test_a_member_is_offered_neither_advancing_nor_extending(client, running, member):
    sign_in(client, member)
    page = _page(client, running)
    assert "Move to the next phase now" not in page
    assert "Extend the phase" not in page and "Dashboard" not in page


def test_a_facilitator_is_offered_what_the_calendar_still_allows(
    client, session, running, facilitator
):
    sign_in(client, facilitator)
    page = _page(client, running)
    assert "Move to the next phase now" in page and page.count("Extend the phase") == 2
    phase_scheduler.advance(facilitator, running)
    phase_scheduler.advance(facilitator, running)
    session.commit()
    page = _page(client, running)
    assert "Move to the next phase now" not in page and "Extend the phase" not in page
    assert "Start a new reading of the current version" in page
