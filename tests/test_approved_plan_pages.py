"""After the assembly approves the plan (issue 14), every page of it says
that the text is final and offers nothing to amend: the plan, an item, an
amendment and a comment thread, to a member and to a facilitator alike."""

import re

import pytest

from consult.amendments.permissions import amend_refusal, compromise_refusal, sub_amend_refusal
from consult.plans import services as plans
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

FINAL = "Final text, approved by the assembly."
# What offers to change the text: the proposal form's links ("/items/<key>/amend"),
# a new text for an admitted amendment, a compromise, the words selected in an item,
# a facilitator's decision on an amendment (accept, reject, put to a vote).
AMENDING = re.compile(
    r'/items/[^"/]+/amend[?"]|/sub-amend|/compromise|data-action="amend"|'
    r"Propose a new text|Propose to delete it|Propose a new item|Propose a new section|"
    r"Amend this|Write a compromise|propose amendments|"
    r'Put this amendment to a vote|name="status" value=',
    re.I,
)


@pytest.fixture
def approved(make, session, forum, facilitator, member, plan):
    """A plan that was under consultation, with an admitted amendment and a
    thread on item 1, approved by the assembly."""
    make.consultation(plan, advance=True)
    amendment = make.amendment(plan, member, admitted_by=facilitator)
    make.thread(plan, [member, facilitator])
    key = plans.find_node(plan.current_version, "1").key
    plans.approve(plan, plan.current_version, "approved by the assembly")
    session.commit()
    base = f"/forums/{forum.slug}"
    return (
        {
            "plan": f"{base}/plans/{plan.id}/",
            "item": f"{base}/plans/{plan.id}/items/{key}/",
            "amendment": f"{base}/amendments/{amendment.id}",
            "thread": f"{base}/comments/thread?target_type=node&plan_id={plan.id}&target_key={key}",
            "amendments": f"{base}/plans/{plan.id}/amendments/",
        },
        amendment,
        key,
    )


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_every_page_of_an_approved_plan_says_final_and_offers_nothing_to_amend(
    client, request, approved, who
):
    pages, _amendment, _key = approved
    sign_in(client, request.getfixturevalue(who))
    for name, path in pages.items():
        response = client.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (name, path)
        if name != "amendments":
            assert FINAL in re.sub(r"\s+", " ", html), name
        offered = AMENDING.findall(html)
        assert not offered, (who, name, offered)


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_the_amendment_form_of_an_approved_plan_is_refused(client, request, approved, who):
    pages, _amendment, _key = approved
    sign_in(client, request.getfixturevalue(who))
    response = client.get(pages["item"] + "amend")
    assert response.status_code in (403, 409)


def test_the_rule_refuses_amending_an_approved_plan_to_everyone(
    app, approved, plan, member, facilitator
):
    _pages, amendment, key = approved
    with app.test_request_context():
        for person in (member, facilitator):
            assert amend_refusal(person, plan, key, {}) is not None
            assert sub_amend_refusal(person, amendment) is not None
        assert compromise_refusal(facilitator, plan) is not None
