"""Second readings (issue 15): a plan goes through several consultations over
time, one at a time, each with its own phases, thread, dashboard and open
data; the plan's pages show the current one."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consult.amendments import proposing
from consult.comments import services as comments
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services
from consult.consultations.models import Consultation
from consult.consultations.readings import consultations_of
from consult.consultations.services import PhaseInput
from consult.dashboard.counting import figures
from consult.errors import Conflict
from consult.plans import services as plans
from tests.factories import STRUCTURED, sign_in

pytestmark = pytest.mark.usefixtures("english")

T0 = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, STRUCTURED, open_for_input=False)


def calendar(start):
    return [
        PhaseInput("amendments", start, start + 10 * DAY),
        PhaseInput("review", start + 10 * DAY, start + 20 * DAY),
    ]


@pytest.fixture
def first(session, plan, facilitator):
    made = services.create_consultation(
        facilitator, plan, title="Primera consulta", phases=calendar(T0)
    )
    session.commit()
    return made


def close(session, consultation):
    phase_scheduler.advance_due(consultation.phases[-1].ends_at + DAY)
    session.commit()


def second_of(session, plan, facilitator, start=T0 + 30 * DAY):
    made = services.create_consultation(
        facilitator, plan, title="Segunda consulta", phases=calendar(start)
    )
    session.commit()
    return made


def form(title, start="2028-02-01T09:00", end="2028-02-20T18:00"):
    return {
        "title": title,
        "timezone": "America/Bogota",
        "phases-0-kind": "amendments",
        "phases-0-starts_at": start,
        "phases-0-ends_at": end,
        "phases-0-allow_amend": "y",
        "phases-0-allow_comment": "y",
    }


def test_a_second_consultation_follows_the_first_once_it_closed(session, plan, facilitator, first):
    close(session, first)
    assert first.is_over
    second = second_of(session, plan, facilitator)
    assert (first.number, second.number) == (1, 2)
    assert (first.reading_label, second.reading_label) == ("First reading", "Second reading")
    assert services.consultation_of(plan).id == second.id  # the plan's current one
    assert [c.id for c in consultations_of(plan)] == [first.id, second.id]
    # Each has its own phases; the first's stay as they were.
    assert [p.consultation_id for p in second.phases] == [second.id, second.id]
    assert [p.state for p in first.phases] == ["closed", "closed"]
    phase_scheduler.advance_due(T0 + 31 * DAY)
    assert services.open_phase(second).kind == "amendments"
    assert services.open_phase(first) is None


def test_refused_while_one_is_open_with_the_reason(
    client, session, forum, plan, facilitator, first
):
    phase_scheduler.advance_due(T0 + DAY)  # the first reading's amendments are open
    session.commit()
    with pytest.raises(Conflict, match="is still open: close its last phase"):
        second_of(session, plan, facilitator)
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/plans/{plan.id}/consultation/new"
    response = client.post(url, data=form("Otra"))
    assert response.status_code == 409
    assert "“Primera consulta” (First reading) is still open" in response.get_data(as_text=True)
    # Asking for the form: back to the open one, told why.
    response = client.get(url, follow_redirects=True)
    assert response.request.path == f"/forums/{forum.slug}/consultations/{first.id}"
    assert "is still open: close its last phase" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Consultation)) == 1


def test_a_pending_consultation_also_blocks_a_new_one(session, plan, facilitator, first):
    """Not started yet is not over: one at a time."""
    with pytest.raises(Conflict):
        second_of(session, plan, facilitator)


def test_the_facilitator_starts_the_second_reading_from_the_page(
    client, session, forum, plan, facilitator, first
):
    close(session, first)
    sign_in(client, facilitator)
    page = client.get(f"/forums/{forum.slug}/consultations/{first.id}").get_data(as_text=True)
    new_url = f"/forums/{forum.slug}/plans/{plan.id}/consultation/new"
    assert f'href="{new_url}"' in page and "Start a new reading" in page
    form_page = client.get(new_url).get_data(as_text=True)
    assert "Second reading" in form_page
    assert f"version {plan.current_version.number}" in form_page
    response = client.post(new_url, data=form("Segunda lectura del plan"))
    assert response.status_code == 302
    second = services.consultation_of(plan)
    assert second.number == 2 and second.title == "Segunda lectura del plan"
    assert response.headers["Location"].endswith(f"/consultations/{second.id}")


def test_a_member_is_not_offered_a_new_reading(client, session, forum, plan, member, first):
    close(session, first)
    sign_in(client, member)
    page = client.get(f"/forums/{forum.slug}/consultations/{first.id}").get_data(as_text=True)
    assert "Start a new reading" not in page


def test_each_page_names_its_reading_and_the_plan_shows_the_current_one(
    client, session, forum, plan, facilitator, member, first
):
    close(session, first)
    second = second_of(session, plan, facilitator)
    sign_in(client, member)
    old = client.get(f"/forums/{forum.slug}/consultations/{first.id}").get_data(as_text=True)
    assert "First reading" in old and "Consultation 1 of 2 of this plan" in old
    assert "This consultation is over" in old
    assert f'href="/forums/{forum.slug}/consultations/{second.id}"' in old
    new = client.get(f"/forums/{forum.slug}/consultations/{second.id}").get_data(as_text=True)
    assert "Second reading" in new and "Consultation 2 of 2 of this plan" in new
    assert "This consultation is over" not in new
    plan_page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert f"/consultations/{second.id}" in plan_page
    assert f"/consultations/{first.id}" not in plan_page
    assert "Second reading" in plan_page  # the banner names the reading


def test_each_has_its_own_thread_dashboard_and_open_data(
    client, session, make, forum, plan, facilitator, first
):
    author = make.member(forum, locale="en").user
    key = plans.find_node(plan.current_version, "1.1").key

    def say(consultation, body):
        return comments.post_comment(
            author,
            forum,
            plan=plan,
            target_type="consultation",
            target_key=str(consultation.id),
            body=body,
        )

    def propose(text):
        return proposing.propose(
            author, plan, target=key, operation="replace", text=text, submit=True
        )

    phase_scheduler.advance_due(T0 + DAY)
    say(first, "About the first reading.")
    propose("Texto de la primera lectura.")
    session.commit()
    close(session, first)
    second = second_of(session, plan, facilitator, start=datetime.now(UTC) - DAY)
    phase_scheduler.advance_due()
    say(second, "About the second reading.")
    propose("Texto de la segunda lectura.")
    session.commit()

    sign_in(client, facilitator)
    base = f"/forums/{forum.slug}/consultations"
    for consultation, own, other in (
        (first, "first", "second"),
        (second, "second", "first"),
    ):
        page = client.get(f"{base}/{consultation.id}").get_data(as_text=True)
        assert f"About the {own} reading." in page and f"About the {other} reading." not in page
        data = client.get(f"{base}/{consultation.id}/open-data/comments.json")
        document = json.loads(data.get_data(as_text=True))
        assert document["consultation"]["number"] == consultation.number
        bodies = [row["body"] for row in document["rows"]]
        assert bodies == [f"About the {own} reading."]
        data = client.get(f"{base}/{consultation.id}/open-data/amendments.json")
        texts = [row["proposed_text"] for row in json.loads(data.get_data(as_text=True))["rows"]]
        assert texts == [f"Texto de la {'primera' if own == 'first' else 'segunda'} lectura."]
        dashboard = client.get(f"{base}/{consultation.id}/dashboard")
        assert dashboard.status_code == 200
        assert consultation.title in dashboard.get_data(as_text=True)
        counted = figures(consultation)  # what the dashboard shows
        assert (counted.amendments, counted.comments, counted.triage_total) == (1, 1, 1)
        assert [a.proposed_text for a in counted.triage] == texts
        index = client.get(f"{base}/{consultation.id}/open-data/").get_data(as_text=True)
        assert consultation.reading_label in index


def test_the_plans_number_is_unique_in_the_database(session, plan, facilitator, first):
    """Two facilitators starting a reading at once: one of them wins."""
    from sqlalchemy.exc import IntegrityError

    session.add(
        Consultation(forum_id=plan.forum_id, plan_id=plan.id, title="Twin", number=first.number)
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_the_plan_page_offers_facilitators_the_next_reading_once_the_last_is_over(
    client, session, forum, plan, facilitator, first
):
    sign_in(client, facilitator)
    new_url = f"/forums/{forum.slug}/plans/{plan.id}/consultation/new"
    while_open = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert new_url not in while_open
    close(session, first)
    over = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert f'href="{new_url}"' in over and "Start a new reading" in over
