"""Per role, what a thread page offers on each comment is exactly what the
comment services accept (both ask comments.permissions)."""

import re
from pathlib import Path

import pytest
from flask_login import AnonymousUserMixin

from consult.comments import moderation, services
from consult.errors import ServiceError
from consult.plans import services as plans
from tests.factories import sign_in

STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
ROLES = [
    "anonymous",
    "outsider",
    "observer",
    "author",
    "other_member",
    "facilitator",
    "forum_admin",
    "platform_admin",
]
ACTIONS = ["reply", "edit", "delete", "flag", "hide", "restore"]


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def world(make, session):
    forum = make.forum(public=True)
    plan = plans.import_plan(None, forum, STRUCTURED, language="es")
    plan.open_for_input = True
    session.commit()
    key = plans.find_node(plan.current_version, "1.1").key
    people = {
        "outsider": make.user(locale="en"),
        "observer": make.member(forum, role="observer", locale="en").user,
        "author": make.member(forum, locale="en").user,
        "other_member": make.member(forum, locale="en").user,
        "facilitator": make.member(forum, role="facilitator", locale="en").user,
        "forum_admin": make.member(forum, role="admin", locale="en").user,
        "platform_admin": make.user(locale="en", admin=True),
    }

    def write(author, body):
        return services.post_comment(
            author, forum, plan=plan, target_type="node", target_key=key, body=body
        )

    comments = {
        "visible": write(people["author"], "Shown."),
        "hidden": write(people["author"], "Hidden."),
        "deleted": write(people["author"], "Deleted."),
        "others": write(people["other_member"], "Someone else's."),
    }
    moderation.hide_comment(people["facilitator"], comments["hidden"], "Off topic.")
    services.delete_comment(people["author"], comments["deleted"])
    session.commit()
    return forum, plan, key, people, comments


def offered(html: str, comment) -> set[str]:
    """The actions the page offers on ``comment`` (by the forms it renders)."""
    found = set()
    if re.search(rf'name="parent_id" value="{comment.id}"', html):
        found.add("reply")
    for action in ACTIONS[1:]:
        if f"/comments/{comment.id}/{action}" in html:
            found.add(action)
    return found


def attempt(session, action, actor, forum, plan, key, comment) -> bool:
    """Whether the service accepts ``action`` (tried in a savepoint, undone)."""
    calls = {
        "reply": lambda: services.post_comment(
            actor,
            forum,
            plan=plan,
            target_type="node",
            target_key=key,
            body="A reply.",
            parent=comment,
        ),
        "edit": lambda: services.edit_comment(actor, comment, "New text."),
        # Deleting twice is accepted as a no-op, which a page need not offer.
        "delete": lambda: comment.is_deleted or services.delete_comment(actor, comment),
        "flag": lambda: moderation.flag_comment(actor, comment, "Why."),
        "hide": lambda: moderation.hide_comment(actor, comment, "Why."),
        "restore": lambda: moderation.restore_comment(actor, comment, "Why."),
    }
    savepoint = session.begin_nested()
    try:
        if calls[action]() is True:
            return False
    except ServiceError:
        return False
    finally:
        savepoint.rollback()
        session.expire_all()
    return True


@pytest.mark.parametrize("role", ROLES)
def test_thread_offers_what_the_services_allow(client, session, world, role):
    forum, plan, key, people, comments = world
    actor = people.get(role) or AnonymousUserMixin()
    if role != "anonymous":
        sign_in(client, actor)
    path = (
        f"/forums/{forum.slug}/comments/thread?target_type=node&plan_id={plan.id}&target_key={key}"
    )
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name, comment in comments.items():
        allowed = {
            action
            for action in ACTIONS
            if attempt(session, action, actor, forum, plan, key, comment)
        }
        assert offered(html, comment) == allowed, (role, name)
    may_post = attempt(session, "reply", actor, forum, plan, key, None)
    assert ('id="comment-body-new"' in html) == may_post, role


def test_a_member_cannot_report_a_hidden_comment(session, world):
    _forum, _plan, _key, people, comments = world
    with pytest.raises(ServiceError) as refused:
        moderation.flag_comment(people["other_member"], comments["hidden"], "")
    assert refused.value.status == 409
