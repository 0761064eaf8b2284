"""The facilitator's triage desk (issue 15): what waits for admission and what
is admitted and waits for a decision, each with what it proposes, its supports
and exactly the decisions the rules allow, taken in the row, back at the desk."""

import re

import pytest

from consult.amendments import plan_settings
from consult.amendments.models import Amendment, AmendmentStatus
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")


def desk_url(forum, plan):
    return f"/forums/{forum.slug}/plans/{plan.id}/amendments/triage"


def section(html: str, heading: str) -> str:
    start = html.index(heading)
    end = html.find("</section>", start)
    return html[start:end]


def buttons(html: str, amendment) -> list[str]:
    row = re.search(rf'amendments/{amendment.id}/decide".*?</form>', html, re.S)
    return re.findall(r'value="([a-z]+)"[^>]*>([^<]+)</button>', row.group(0)) if row else []


def test_the_desk_lists_both_kinds_with_their_text_and_allowed_decisions(
    client, make, forum, facilitator, member, plan
):
    waiting = make.amendment(plan, member, text="Un texto nuevo para el punto uno.")
    admitted = make.amendment(plan, member, ref="2", admitted_by=facilitator)
    sign_in(client, facilitator)
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    first = section(html, "Waiting for admission")
    second = section(html, "Admitted, waiting for a decision")
    assert waiting.label in first and "Un texto nuevo para el punto uno." in first
    assert admitted.label in second and admitted.label not in first
    assert [v for v, _l in buttons(html, waiting)] == ["admitted", "rejected"]
    assert {v for v, _l in buttons(html, admitted)} >= {"accepted", "rejected", "voting"}
    assert ("voting", "Put to a vote") in buttons(html, admitted)


def test_admit_is_not_offered_below_the_support_threshold(
    client, session, make, forum, facilitator, member, plan
):
    plan_settings.update_settings(
        facilitator, plan, open_for_input=True, threshold=3, threshold_kind="members"
    )
    session.commit()
    waiting = make.amendment(plan, member)
    sign_in(client, facilitator)
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    assert [v for v, _l in buttons(html, waiting)] == ["rejected"]


def test_a_decision_taken_at_the_desk_comes_back_to_the_desk(
    client, session, make, forum, facilitator, member, plan
):
    waiting = make.amendment(plan, member)
    sign_in(client, facilitator)
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(
        f"/forums/{forum.slug}/amendments/{waiting.id}/decide",
        data={"csrf_token": token, "status": "admitted", "next": desk_url(forum, plan)},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(desk_url(forum, plan))
    session.expire_all()
    assert session.get(Amendment, waiting.id).status == AmendmentStatus.ADMITTED
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    assert waiting.label in section(html, "Admitted, waiting for a decision")
    # An address elsewhere is not followed.
    other = make.amendment(plan, member, ref="2")
    response = client.post(
        f"/forums/{forum.slug}/amendments/{other.id}/decide",
        data={"csrf_token": token, "status": "rejected", "next": "https://elsewhere.example/"},
    )
    assert "elsewhere" not in response.headers["Location"]


def test_members_cannot_reach_the_desk(client, forum, member, plan):
    sign_in(client, member)
    assert client.get(desk_url(forum, plan)).status_code == 403


def test_the_desk_costs_the_same_statements_with_more_amendments(
    client, make, forum, facilitator, member, plan, count_statements
):
    sign_in(client, facilitator)
    counts = []
    for extra in (1, 8):
        for n in range(extra):
            make.amendment(plan, member, ref=str(1 + n % 3))
            make.amendment(plan, member, ref="2", admitted_by=facilitator)
        with count_statements() as seen:
            assert client.get(desk_url(forum, plan)).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], "\n".join(seen)
