"""Forums: invitations, roles, vote weights, coalitions and working groups,
through the web routes facilitators use (and the services where clearer)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.errors import Conflict, InvalidInput, PermissionDenied
from consult.forums import groups, memberships, permissions, services
from consult.forums.models import (
    Coalition,
    Forum,
    Invitation,
    Membership,
    WorkingGroup,
    WorkingGroupMember,
)
from consult.tokens import make_token
from tests.factories import PASSWORD, link_in, outbox, sign_in

NEW_EMAIL = "nueva@example.org"


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def user_by_email(session, email):
    return session.scalar(select(User).where(User.email == email))


def invite_form(**values):
    data = {
        "email": NEW_EMAIL,
        "display_name": "Nueva Persona",
        "role": "member",
        "coalition_id": "0",
        "country": "",
        "locale": "es",
        "group_ids": [],
    }
    data.update(values)
    return data


def member_form(role="member", vote_weight="1", **values):
    return {"role": role, "coalition_id": "0", "vote_weight": vote_weight, **values}


def accept_form(password=PASSWORD, confirm=PASSWORD, **values):
    return {
        "display_name": "Nueva",
        "locale": "es",
        "password": password,
        "confirm": confirm,
        **values,
    }


def visitor(app):
    """A browser of someone not signed in who reads English."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def invite_url(forum):
    return f"/forums/{forum.slug}/manage/members/invite"


def member_url(forum, membership):
    return f"/forums/{forum.slug}/manage/members/{membership.id}"


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def facilitator(make, forum, client):
    membership = make.member(forum, role="facilitator", locale="en")
    sign_in(client, membership.user)
    return membership.user


@pytest.fixture
def forum_admin(make, forum, client):
    membership = make.member(forum, role="admin", locale="en")
    sign_in(client, membership.user)
    return membership.user


@pytest.fixture
def invitation_link(client, session, forum, facilitator):
    """A new person invited by the facilitator: the link from their email."""
    response = client.post(invite_url(forum), data=invite_form())
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return link_in(outbox(session, NEW_EMAIL)[0], "/invitations/")


# --- the invitation journey -------------------------------------------------


def test_invited_person_activates_account_through_emailed_link(
    app, client, session, make, forum, facilitator
):
    coalition = make.coalition(forum, "Red Brasileira")
    health, water = make.group(forum, "Saúde"), make.group(forum, "Água")
    make.group(forum, "Educação")
    response = client.post(
        invite_url(forum),
        data=invite_form(
            locale="pt",
            country="BR",
            coalition_id=str(coalition.id),
            group_ids=[str(health.id), str(water.id)],
        ),
    )
    assert response.status_code == 302

    [message] = outbox(session, NEW_EMAIL)
    assert message.locale == "pt"
    link = link_in(message, "/invitations/")
    user = user_by_email(session, NEW_EMAIL)
    assert not user.has_password and user.locale == "pt" and user.country == "BR"
    assert (
        count(session, Invitation, Invitation.user_id == user.id, Invitation.forum_id == forum.id)
        == 1
    )

    invitee = visitor(app)
    form_page = invitee.get(link)
    assert form_page.status_code == 200
    assert 'name="password"' in form_page.get_data(as_text=True)
    assert "Nueva Persona" in form_page.get_data(as_text=True)

    accepted = invitee.post(link, data=accept_form(display_name="Nova Pessoa", locale="en"))
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/forums/{forum.slug}/")
    profile = invitee.get("/profile")
    assert profile.status_code == 200
    assert "Nova Pessoa" in profile.get_data(as_text=True)
    assert visitor(app).get("/profile").status_code == 302  # the session is the invitee's

    session.refresh(user)
    assert (user.display_name, user.locale) == ("Nova Pessoa", "en")
    assert user.has_password
    sign_in(visitor(app), NEW_EMAIL)
    membership = permissions.membership_of(user, forum)
    assert membership.role == "member" and membership.coalition_id == coalition.id
    assert {group.id for group in groups.groups_of(user, forum)} == {health.id, water.id}
    invitation = session.scalar(select(Invitation).where(Invitation.user_id == user.id))
    assert invitation.accepted_at is not None

    again = visitor(app).get(link)
    assert again.status_code == 404
    assert "Invitation not valid" in again.get_data(as_text=True)


def test_accepting_with_mismatched_passwords_keeps_the_link_usable(app, session, invitation_link):
    invitee = visitor(app)
    response = invitee.post(invitation_link, data=accept_form(confirm=PASSWORD + "x"))
    assert response.status_code == 400
    assert not user_by_email(session, NEW_EMAIL).has_password
    assert invitee.get(invitation_link).status_code == 200


def test_expired_invitation_link_is_refused(app, session, invitation_link, monkeypatch):
    invitee = visitor(app)
    with monkeypatch.context() as patch:
        patch.setitem(app.config, "INVITATION_MAX_AGE", timedelta(seconds=-60))
        response = invitee.get(invitation_link)
        assert response.status_code == 404
        assert "Invitation not valid" in response.get_data(as_text=True)
        assert invitee.post(invitation_link, data=accept_form()).status_code == 404
    assert app.config["INVITATION_MAX_AGE"] == timedelta(days=14)
    assert not user_by_email(session, NEW_EMAIL).has_password
    assert invitee.get(invitation_link).status_code == 200  # only the age made it invalid


def test_invitation_past_its_stored_expiry_is_refused(app, session, invitation_link):
    invitation = session.scalar(select(Invitation))
    invitation.expires_at = invitation.created_at - timedelta(seconds=1)
    session.commit()
    assert visitor(app).get(invitation_link).status_code == 404


def test_forged_invitation_tokens_are_refused(app, session, invitation_link):
    invitation_id = session.scalar(select(Invitation.id))
    position = len(invitation_link) - 5  # inside the signature, where every bit counts
    swapped = "B" if invitation_link[position] == "A" else "A"
    tampered = invitation_link[:position] + swapped + invitation_link[position + 1 :]
    other_purpose = "/invitations/" + make_token("password-reset", {"i": invitation_id})
    invitee = visitor(app)
    for forged in (tampered, other_purpose, "/invitations/not-a-token"):
        response = invitee.get(forged)
        assert response.status_code == 404, forged
        assert "Invitation not valid" in response.get_data(as_text=True)
        assert invitee.post(forged, data=accept_form()).status_code == 404
    assert not user_by_email(session, NEW_EMAIL).has_password


# --- inviting people who already have an account, or are members --------------


def test_inviting_an_existing_account_adds_the_membership_at_once(
    client, session, make, forum, facilitator
):
    existing = make.user("known@example.org", locale="en")
    form = invite_form(email="Known@Example.org", locale="pt")
    assert client.post(invite_url(forum), data=form).status_code == 302
    assert permissions.membership_of(existing, forum) is not None
    assert count(session, Invitation, Invitation.user_id == existing.id) == 0
    [message] = outbox(session, "known@example.org")
    assert message.locale == "en"  # their own language, not the one chosen for new people
    assert "added to" in message.subject
    assert "/invitations/" not in message.body_text


def test_inviting_a_current_member_is_a_conflict_and_keeps_the_typed_email(
    client, session, make, forum, facilitator
):
    make.member(forum, make.user("already@example.org"))
    response = client.post(invite_url(forum), data=invite_form(email="already@example.org"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'value="already@example.org"' in html
    assert "already a member" in html
    assert outbox(session, "already@example.org") == []
    assert count(session, Membership, Membership.forum_id == forum.id) == 2


def test_malformed_email_rerenders_the_form_and_writes_nothing(
    client, session, make, forum, facilitator
):
    users_before = count(session, User)
    form = invite_form(email="not-an-email", display_name="Ana Tecleada")
    response = client.post(invite_url(forum), data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="not-an-email"' in html and 'value="Ana Tecleada"' in html
    assert count(session, User) == users_before
    assert count(session, Invitation) == 0
    assert outbox(session) == []


# --- roles --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_facilitator_cannot_invite_a_manager(client, session, forum, facilitator, role):
    response = client.post(invite_url(forum), data=invite_form(role=role))
    assert response.status_code == 403
    assert user_by_email(session, NEW_EMAIL) is None
    assert outbox(session) == []


@pytest.mark.parametrize("role", ["facilitator", "admin"])
def test_facilitator_cannot_promote_a_member(client, session, make, forum, facilitator, role):
    membership = make.member(forum)
    response = client.post(member_url(forum, membership), data=member_form(role))
    assert response.status_code == 403
    session.refresh(membership)
    assert membership.role == "member"
    with pytest.raises(PermissionDenied):
        memberships.update_membership(
            facilitator, membership, role=role, coalition=None, is_delegate=False, vote_weight=1
        )


def test_facilitator_cannot_remove_another_facilitator(client, session, make, forum, facilitator):
    other = make.member(forum, role="facilitator")
    assert client.post(member_url(forum, other) + "/remove").status_code == 403
    assert session.get(Membership, other.id) is not None
    with pytest.raises(PermissionDenied):
        memberships.remove_membership(facilitator, other)


def test_forum_admin_can_appoint_facilitators_and_admins(client, session, make, forum, forum_admin):
    membership = make.member(forum)
    response = client.post(member_url(forum, membership), data=member_form("facilitator"))
    assert response.status_code == 302
    session.refresh(membership)
    assert membership.role == "facilitator"
    assert client.post(invite_url(forum), data=invite_form(role="admin")).status_code == 302
    assert permissions.membership_of(user_by_email(session, NEW_EMAIL), forum).role == "admin"


def test_last_admin_cannot_be_demoted_or_removed(client, session, make, forum, forum_admin):
    mine = permissions.membership_of(forum_admin, forum)
    assert client.post(member_url(forum, mine), data=member_form("member")).status_code == 409
    assert client.post(member_url(forum, mine) + "/remove").status_code == 409
    session.refresh(mine)
    assert mine.role == "admin"
    step_down = {"role": "member", "coalition": None, "is_delegate": False, "vote_weight": 1}
    with pytest.raises(Conflict):
        memberships.update_membership(None, mine, **step_down)
    session.rollback()
    with pytest.raises(Conflict):
        memberships.remove_membership(None, mine)
    session.rollback()
    make.member(forum, role="admin")  # with a second administrator, stepping down is allowed
    memberships.update_membership(None, mine, **step_down)
    assert mine.role == "member"


def test_removing_a_member_removes_their_group_memberships_in_that_forum(
    client, session, make, forum, facilitator
):
    group = make.group(forum, "Salud")
    other_forum = make.forum()
    other_group = make.group(other_forum, "Salud")
    membership = make.member(forum, groups=[group])
    user = membership.user
    make.member(other_forum, user, groups=[other_group])
    assert client.post(member_url(forum, membership) + "/remove").status_code == 302
    assert permissions.membership_of(user, forum) is None
    in_group = WorkingGroupMember.working_group_id
    assert count(session, WorkingGroupMember, in_group == group.id) == 0
    assert count(session, WorkingGroupMember, in_group == other_group.id) == 1


# --- vote weights -------------------------------------------------------------


@pytest.mark.parametrize("weight", ["-1", "abc", "1e309", "NaN"])
def test_invalid_vote_weight_is_refused_and_nothing_changes(
    client, session, make, forum, facilitator, weight
):
    membership = make.member(forum)
    url = member_url(forum, membership)
    refused = client.post(url, data=member_form("observer", weight, is_delegate="y"))
    assert refused.status_code == 400
    session.refresh(membership)
    assert membership.vote_weight == Decimal(1)
    assert (membership.role, membership.is_delegate) == ("member", False)
    with pytest.raises(InvalidInput):
        memberships.update_membership(
            None, membership, role="member", coalition=None, is_delegate=False, vote_weight=weight
        )
    session.rollback()
    assert client.post(url, data=member_form("member", "2.5")).status_code == 302  # a valid one
    session.refresh(membership)
    assert membership.vote_weight == Decimal("2.500")


def test_refused_vote_weight_leaves_the_membership_object_untouched(session, make, forum):
    membership = make.member(forum)
    with pytest.raises(InvalidInput):
        memberships.update_membership(
            None, membership, role="observer", coalition=None, is_delegate=True, vote_weight="abc"
        )
    assert (membership.role, membership.is_delegate) == ("member", False)


# --- coalitions and working groups -------------------------------------------


def test_facilitator_creates_and_renames_a_coalition(client, session, forum, facilitator):
    url = f"/forums/{forum.slug}/manage/coalitions"
    assert client.post(url, data={"name": "Red Andina", "country": "CO"}).status_code == 302
    coalition = session.scalar(select(Coalition).where(Coalition.forum_id == forum.id))
    assert (coalition.name, coalition.country) == ("Red Andina", "CO")
    form = {"name": "Red Andina de Paz", "country": ""}
    renamed = client.post(f"{url}/{coalition.id}", data=form)
    assert renamed.status_code == 302
    session.refresh(coalition)
    assert (coalition.name, coalition.country) == ("Red Andina de Paz", None)


def test_duplicate_coalition_name_is_refused_case_insensitively(
    client, session, make, forum, facilitator
):
    url = f"/forums/{forum.slug}/manage/coalitions"
    make.coalition(forum, "Red Andina")
    other = make.coalition(forum, "Red Amazónica")
    response = client.post(url, data={"name": "red ANDINA", "country": ""})
    assert response.status_code == 409
    assert "already has a coalition with this name" in response.get_data(as_text=True)
    rename = client.post(f"{url}/{other.id}", data={"name": "RED andina", "country": ""})
    assert rename.status_code == 409
    assert count(session, Coalition, Coalition.forum_id == forum.id) == 2
    session.refresh(other)
    assert other.name == "Red Amazónica"


def test_duplicate_non_ascii_names_are_refused_case_insensitively(make, forum):
    make.coalition(forum, "Educación Ñandú")
    make.group(forum, "Género")
    with pytest.raises(Conflict):
        services.save_coalition(None, forum, "EDUCACIÓN ÑANDÚ", None)
    with pytest.raises(Conflict):
        groups.save_group(None, forum, "GÉNERO")


def test_working_groups_are_created_renamed_and_refuse_duplicates(
    client, session, forum, facilitator
):
    url = f"/forums/{forum.slug}/manage/groups"
    created = client.post(url, data={"name": "Educación", "description": ""})
    assert created.status_code == 302
    assert created.headers["Location"].endswith(f"{url}/educacion")
    form = {"name": "Educación y cultura", "description": "Eje 2"}
    assert client.post(f"{url}/educacion", data=form).status_code == 302
    group = groups.get_group(forum, "educacion")
    assert (group.name, group.description) == ("Educación y cultura", "Eje 2")
    duplicate = client.post(url, data={"name": "EDUCACIóN Y CULTURA", "description": ""})
    assert duplicate.status_code == 409
    assert "already has a working group with this name" in duplicate.get_data(as_text=True)
    assert count(session, WorkingGroup, WorkingGroup.forum_id == forum.id) == 1


def test_group_slugs_are_unique_within_a_forum(client, make, forum, facilitator):
    first, second = make.group(forum, "Género"), make.group(forum, "Genero")
    assert first.slug == "genero" and second.slug != first.slug
    assert "Género" in client.get(f"/forums/{forum.slug}/groups/{first.slug}").get_data(True)
    assert "Genero" in client.get(f"/forums/{forum.slug}/groups/{second.slug}").get_data(True)
    assert make.group(make.forum(), "Género").slug == "genero"  # slugs are per forum


def test_group_member_routes_add_and_remove(client, session, make, forum, facilitator):
    group = make.group(forum, "Salud")
    membership = make.member(forum)
    url = f"/forums/{forum.slug}/manage/groups/{group.slug}/members"
    form = {"m-email": membership.user.email.upper(), "m-role": "facilitator"}
    assert client.post(url, data=form).status_code == 302
    member = session.scalar(
        select(WorkingGroupMember).where(WorkingGroupMember.working_group_id == group.id)
    )
    assert (member.user_id, member.role) == (membership.user_id, "facilitator")
    assert client.post(f"{url}/{membership.user_id}/remove").status_code == 302
    assert count(session, WorkingGroupMember, WorkingGroupMember.working_group_id == group.id) == 0


def test_member_of_another_forum_cannot_join_a_group(client, session, make, forum, facilitator):
    group = make.group(forum, "Salud")
    outsider = make.member(make.forum())
    url = f"/forums/{forum.slug}/manage/groups/{group.slug}/members"
    form = {"m-email": outsider.user.email, "m-role": "member"}
    response = client.post(url, data=form)
    assert response.status_code == 400
    assert "No member of this forum uses this email address." in response.get_data(as_text=True)
    with pytest.raises(InvalidInput):
        groups.add_group_member(None, group, outsider.user)
    session.rollback()
    assert count(session, WorkingGroupMember) == 0


# --- forums -----------------------------------------------------------------


def test_ensure_forum_is_idempotent(session):
    forum, created = services.ensure_forum("foro-americas", "Foro de las Américas")
    session.commit()
    again, created_again = services.ensure_forum("Foro-Americas", "Another name")
    assert (created, created_again) == (True, False)
    assert again.id == forum.id and again.name == "Foro de las Américas"
    assert count(session, Forum, Forum.slug == "foro-americas") == 1


def test_whoever_creates_a_forum_administers_it(client, session, make):
    creator = make.user(admin=True, locale="en")
    sign_in(client, creator)
    response = client.post(
        "/forums/new",
        data={
            "slug": "red-nueva",
            "name": "Red nueva",
            "description": "",
            "default_locale": "pt",
        },
    )
    assert response.status_code == 302
    forum = services.get_forum_for(creator, "red-nueva")
    assert permissions.membership_of(creator, forum).role == "admin"
    assert permissions.can_administer(creator, forum)
