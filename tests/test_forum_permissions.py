"""Per role, what the forum's pages offer is exactly what the forum services
accept (both ask forums.permissions)."""

import re

import pytest

from consult.accounts.models import User
from consult.errors import ServiceError
from consult.forums import groups, memberships, services
from consult.forums.models import ROLES
from tests.factories import sign_in

ROLES_OF_PEOPLE = ["outsider", "observer", "member", "facilitator", "forum_admin", "platform_admin"]
ROLE_VALUES = [str(role) for role in ROLES]


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


@pytest.mark.parametrize("role", ROLES_OF_PEOPLE)
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


def role_options(html: str) -> set[str]:
    select = re.search(r'<select[^>]*name="role".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option[^>]*value="([a-z]+)"', select))


MANAGERS = ["facilitator", "forum_admin", "platform_admin"]


@pytest.mark.parametrize("role", MANAGERS)
def test_invitation_page_offers_the_roles_the_service_gives(client, session, world, role):
    forum, _group, people = world
    actor = people[role]
    sign_in(client, actor)
    html = client.get(f"/forums/{forum.slug}/manage/members/invite").get_data(as_text=True)
    newcomer = User(email="someone@example.org", display_name="Someone", locale="en")
    session.add(newcomer)
    session.flush()
    given = {
        value
        for value in ROLE_VALUES
        if accepted(
            session, lambda value=value: memberships.add_member(actor, forum, newcomer, role=value)
        )
    }
    assert role_options(html) == given


@pytest.mark.parametrize("role", MANAGERS)
@pytest.mark.parametrize("whose", ["member", "facilitator", "forum_admin"])
def test_member_page_offers_the_roles_and_removal_the_service_allows(
    client, session, world, role, whose
):
    forum, _group, people = world
    actor = people[role]
    sign_in(client, actor)
    membership = memberships.membership_by_email(forum, people[whose].email)
    html = client.get(f"/forums/{forum.slug}/manage/members/{membership.id}").get_data(as_text=True)
    given = {
        value
        for value in ROLE_VALUES
        if accepted(
            session,
            lambda value=value: memberships.update_membership(
                actor,
                memberships.membership_by_email(forum, people[whose].email),
                role=value,
                coalition=None,
                is_delegate=False,
                vote_weight=1,
            ),
        )
    }
    assert role_options(html) == given
    removable = accepted(
        session,
        lambda: memberships.remove_membership(
            actor, memberships.membership_by_email(forum, people[whose].email)
        ),
    )
    assert (f"/manage/members/{membership.id}/remove" in html) == removable
