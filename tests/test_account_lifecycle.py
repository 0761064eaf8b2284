"""An account's life: a new email address confirmed from it, the member's data
to read and download, and deleting the account without breaking the record."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts import services
from consult.accounts.models import User, UserSession
from consult.amendments import supports
from consult.api import tokens
from consult.audit.models import AuditEvent
from consult.errors import Conflict
from consult.forums.models import Membership
from consult.notifications.models import Notification
from consult.notifications.services import notify
from consult.votes import casting
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import proxies as votes_proxies
from consult.votes.models import Ballot, Participation, PollProxy
from consult.votes.queries import electorate
from tests.factories import PASSWORD, link_in, outbox, sign_in

# Messages are asserted in English (the source language).
pytestmark = pytest.mark.usefixtures("english")


def ask_for_email(client, new_email, password=PASSWORD):
    return client.post(
        "/profile/email", data={"em-new_email": new_email, "em-current_password": password}
    )


# --- a new email address -------------------------------------------------------------


def test_the_new_address_confirms_the_change_and_the_old_one_is_told(client, make, session):
    user = make.user("ana@example.org", locale="en")
    sign_in(client, user)
    response = ask_for_email(client, "  Ana.Nueva@Example.org ")
    assert response.status_code == 302
    assert "ana.nueva@example.org" in client.get("/profile").get_data(as_text=True)
    [confirmation] = outbox(session, "ana.nueva@example.org")
    [notice] = outbox(session, "ana@example.org")
    assert "/profile/email/" not in notice.body_text + (notice.body_html or "")
    assert "ana.nueva@example.org" in notice.body_text
    assert session.get(User, user.id).email == "ana@example.org"  # nothing changed yet

    link = link_in(confirmation, "/profile/email/")
    page = client.get(link)  # a mail program opening the link changes nothing
    assert page.status_code == 200
    assert session.get(User, user.id).email == "ana@example.org"
    assert client.post(link).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).email == "ana.nueva@example.org"

    client.post("/sign-out")
    sign_in(client, "ana.nueva@example.org")
    client.post("/sign-out")
    old = client.post("/sign-in", data={"email": "ana@example.org", "password": PASSWORD})
    assert old.status_code == 401


def test_a_confirmation_link_works_once(client, make, session):
    sign_in(client, make.user("ana@example.org", locale="en"))
    ask_for_email(client, "nueva@example.org")
    link = link_in(outbox(session, "nueva@example.org")[0], "/profile/email/")
    assert client.post(link).status_code == 302
    again = client.post(link)
    assert again.status_code == 400
    assert "invalid, has expired or was already used" in again.get_data(as_text=True)


def test_an_earlier_link_dies_with_the_change_it_did_not_make(client, make, session):
    sign_in(client, make.user("ana@example.org", locale="en"))
    ask_for_email(client, "first@example.org")
    ask_for_email(client, "second@example.org")
    first = link_in(outbox(session, "first@example.org")[0], "/profile/email/")
    second = link_in(outbox(session, "second@example.org")[0], "/profile/email/")
    assert client.post(second).status_code == 302
    assert client.get(first).status_code == 400
    assert client.post(first).status_code == 400
    assert session.scalar(select(User.email).where(User.email == "second@example.org"))


def test_an_expired_link_is_refused(client, make, session, app, monkeypatch):
    user = make.user("ana@example.org", locale="en")
    sign_in(client, user)
    ask_for_email(client, "nueva@example.org")
    link = link_in(outbox(session, "nueva@example.org")[0], "/profile/email/")
    monkeypatch.setitem(app.config, "EMAIL_CHANGE_MAX_AGE", timedelta(seconds=-1))
    response = client.post(link)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).email == "ana@example.org"


@pytest.mark.parametrize(
    ("new_email", "password", "status", "message"),
    [
        ("nueva@example.org", "not my password", 400, "The current password is not correct."),
        ("taken@example.org", PASSWORD, 409, "An account with this email address already exists."),
        ("TAKEN@example.org", PASSWORD, 409, "An account with this email address already exists."),
        ("ana@example.org", PASSWORD, 400, "This is already your email address."),
        ("not an address", PASSWORD, 400, "Invalid email address."),
        ("", PASSWORD, 400, "This field is required."),
        ("x" * 300 + "@example.org", PASSWORD, 400, "Field cannot be longer than 254 characters."),
    ],
)
def test_a_change_that_cannot_be_made_is_refused_with_a_reason(
    client, make, session, new_email, password, status, message
):
    make.user("taken@example.org")
    sign_in(client, make.user("ana@example.org", locale="en"))
    response = ask_for_email(client, new_email, password)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert outbox(session) == []


def test_an_address_taken_before_the_link_is_opened_is_refused(client, make, session):
    sign_in(client, make.user("ana@example.org", locale="en"))
    ask_for_email(client, "nueva@example.org")
    link = link_in(outbox(session, "nueva@example.org")[0], "/profile/email/")
    make.user("nueva@example.org")
    response = client.post(link)
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["forged", "x" * 2000, "eyJ1IjoxfQ.forged.sig"])
def test_a_forged_link_is_refused(client, token):
    response = client.get(f"/profile/email/{token}")
    assert response.status_code == 400
    assert "invalid, has expired or was already used" in response.get_data(as_text=True)


# --- the member's data -------------------------------------------------------------


@pytest.fixture
def contributions(make, session, forum, plan, member):
    """The member's amendment, comment and support, and another member's."""
    other = make.member(forum, name="Beto Other").user
    mine = make.amendment(plan, member, text="My own better text.", justification="Mine, why.")
    theirs = make.amendment(plan, other, text="Their text, not mine.")
    make.comment(member, plan, body="My own comment.")
    make.comment(other, plan, body="Their comment, not mine.")
    supports.support(member, theirs)
    supports.support(other, mine)
    notify(
        member.id, "amendment_status", mine, forum=forum, actor=other, label="E1", status="admitted"
    )
    notify(
        other.id,
        "amendment_status",
        theirs,
        forum=forum,
        actor=member,
        label="E9",
        status="admitted",
    )
    session.commit()
    return {"mine": mine, "theirs": theirs, "other": other}


def test_the_download_has_the_members_own_data_and_nobody_elses(client, member, contributions):
    sign_in(client, member)
    response = client.get("/profile/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_json(force=True)
    assert set(data) == {
        "profile",
        "memberships",
        "amendments",
        "comments",
        "supports",
        "notifications",
    }
    assert data["profile"]["email"] == member.email
    assert [a["proposed_text"] for a in data["amendments"]] == ["My own better text."]
    # Named as everywhere in the forum: the plan's short name, number and item.
    assert data["amendments"][0]["number"] == contributions["mine"].identifier
    assert [c["body"] for c in data["comments"]] == ["My own comment."]
    assert [s["amendment"] for s in data["supports"]] == [f"E{contributions['theirs'].number}"]
    assert len(data["memberships"]) == 1
    texts = [n["text"] for n in data["notifications"]]
    assert "Beto Other changed the status of your amendment E1: Admitted." in texts
    text = json.dumps(data)
    for foreign in ("Their text, not mine.", "Their comment, not mine.", "E9"):
        assert foreign not in text


def test_the_readable_page_and_its_download_show_the_same(client, member, contributions):
    sign_in(client, member)
    for url in ("/profile/data", "/profile/data.html"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "My own better text." in page and "My own comment." in page
        assert "Their text, not mine." not in page and "Their comment, not mine." not in page
    assert client.get("/profile/data.html").headers["Content-Disposition"].startswith("attachment")


def test_the_download_never_holds_a_ballot(client, make, session, forum, plan, facilitator):
    delegate = make.delegate(forum)
    poll = make.poll(plan, facilitator)
    receipt = casting.cast(delegate, poll, "yes")
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    sign_in(client, delegate)
    text = client.get("/profile/data.json").get_data(as_text=True)
    ballot = session.scalars(select(Ballot)).one()
    assert receipt not in text and ballot.receipt_hash not in text and ballot.id not in text
    assert not re.search(r'"(ballot|choice|receipt)', text)
    assert '"yes"' not in text


def test_the_data_page_reads_the_same_number_of_times_whatever_was_written(
    client, make, session, forum, plan, member, count_statements, pages_built_each_time
):
    sign_in(client, member)

    def statements():
        with count_statements() as seen:
            assert client.get("/profile/data").status_code == 200
        return len(seen)

    make.amendment(plan, member)
    make.comment(member, plan)
    few = statements()
    for _ in range(3):
        make.amendment(plan, member)
        make.comment(member, plan)
        supports.support(member, make.amendment(plan, make.member(forum).user))
    session.commit()
    assert statements() == few


# --- deleting the account ---------------------------------------------------------


def delete(client, password=PASSWORD):
    return client.post("/profile/delete", data={"current_password": password})


def test_deleting_removes_personal_data_and_keeps_contributions(
    client, make, session, forum, plan, member, contributions
):
    member_id, old_email = member.id, member.email
    draft = make.amendment(plan, member, submit=False)
    draft_id = draft.id
    sign_in(client, member)
    response = delete(client)
    assert response.status_code == 302
    assert "Your account has been deleted." in client.get("/").get_data(as_text=True)

    session.expire_all()
    gone = session.get(User, member_id)
    assert gone.display_name == "Former member"
    assert gone.stored_name == ""
    assert gone.email.endswith("@deleted.invalid") and old_email not in gone.email
    assert gone.password_hash is None and not gone.active and gone.is_deleted
    assert gone.country is None and gone.timezone is None and gone.calendar_key is None
    assert session.scalar(select(func.count()).where(Membership.user_id == member_id)) == 0
    assert session.scalar(select(func.count()).where(Notification.user_id == member_id)) == 0
    # Their draft, seen by no one else, went with the account.
    assert session.get(type(draft), draft_id) is None
    # What they wrote and supported stays, by a former member.
    mine = contributions["mine"]
    assert session.get(type(mine), mine.id).author_id == member_id
    facilitator = make.facilitator(forum, locale="en")
    sign_in(client, facilitator)
    page = client.get(f"/forums/{forum.slug}/amendments/{mine.id}").get_data(as_text=True)
    assert "Former member" in page and "My own better text." in page
    assert session.scalar(select(func.count()).where(AuditEvent.action == "user.deleted")) == 1
    assert client.get(f"/forums/{forum.slug}/manage/audit").status_code == 200


def test_another_account_may_take_the_address_of_a_deleted_one(client, make, member):
    email = member.email
    sign_in(client, member)
    delete(client)
    assert make.user(email).email == email


def test_deleting_ends_every_session_and_api_token_at_once(client, app, make, session, member):
    _token, secret = tokens.create_token(member, "script", "read")
    session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    other_device = app.test_client()
    sign_in(other_device, member)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    sign_in(client, member)
    delete(client)
    assert other_device.get("/profile").status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    live = select(func.count()).where(
        UserSession.user_id == member.id, UserSession.revoked_at.is_(None)
    )
    assert session.scalar(live) == 0
    refused = client.post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("password", "status", "message"),
    [
        ("not my password", 400, "The current password is not correct."),
        ("", 400, "This field is required."),
    ],
)
def test_a_wrong_password_deletes_nothing(client, session, member, password, status, message):
    sign_in(client, member)
    response = delete(client, password)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, member.id).active
    assert client.get("/profile").status_code == 200


def test_the_only_platform_administrator_may_not_leave(client, make, session):
    admin = make.user(admin=True, locale="en")
    sign_in(client, admin)
    page = client.get("/profile/delete").get_data(as_text=True)
    assert "You are the only platform administrator" in page
    response = delete(client)
    assert response.status_code == 409
    session.expire_all()
    assert session.get(User, admin.id).active
    make.user(admin=True)
    assert delete(client).status_code == 302


def test_a_deleted_account_cannot_be_opened_again(client, make, session, member):
    sign_in(client, member)
    delete(client)
    session.expire_all()
    with pytest.raises(Conflict):
        services.set_active(session.get(User, member.id), True)


def test_votes_in_closed_polls_still_count_after_deleting(
    client, make, session, forum, plan, facilitator
):
    voters = [make.delegate(forum) for _ in range(3)]
    poll = make.poll(plan, facilitator)
    for voter, choice in zip(voters, ["yes", "yes", "no"], strict=True):
        casting.cast(voter, poll, choice)
    session.commit()
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    result = session.get(type(poll), poll.id).result
    sign_in(client, voters[2])
    assert delete(client).status_code == 302
    session.expire_all()
    assert session.get(type(poll), poll.id).result == result
    assert session.scalar(select(func.count()).where(Participation.poll_id == poll.id)) == 3
    assert session.scalar(select(func.count()).where(Ballot.poll_id == poll.id)) == 3
    sign_in(client, facilitator)
    assert client.get(f"/forums/{forum.slug}/polls/{poll.id}").status_code == 200


def test_a_deleted_delegate_is_no_longer_summoned_nor_in_a_new_electorate(
    client, make, session, forum, plan, facilitator
):
    stays, leaves = make.delegate(forum), make.delegate(forum)
    sign_in(client, leaves)
    delete(client)
    poll = make.poll(plan, facilitator)
    assert [voter.user_id for voter in electorate(poll)] == [stays.id]


def test_pages_ask_to_be_signed_in(client):
    for url in ("/profile/delete", "/profile/data", "/profile/data.json", "/profile/data.html"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_proxy_in_a_running_vote_ends_when_its_holder_leaves(
    client, make, session, forum, plan, facilitator
):
    grantor, holder = make.delegate(forum), make.delegate(forum)
    poll = make.poll(plan, facilitator, max_proxies=1)
    votes_proxies.grant_proxy(grantor, poll, holder.id)
    session.commit()
    sign_in(client, holder)
    assert delete(client).status_code == 302
    assert session.scalars(select(PollProxy).where(PollProxy.poll_id == poll.id)).all() == []
    # The grantor votes themself again.
    session.expire_all()
    assert casting.cast(session.get(User, grantor.id), session.get(type(poll), poll.id), "yes")
