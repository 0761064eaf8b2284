"""What an item's page offers is what the services allow (issue 15), for every
role of the authorisation matrix: proposing a new text (in a section that a
working group holds, only its members and the facilitators) and commenting
(every member, not observers). Each offered action succeeds; each hidden one
is refused."""

import re

import pytest

from consult.amendments import plan_settings
from consult.comments.models import Comment
from consult.plans import services as plans
from tests.factories import sign_in

ROLES = (
    "anonymous",
    "outsider",
    "observer",
    "member",
    "member_other_group",
    "facilitator",
    "forum_admin",
    "platform_admin",
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(session, make, forum, plan):
    """Section 1 in the hands of group "Energía"; an item of it."""
    energia, cultura = make.group(forum, "Energía"), make.group(forum, "Cultura")
    plan_settings.assign_section(
        None, plan, plans.find_node(plan.current_version, "1").key, energia.id
    )
    session.commit()
    people = {
        "anonymous": None,
        "outsider": make.user(locale="en"),
        "observer": make.member(forum, role="observer", locale="en").user,
        "member": make.member(forum, groups=[energia], locale="en").user,
        "member_other_group": make.member(forum, groups=[cultura], locale="en").user,
        "facilitator": make.member(forum, role="facilitator", locale="en").user,
        "forum_admin": make.member(forum, role="admin", locale="en").user,
        "platform_admin": make.user(locale="en", admin=True),
    }
    node = plans.find_node(plan.current_version, "1.1")
    return people, node


@pytest.mark.parametrize("role", ROLES)
def test_the_item_page_offers_exactly_what_the_services_allow(
    client, session, forum, plan, world, role
):
    people, node = world
    if people[role] is not None:
        sign_in(client, people[role])
    item = f"/forums/{forum.slug}/plans/{plan.id}/items/{node.key}/"
    page = client.get(item)
    html = page.get_data(as_text=True) if page.status_code == 200 else ""
    propose = f"/forums/{forum.slug}/plans/{plan.id}/items/{node.key}/amend"
    offered = {
        "amend": re.search(re.escape(propose) + r'"', html) is not None,
        "comment": 'class="comment-form"' in html and 'name="target_type"' in html,
    }

    form = client.get(propose)
    amended = form.status_code == 200
    before = session.query(Comment).count()
    posted = client.post(
        f"/forums/{forum.slug}/comments/",
        data={
            "target_type": "node",
            "plan_id": str(plan.id),
            "target_key": node.key,
            "body": "Un comentario sobre este punto.",
        },
    )
    session.expire_all()
    commented = posted.status_code == 302 and session.query(Comment).count() == before + 1
    assert offered == {"amend": amended, "comment": commented}, (
        role,
        form.status_code,
        posted.status_code,
    )

    expected = {
        "anonymous": (False, False),
        "outsider": (False, False),
        "observer": (False, False),
        "member": (True, True),
        "member_other_group": (False, True),
        "facilitator": (True, True),
        "forum_admin": (True, True),
        "platform_admin": (True, False),  # runs every forum; speaks only in its own
    }[role]
    assert (offered["amend"], offered["comment"]) == expected, role
