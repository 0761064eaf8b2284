"""The in-app notifications members get about their amendments and comments."""

import pytest

from consult.amendments import lifecycle, proposing
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def setting(session, make):
    forum = make.forum()
    plan = make.plan(forum)
    author = make.member(forum, locale="en").user
    facilitator = make.member(forum, role="facilitator", name="Lucía").user
    amendment = proposing.propose(
        author, plan, target="1.1", operation="replace", text="Otro texto.", submit=True
    )
    session.commit()
    return forum, author, facilitator, amendment


def test_author_sees_the_decision_with_a_link_and_an_unread_count(client, session, setting):
    forum, author, facilitator, amendment = setting
    lifecycle.decide(facilitator, amendment, "rejected", "Fuera de plazo.")
    session.commit()
    sign_in(client, author)
    home = client.get("/").get_data(as_text=True)
    assert '<span class="count">1' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert (
        "Lucía changed the status of your amendment "
        f"{amendment.plan.short_name} E1 · 1.1: Rejected." in page
    )
    assert f'href="/forums/{forum.slug}/amendments/{amendment.id}"' in page
    assert client.post("/notifications/read").status_code == 302
    assert '<span class="count">' not in client.get("/").get_data(as_text=True)


def test_notifications_are_private_to_their_recipient(client, session, make, setting):
    forum, _author, facilitator, amendment = setting
    lifecycle.decide(facilitator, amendment, "rejected")
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    assert "your amendment" not in client.get("/notifications/").get_data(as_text=True)


def test_nobody_is_notified_of_their_own_action(session, setting):
    from sqlalchemy import func, select

    from consult.notifications.models import Notification

    _forum, author, _facilitator, amendment = setting
    lifecycle.withdraw(author, amendment)
    session.commit()
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == author.id)
        )
        == 0
    )
