"""The facilitator's triage desk (issue 15): what waits for admission and what
is admitted and waits for a decision, each with what it proposes, its supports
and exactly the decisions the rules allow, taken in the row, back at the desk."""

import re

import pytest
from sqlalchemy import select

from consult.amendments import plan_settings, supports
from consult.amendments.models import Amendment, AmendmentEvent, AmendmentStatus
from consult.forums import groups as forum_groups
from consult.plans import services as plans
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")


def desk_url(forum, plan):
    return f"/forums/{forum.slug}/plans/{plan.id}/amendments/triage"


def decisions_url(forum, plan):
    return desk_url(forum, plan) + "/decisions"


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
    assert ("voting", "Put to the vote") in buttons(html, admitted)


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
    client, make, forum, facilitator, member, plan, count_statements, pages_built_each_time
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


# --- several at once ----------------------------------------------------------------


def test_five_amendments_are_triaged_in_one_pass_with_one_reason(
    client, session, make, forum, facilitator, member, plan
):
    """Checked rows take the decision and the reason together; their authors
    are told that reason; the unchecked one stays as it was."""
    chosen = [make.amendment(plan, member, ref=ref) for ref in ("1", "2", "1", "2", "1")]
    left = make.amendment(plan, member, ref="2")
    sign_in(client, facilitator)
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    bulk = section(html, "Waiting for admission")
    assert 'form="bulk-waiting"' in bulk and "With the selected amendments" in bulk
    assert re.findall(
        r'name="status" value="([a-z]+)"', bulk[bulk.index('id="bulk-waiting"') :]
    ) == [
        "admitted",
        "rejected",
    ]

    response = client.post(
        decisions_url(forum, plan),
        data={
            "amendment": [str(a.id) for a in chosen],
            "status": "rejected",
            "reason": "Fuera del mandato de esta consulta.",
        },
    )
    assert response.status_code == 302 and response.location.endswith(desk_url(forum, plan))
    session.expire_all()
    assert {a.status for a in chosen} == {AmendmentStatus.REJECTED}
    assert left.status is AmendmentStatus.SUBMITTED
    reasons = session.scalars(
        select(AmendmentEvent.reason).where(
            AmendmentEvent.amendment_id.in_([a.id for a in chosen]),
            AmendmentEvent.to_status == AmendmentStatus.REJECTED,
        )
    ).all()
    assert reasons == ["Fuera del mandato de esta consulta."] * 5
    page = client.get(desk_url(forum, plan)).get_data(as_text=True)
    assert "Decision recorded for 5 amendments" in page


def test_a_row_the_rules_refuse_is_left_as_it_was_and_said(
    client, session, make, forum, facilitator, member, plan
):
    plan_settings.update_settings(
        facilitator, plan, open_for_input=True, threshold=1, threshold_kind="members"
    )
    session.commit()
    supported = make.amendment(plan, member, ref="1")
    supports.support(make.member(forum).user, supported)
    session.commit()
    unsupported = make.amendment(plan, member, ref="2")
    sign_in(client, facilitator)
    client.post(
        decisions_url(forum, plan),
        data={"amendment": [str(supported.id), str(unsupported.id)], "status": "admitted"},
    )
    session.expire_all()
    assert supported.status is AmendmentStatus.ADMITTED
    assert unsupported.status is AmendmentStatus.SUBMITTED
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)
    assert f"{unsupported.identifier} was not changed" in html


def test_nothing_selected_keeps_the_reason_typed(client, make, forum, facilitator, member, plan):
    make.amendment(plan, member)
    sign_in(client, facilitator)
    response = client.post(
        decisions_url(forum, plan), data={"status": "rejected", "reason": "Razón larga escrita."}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Select at least one amendment" in html and "Razón larga escrita." in html
    bad = client.post(decisions_url(forum, plan), data={"amendment": "1", "status": "merged"})
    assert bad.status_code == 400 and "Choose a decision" in bad.get_data(as_text=True)


def test_only_facilitators_decide_several_at_once(client, session, make, forum, member, plan):
    amendment = make.amendment(plan, member)
    sign_in(client, member)
    response = client.post(
        decisions_url(forum, plan), data={"amendment": str(amendment.id), "status": "rejected"}
    )
    assert response.status_code == 403
    session.expire_all()
    assert amendment.status is AmendmentStatus.SUBMITTED


def test_each_row_says_the_group_in_charge_and_what_it_competes_with(
    client, session, make, forum, facilitator, member, plan, count_statements, pages_built_each_time
):
    energia = make.group(forum, "Energía")
    section = plans.find_node(plan.current_version, "1").key
    plan_settings.assign_section(None, plan, section, energia.id)
    forum_groups.add_group_member(None, energia, member)
    session.commit()
    first = make.amendment(plan, member, ref="1.1", text="Promover energías limpas.")
    rival = make.amendment(plan, member, ref="1.1", text="Promover energías renovables.")
    alone = make.amendment(plan, member, ref="2.A.1")
    sign_in(client, facilitator)
    html = client.get(desk_url(forum, plan)).get_data(as_text=True)

    def row(amendment):
        start = html.index(f'id="select-{amendment.id}"')
        return html[start : html.index("</tr>", start)]

    assert "Group in charge: Energía" in row(first)
    assert "Group in charge" not in row(alone)
    assert f"Competes with {rival.label}" in row(first)
    assert f"Competes with {first.label}" in row(rival)
    assert "Competes with" not in row(alone)

    counts = []
    url = desk_url(forum, plan)
    for extra in (0, 6):
        for n in range(extra):
            make.amendment(plan, member, ref=("1.1", "1.2", "2.A.1")[n % 3])
        with count_statements() as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], "\n".join(seen)
