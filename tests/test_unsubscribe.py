"""One-click unsubscribe (RFC 8058): the signed link of every notification email
asks on GET, unsubscribes on POST (from the page or the mail client, without a
session or CSRF token), and refuses forged or expired links with a clear 400."""

import time

import pytest
from flask_babel import force_locale, gettext
from itsdangerous import TimestampSigner
from sqlalchemy import select

from consult.accounts import services as accounts
from consult.notification_delivery import digests as notification_digests
from consult.notification_delivery import email_rendering
from consult.notifications.models import Notification, NotificationPreference
from consult.notifications.services import notify
from consult.plans import services as plans
from tests.factories import link_in, outbox


@pytest.fixture
def member(make, forum):
    return make.member(forum, locale="pt").user


def phases_and_votes(session, member, forum) -> str | None:
    """The member's own choice for "phases and votes" in ``forum`` (None: the default)."""
    return session.scalar(
        select(NotificationPreference.frequency).where(
            NotificationPreference.user_id == member.id,
            NotificationPreference.forum_id == forum.id,
            NotificationPreference.topic == "phases_votes",
        )
    )


@pytest.fixture
def link(session, forum, member):
    """The unsubscribe link of a real notification email (its path)."""
    plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
    notify(member.id, "plan_approved", plan, forum=forum, title=plan.title)
    session.commit()
    [message] = outbox(session, member.email)
    return link_in(message, "/notifications/unsubscribe/")


def test_the_link_asks_first_in_the_members_language(client, session, forum, member, link):
    response = client.get(link)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    with force_locale("pt"):
        question = gettext("Stop these emails?")
        button = gettext("Unsubscribe")
    assert question in page and button in page
    assert forum.name in page  # what it stops: this kind, in this forum
    assert f'action="{link}"' in page
    assert member.email in page
    assert phases_and_votes(session, member, forum) is None  # a GET changes nothing


def test_the_button_stops_that_kind_in_that_forum(client, session, forum, member, link):
    response = client.post(link)
    assert response.status_code == 200
    with force_locale("pt"):
        assert gettext("You are unsubscribed") in response.get_data(as_text=True)
    assert phases_and_votes(session, member, forum) == "never"
    session.refresh(member)
    assert member.notification_preference == "immediately"  # the rest still comes
    assert client.post(link).status_code == 200  # a second click is harmless

    plan = plans.import_plan(None, forum, "Otro plan\n\n1. Punto.\n")
    notify(member.id, "plan_approved", plan, forum=forum, title=plan.title)
    notify(member.id, "cosponsor_invited", plan, forum=forum, label="E1")
    session.commit()
    assert len(outbox(session, member.email)) == 2  # the first email, and the invitation


def test_one_click_from_the_mail_client_needs_no_session_nor_csrf_token(
    app, client, session, forum, member, link, monkeypatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    # Any other form without its token is refused under this setting.
    assert client.post("/password-reset", data={"email": member.email}).status_code == 400
    response = client.post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert phases_and_votes(session, member, forum) == "never"


def test_unsubscribing_drops_what_waits_for_a_digest(client, session, forum, member):
    notification_digests.change_preference(member, "daily")
    session.commit()
    plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
    notify(member.id, "plan_approved", plan, forum=forum, title=plan.title)
    session.commit()
    token = email_rendering.unsubscribe_token(member)
    assert client.post(f"/notifications/unsubscribe/{token}").status_code == 200
    session.expire_all()
    assert member.next_digest_at is None
    assert session.scalar(select(Notification.email_state)) == "skipped"
    assert notification_digests.send_due_digests() == 0


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_link_is_refused_clearly(client, session, member, link, method):
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # nobody is signed in
    response = client.open(forged, method=method)
    assert response.status_code == 400
    assert "This unsubscribe link is not valid or has expired." in response.get_data(as_text=True)
    session.refresh(member)
    assert member.notification_preference == "immediately"


def test_an_expired_link_is_refused(app, client, session, member, monkeypatch):
    with app.test_request_context():
        monkeypatch.setattr(
            TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 400 * 24 * 3600
        )
        token = email_rendering.unsubscribe_token(member)
        monkeypatch.undo()
    response = client.post(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400
    session.refresh(member)
    assert member.notification_preference == "immediately"


def test_a_token_made_for_something_else_is_refused(app, client, session, member):
    with app.test_request_context():
        reset_token = accounts.password_reset_token(member)
    assert client.post(f"/notifications/unsubscribe/{reset_token}").status_code == 400
    session.refresh(member)
    assert member.notification_preference == "immediately"
