"""Notification preferences per forum and topic (issue 16): each member chooses,
per forum and topic, an email immediately, a daily or weekly digest, or none;
a follow brings one amendment's or thread's notifications, a mute keeps them
out; every email says why it came and links to that very preference."""

import re
from itertools import count

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import insert, select

from consult.accounts.models import User
from consult.database import utcnow
from consult.forums.models import Membership
from consult.mail.models import OutboxEmail
from consult.notification_delivery import digests as notification_digests
from consult.notification_delivery import emails, settings
from consult.notification_delivery.preferences import TOPIC_OF_KIND, Topic
from consult.notifications.models import (
    Notification,
    NotificationPreference,
    NotificationWatch,
)
from consult.notifications.services import KINDS, notify, notify_many
from tests.factories import link_in, outbox, sign_in

pytestmark = pytest.mark.usefixtures("english")

_numbers = count(1)


def state_of(session, notification_id) -> str | None:
    session.expire_all()
    return session.get(Notification, notification_id).email_state


def emailed_now(session, user) -> list[OutboxEmail]:
    return [m for m in outbox(session, user.email) if m.idempotency_key.startswith("notification:")]


def digests(session, user) -> list[OutboxEmail]:
    return [m for m in outbox(session, user.email) if m.idempotency_key.startswith("digest:")]


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, "Plan\n\n1. Primer punto.\n\n2. Segundo punto.\n")


# --- the table of kinds ---------------------------------------------------------------


def test_every_kind_the_code_emits_belongs_to_exactly_one_topic():
    # ``notify`` refuses any kind not in KINDS, so these are all the kinds emitted.
    assert set(TOPIC_OF_KIND) == set(KINDS)
    assert set(TOPIC_OF_KIND.values()) == set(Topic)


def test_the_defaults_are_immediately_but_a_daily_digest_for_the_groups_sections(
    session, make, forum, plan
):
    member = make.member(forum, locale="en").user
    now = notify(member.id, "cosponsor_invited", plan, forum=forum, label="E1")
    later = notify(member.id, "amendment_submitted", plan, forum=forum, label="E2", ref="1")
    session.commit()
    assert state_of(session, now.id) == "immediate"
    assert state_of(session, later.id) is None  # waits for the daily digest
    session.refresh(member)
    assert member.next_digest_at == notification_digests.next_digest_slot("daily", utcnow(), member)
    assert notification_digests.send_due_digests(member.next_digest_at) == 1
    assert state_of(session, later.id) == "digest"


# --- now, daily, weekly or never, per forum and topic --------------------------------


def test_each_topics_frequency_decides_now_daily_weekly_or_never(session, make, forum, plan):
    member = make.member(forum, locale="en").user
    settings.set_frequencies(
        member,
        {
            (forum.id, "my_amendments"): "weekly",
            (forum.id, "group_sections"): "immediately",
            (forum.id, "replies_mentions"): "never",
            (forum.id, "phases_votes"): "daily",
        },
    )
    session.commit()
    weekly = notify(member.id, "amendment_status", plan, forum=forum, label="E1", status="admitted")
    immediate = notify(member.id, "amendment_submitted", plan, forum=forum, label="E2", ref="1")
    never = notify(member.id, "mention", plan, forum=forum)
    daily = notify(member.id, "plan_approved", plan, forum=forum, title="Plan")
    session.commit()

    assert [state_of(session, n.id) for n in (weekly, immediate, never, daily)] == [
        None,
        "immediate",
        "skipped",
        None,
    ]
    assert len(emailed_now(session, member)) == 1
    # The daily digest takes the daily one; the weekly one waits for its day.
    session.refresh(member)
    daily_slot = notification_digests.next_digest_slot("daily", utcnow(), member)
    weekly_slot = notification_digests.next_digest_slot("weekly", utcnow(), member)
    assert member.next_digest_at == daily_slot
    if daily_slot != weekly_slot:
        assert notification_digests.send_due_digests(daily_slot) == 1
        assert state_of(session, daily.id) == "digest"
        assert state_of(session, weekly.id) is None
        session.refresh(member)
        assert member.next_digest_at == weekly_slot  # planned for what still waits
    assert notification_digests.send_due_digests(weekly_slot) == 1
    assert state_of(session, weekly.id) == "digest"
    assert state_of(session, never.id) == "skipped"
    assert "weekly" in digests(session, member)[-1].subject.lower()


def test_the_same_topic_can_differ_from_forum_to_forum(session, make, forum, plan):
    other = make.forum()
    other_plan = make.plan(other, "Otro\n\n1. Punto.\n")
    member = make.member(forum, locale="en").user
    make.member(other, member)
    settings.set_frequency(member, other.id, "phases_votes", "never")
    session.commit()
    here = notify(member.id, "plan_approved", plan, forum=forum, title="Aquí")
    there = notify(member.id, "plan_approved", other_plan, forum=other, title="Allá")
    session.commit()
    assert state_of(session, here.id) == "immediate"
    assert state_of(session, there.id) == "skipped"


def test_a_change_decides_again_for_what_waits(session, make, forum, plan):
    member = make.member(forum, locale="en").user
    waiting = notify(member.id, "amendment_submitted", plan, forum=forum, label="E2", ref="1")
    session.commit()
    assert state_of(session, waiting.id) is None
    settings.set_frequency(member, forum.id, "group_sections", "immediately")
    session.commit()
    assert state_of(session, waiting.id) == "immediate"


# --- follow and mute -------------------------------------------------------------------


def test_a_follow_brings_an_amendments_notifications_even_when_its_topic_is_never(
    session, make, forum, plan
):
    author, reader = make.member(forum, locale="en").user, make.member(forum, locale="en").user
    amendment = make.amendment(plan, author)
    other = make.amendment(plan, author)
    settings.set_frequency(reader, forum.id, "my_amendments", "never")
    settings.set_watch(reader, forum, "amendment", amendment.id, "follow")
    session.commit()
    followed = notify(reader.id, "amendment_status", amendment, forum=forum, label="E1")
    not_followed = notify(reader.id, "amendment_status", other, forum=forum, label="E2")
    session.commit()
    assert state_of(session, followed.id) == "immediate"
    assert state_of(session, not_followed.id) == "skipped"
    [message] = emailed_now(session, reader)
    assert "You receive this because you follow this amendment." in message.body_text


def test_a_mute_keeps_a_thread_out_of_every_email(session, make, forum, plan):
    first, second, third = (make.member(forum, locale="en").user for _ in range(3))
    top = make.comment(first, plan)
    settings.set_watch(first, forum, "thread", top.id, "mute")
    session.commit()
    make.comment(second, plan, parent=top)  # a reply to the muted thread
    [reply] = session.scalars(
        select(Notification).where(
            Notification.user_id == first.id, Notification.kind == "comment_reply"
        )
    )
    assert reply.email_state == "skipped"
    assert emailed_now(session, first) == []
    # Unmuted: the next reply comes again.
    settings.set_watch(first, forum, "thread", top.id, None)
    session.commit()
    make.comment(third, plan, parent=top)
    assert len(emailed_now(session, first)) == 1


def test_following_a_thread_tells_of_every_new_comment_in_it(session, make, forum, plan):
    author, follower, replier = (make.member(forum, locale="en").user for _ in range(3))
    top = make.comment(author, plan)
    settings.set_watch(follower, forum, "thread", top.id, "follow")
    session.commit()
    make.comment(replier, plan, parent=top)
    [message] = emailed_now(session, follower)
    assert "You receive this because you follow this thread." in message.body_text
    # The follower's own comment is not told to them.
    make.comment(follower, plan, parent=top)
    assert len(emailed_now(session, follower)) == 1


def test_the_pages_offer_follow_and_mute_and_the_buttons_work(client, session, make, forum, plan):
    author, reader = make.member(forum, locale="en").user, make.member(forum, locale="en").user
    amendment = make.amendment(plan, author)
    sign_in(client, reader)
    page_url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    page = client.get(page_url).get_data(as_text=True)
    action = f"/notifications/watch/amendment/{amendment.id}"
    assert f'action="{action}"' in page and "Follow this amendment" in page
    response = client.post(action, data={"state": "follow"})
    assert response.status_code == 302 and response.headers["Location"].endswith(page_url)
    assert (
        session.scalar(
            select(NotificationWatch.state).where(NotificationWatch.user_id == reader.id)
        )
        == "follow"
    )
    assert "Stop following" in client.get(page_url).get_data(as_text=True)
    response = client.post(action, data={"state": "sometimes"})
    assert response.status_code == 400
    assert "Choose to follow or to mute." in response.get_data(as_text=True)


def test_the_settings_page_lists_what_one_follows_or_mutes_and_changes_it(
    client, session, make, forum, plan, count_statements, pages_built_each_time
):
    author, reader = make.member(forum, locale="en").user, make.member(forum, locale="en").user
    amendment = make.amendment(plan, author)
    thread = make.comment(author, plan, body="Una pregunta sobre el punto uno del plan.")
    sign_in(client, reader)
    settings_page = "/notifications/preferences"
    assert "You follow and mute nothing in particular" in client.get(settings_page).get_data(
        as_text=True
    )
    client.post(f"/notifications/watch/amendment/{amendment.id}", data={"state": "follow"})
    client.post(f"/notifications/watch/thread/{thread.id}", data={"state": "mute"})
    page = client.get(settings_page).get_data(as_text=True)
    listed = page[page.index('id="watched-heading"') :]
    assert amendment.identifier in listed and "Following" in listed
    assert "Una pregunta sobre el punto uno del plan." in listed and "Muted" in listed
    assert f'href="/forums/{forum.slug}/amendments/{amendment.id}"' in listed

    # Unmuted from the list: back to the list, the thread gone from it.
    response = client.post(
        f"/notifications/watch/thread/{thread.id}",
        data={"state": "none", "next": settings_page + "#watched-heading"},
    )
    assert response.headers["Location"].endswith(settings_page + "#watched-heading")
    listed = client.get(settings_page).get_data(as_text=True)
    assert "Una pregunta sobre el punto uno" not in listed[listed.index('id="watched-heading"') :]
    # An address elsewhere is not followed.
    response = client.post(
        f"/notifications/watch/amendment/{amendment.id}",
        data={"state": "none", "next": "https://elsewhere.example/"},
    )
    assert "elsewhere" not in response.headers["Location"]

    # Two statements for the list, however much is followed.
    counts = []
    for extra in (0, 5):
        for _ in range(extra):
            other = make.amendment(plan, author)
            client.post(f"/notifications/watch/amendment/{other.id}", data={"state": "follow"})
        with count_statements() as seen:
            assert client.get(settings_page).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], "\n".join(seen)


def test_an_outsider_is_offered_no_buttons_and_cannot_follow(client, session, make, forum, plan):
    author = make.member(forum, locale="en").user
    amendment = make.amendment(plan, author)
    forum.is_public = True
    session.commit()
    visitor = make.user()
    sign_in(client, visitor)
    page = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}").get_data(as_text=True)
    assert "/notifications/watch/" not in page
    action = f"/notifications/watch/amendment/{amendment.id}"
    assert client.post(action, data={"state": "follow"}).status_code == 403
    assert session.scalar(select(NotificationWatch.id)) is None


# --- why, and the link to the preference -------------------------------------------------


def test_an_email_says_why_and_links_to_the_exact_preference(client, session, make, forum, plan):
    member = make.member(forum, locale="en").user
    notify(member.id, "plan_approved", plan, forum=forum, title="Plan")
    session.commit()
    [message] = outbox(session, member.email)
    with force_locale("en"):
        why = gettext(
            "You receive this because of your setting for “%(topic)s” in %(forum)s.",
            topic=gettext("Phases and votes"),
            forum=forum.name,
        )
    assert why in message.body_text
    anchor = f"forum-{forum.id}-phases_votes"
    link = link_in(message, "/notifications/preferences")
    assert link == f"/notifications/preferences#{anchor}"
    assert f'href="http://consult.test{link}"' in message.body_html
    sign_in(client, member)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    row = re.search(rf'<tr id="{anchor}".*?</tr>', page, re.S).group(0)
    assert f'name="frequency-{forum.id}-phases_votes"' in row
    assert '<option value="immediately" selected>' in row


def test_unsubscribing_from_a_followed_amendment_ends_the_follow_and_that_topic(
    client, session, make, forum, plan
):
    author, reader = make.member(forum, locale="en").user, make.member(forum, locale="en").user
    amendment = make.amendment(plan, author)
    settings.set_watch(reader, forum, "amendment", amendment.id, "follow")
    session.commit()
    notify(reader.id, "amendment_status", amendment, forum=forum, label="E1")
    session.commit()
    [message] = outbox(session, reader.email)
    assert client.post(link_in(message, "/notifications/unsubscribe/")).status_code == 200
    assert session.scalar(select(NotificationWatch.id)) is None
    assert (
        session.scalar(
            select(NotificationPreference.frequency).where(
                NotificationPreference.user_id == reader.id,
                NotificationPreference.topic == "my_amendments",
            )
        )
        == "never"
    )


def test_a_digests_unsubscribe_link_stops_every_email(client, session, make, forum, plan):
    member = make.member(forum, locale="en").user
    notify(member.id, "amendment_submitted", plan, forum=forum, label="E2", ref="1")
    session.commit()
    session.refresh(member)
    notification_digests.send_due_digests(member.next_digest_at)
    [digest] = digests(session, member)
    assert "You receive this digest because" in digest.body_text
    assert client.post(link_in(digest, "/notifications/unsubscribe/")).status_code == 200
    session.refresh(member)
    assert member.notification_preference == "never"
    later = notify(member.id, "cosponsor_invited", plan, forum=forum, label="E3")
    session.commit()
    assert state_of(session, later.id) == "skipped"


# --- the preferences page ----------------------------------------------------------------


def test_the_page_saves_a_table_per_forum(client, session, make, forum):
    other = make.forum()
    member = make.member(forum, locale="en").user
    make.member(other, member)
    sign_in(client, member)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert forum.name in page and other.name in page
    assert page.count("<table") == 2
    response = client.post(
        "/notifications/preferences",
        data={f"frequency-{other.id}-group_sections": "weekly"},
    )
    assert response.status_code == 302
    chosen = session.execute(
        select(
            NotificationPreference.forum_id,
            NotificationPreference.topic,
            NotificationPreference.frequency,
        )
    ).all()
    assert chosen == [(other.id, "group_sections", "weekly")]
    # Choosing the default again leaves no choice: the topic follows the defaults.
    client.post(
        "/notifications/preferences", data={f"frequency-{other.id}-group_sections": "daily"}
    )
    assert session.scalar(select(NotificationPreference.id)) is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"frequency-{forum}-group_sections": "hourly"}, "Choose how often for each kind"),
        ({"frequency-{forum}-gossip": "daily"}, "Choose how often for each kind"),
        ({"frequency-{other}-group_sections": "daily"}, "Unknown forum in the notification"),
        ({"frequency-x1-group_sections": "daily"}, "Unknown forum in the notification"),
        ({}, "Choose how often for each kind"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_changes_nothing(
    client, session, make, forum, data, message
):
    other = make.forum()  # not the member's
    member = make.member(forum, locale="en").user
    sign_in(client, member)
    data = {k.format(forum=forum.id, other=other.id): v for k, v in data.items()}
    response = client.post("/notifications/preferences", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(NotificationPreference.id)) is None


def test_the_message_is_in_the_members_language(client, session, make, forum):
    member = make.member(forum, locale="pt").user
    sign_in(client, member)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt"
    response = client.post(
        "/notifications/preferences", data={f"frequency-{forum.id}-group_sections": "hourly"}
    )
    assert response.status_code == 400
    with force_locale("pt"):
        assert gettext("Choose how often for each kind of notification.") in (
            response.get_data(as_text=True)
        )


# --- constant statements -------------------------------------------------------------------


@pytest.fixture
def jobs(monkeypatch):
    handed = []
    monkeypatch.setattr(emails, "enqueue_batches", lambda ids, **_: handed.append(ids))
    return handed


def test_deciding_for_a_batch_costs_the_same_statements_for_6_or_300_members(
    make, session, jobs, count_statements, pages_built_each_time
):
    """Members with every kind of choice (rows, follows, mutes, digests): the
    email job decides for all of them in the same number of statements."""

    def batch(members: int) -> int:
        forum = make.forum()
        plan = make.plan(forum, "Plan\n\n1. Punto.\n")
        n = next(_numbers)
        addresses = [f"prefs{n}-{i}@example.org" for i in range(members)]
        session.execute(
            insert(User.__table__),
            [
                {"email": e, "display_name": f"M {i}", "locale": "es"}
                for i, e in enumerate(addresses)
            ],
        )
        ids = session.scalars(select(User.id).where(User.email.in_(addresses))).all()
        session.execute(
            insert(Membership.__table__),
            [{"forum_id": forum.id, "user_id": i, "role": "member"} for i in ids],
        )
        choices = ("immediately", "daily", "weekly", "never")
        session.execute(
            insert(NotificationPreference.__table__),
            [
                {
                    "user_id": i,
                    "forum_id": forum.id,
                    "topic": "phases_votes",
                    "frequency": choices[k % 4],
                }
                for k, i in enumerate(ids)
            ],
        )
        session.execute(
            insert(NotificationWatch.__table__),
            [
                {"user_id": i, "target_type": "amendment", "target_id": 1, "state": "mute"}
                for i in ids[::5]
            ],
        )
        session.commit()
        notify_many(
            select(Membership.user_id).where(Membership.forum_id == forum.id),
            "plan_approved",
            plan,
            forum=forum,
            title=plan.title,
        )
        session.commit()
        batch_ids = jobs.pop()
        with count_statements() as seen:
            taken = emails.prepare_emails(batch_ids)
            session.commit()
        assert len(taken) == len(ids[0::4])  # the "immediately" ones
        states = session.scalars(
            select(Notification.email_state).where(Notification.id.in_(batch_ids))
        ).all()
        assert states.count("skipped") == len(ids[3::4])
        return len(seen)

    assert batch(6) == batch(300)
