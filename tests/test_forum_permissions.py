"""Per role, what the forum's pages offer is exactly what the forum services
accept (both ask forums.permissions)."""

import pytest

from consult.errors import ServiceError
from consult.forums import groups, memberships, services
from tests.factories import sign_in

ROLES = ["outsider", "observer", "member", "facilitator", "forum_admin", "platform_admin"]


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def world(make, session):
    forum = make.forum(public=True)
    people = {
        "outsider": make.user(locale="en"),
        "observer": make.member(forum, role="observer", locale="en").user,
        "member": make.member(forum, locale="en").user,
        "facilitator": make.member(forum, role="facilitator", locale="en").user,
        "forum_admin": make.member(forum, role="admin", locale="en").user,
        "platform_admin": make.user(locale="en", admin=True),
    }
    group = groups.save_group(None, forum, "Energy")
    groups.add_group_member(None, group, people["member"])
    session.commit()
    return forum, group, people


def accepted(session, call) -> bool:
    savepoint = session.begin_nested()
    try:
        call()
    except ServiceError:
        return False
    finally:
        savepoint.rollback()
        session.expire_all()
    return True


def _settings(actor, forum):
    return lambda: services.update_forum(
        actor,
        forum,
        name="Renamed",
        description="",
        default_locale=forum.default_locale,
        is_public=True,
    )


@pytest.mark.parametrize("role", ROLES)
def test_forum_pages_offer_what_the_services_allow(client, session, world, role):
    forum, group, people = world
    actor = people[role]
    sign_in(client, actor)
    page = client.get(f"/forums/{forum.slug}/").get_data(as_text=True)
    may_manage = accepted(session, lambda: groups.save_group(actor, forum, "Water"))
    assert (f'href="/forums/{forum.slug}/manage/"' in page) == may_manage, role

    manage = client.get(f"/forums/{forum.slug}/manage/")
    assert manage.status_code == (200 if may_manage else 403), role
    may_administer = accepted(session, _settings(actor, forum))
    settings_form = 'name="default_locale"' in manage.get_data(as_text=True)
    assert settings_form == may_administer, role

    group_page = client.get(f"/forums/{forum.slug}/groups/{group.slug}").get_data(as_text=True)
    assert (people["member"].display_name in group_page) == (role != "outsider"), role


@pytest.mark.parametrize(
    ("role", "may_appoint"),
    [("facilitator", False), ("forum_admin", True), ("platform_admin", True)],
)
def test_member_roles_follow_the_appointing_rule(session, world, role, may_appoint):
    forum, _group, people = world
    member = memberships.membership_by_email(forum, people["member"].email)
    appoint = lambda: memberships.update_membership(  # noqa: E731
        people[role], member, role="facilitator", coalition=None, is_delegate=False, vote_weight=1
    )
    assert accepted(session, appoint) == may_appoint
