"""Daily and weekly digests: one email per member per window, every
notification in exactly one email (or none, for "never"), whatever the day
boundaries, the time zone, a scheduler that was down, two schedulers at once,
or a change of preference in between."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, ngettext
from sqlalchemy import func, select

from consult.accounts import services as accounts
from consult.accounts.models import User
from consult.extensions import db
from consult.forums import services as forums
from consult.mail.models import OutboxEmail
from consult.notification_delivery import digests as notification_digests
from consult.notification_delivery import email_rendering
from consult.notifications.models import Notification
from consult.notifications.services import notify
from consult.plans import services as plans
from tests.conftest import (
    POSTGRES_URL,
    fresh_database,
    make_app,
    postgres_available,
    require_service,
)
from tests.factories import ONE_ITEM_PLAN, outbox

# A Monday, 10:00 UTC; digests go out at 07:00 UTC (DIGEST_HOUR), weekly on Mondays.
NOW = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
NEXT_MORNING = datetime(2031, 3, 4, 7, 0, tzinfo=UTC)
NEXT_MONDAY = datetime(2031, 3, 10, 7, 0, tzinfo=UTC)


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, ONE_ITEM_PLAN, open_for_input=False)


@pytest.fixture
def tell(session, forum, plan):
    """Notify ``user`` (committed); returns the notification's id."""
    counter = iter(range(1, 10_000))

    def tell(user) -> int:
        notification = notify(
            user.id, "plan_approved", plan, forum=forum, title=f"Plan {next(counter)}"
        )
        session.commit()
        return notification.id

    return tell


def member_with(make, forum, preference, *, locale="en", now=NOW):
    user = make.member(forum, locale=locale).user
    notification_digests.change_preference(user, preference, now=now)
    db.session.commit()
    return user


def digests(session, user) -> list[OutboxEmail]:
    return [m for m in outbox(session, user.email) if m.idempotency_key.startswith("digest:")]


def titles_in(message) -> list[str]:
    """The plan titles a digest lists, in order."""
    return [
        line.split("“")[1].split("”")[0]
        for line in message.body_text.splitlines()
        if line.startswith("- ")
    ]


def test_the_next_digest_is_at_the_hour_on_the_day_in_the_zone(app):
    with app.app_context():
        assert notification_digests.next_digest_slot("daily", NOW) == NEXT_MORNING
        assert notification_digests.next_digest_slot("daily", NEXT_MORNING) == NEXT_MORNING + DAY
        assert notification_digests.next_digest_slot(
            "daily", NEXT_MORNING - timedelta(seconds=1)
        ) == (NEXT_MORNING)
        assert notification_digests.next_digest_slot("weekly", NOW) == NEXT_MONDAY
        assert notification_digests.next_digest_slot("immediately", NOW) is None
        assert notification_digests.next_digest_slot("never", NOW) is None


def test_digest_time_is_wall_clock_time_across_daylight_saving(app, monkeypatch):
    monkeypatch.setitem(app.config, "DIGEST_TIMEZONE", "Europe/Madrid")
    with app.app_context():
        # Madrid moves from UTC+1 to UTC+2 on 30 March 2031.
        before = notification_digests.next_digest_slot(
            "daily", datetime(2031, 3, 28, 12, tzinfo=UTC)
        )
        after = notification_digests.next_digest_slot("daily", before)
        assert before == datetime(2031, 3, 29, 6, tzinfo=UTC)  # 07:00 in Madrid
        assert after == datetime(2031, 3, 30, 5, tzinfo=UTC)  # 07:00 in Madrid, summer time


def test_a_daily_digest_sends_each_notification_once_across_days(session, make, forum, tell):
    member = member_with(make, forum, "daily")
    assert member.next_digest_at == NEXT_MORNING
    tell(member), tell(member)

    assert notification_digests.send_due_digests(NEXT_MORNING - timedelta(seconds=1)) == 0
    assert notification_digests.send_due_digests(NEXT_MORNING) == 1
    tell(member)  # after the first digest went out
    assert notification_digests.send_due_digests(NEXT_MORNING + timedelta(hours=3)) == 0
    assert notification_digests.send_due_digests(NEXT_MORNING + DAY) == 1
    assert (
        notification_digests.send_due_digests(NEXT_MORNING + 2 * DAY) == 0
    )  # nothing new: no email

    first, second = digests(session, member)
    assert first.idempotency_key == f"digest:{member.id}:{NEXT_MORNING.isoformat()}"
    assert second.idempotency_key == f"digest:{member.id}:{(NEXT_MORNING + DAY).isoformat()}"
    assert titles_in(first) == ["Plan 1", "Plan 2"]
    assert titles_in(second) == ["Plan 3"]
    assert first.subject == "Your daily digest: 2 notifications"
    assert second.subject == "Your daily digest: 1 notification"
    assert first.status == "sent"
    session.refresh(member)
    assert member.next_digest_at == NEXT_MORNING + 3 * DAY


def test_a_scheduler_that_was_down_sends_one_digest_with_everything(session, make, forum, tell):
    member = member_with(make, forum, "daily")
    for _ in range(3):
        tell(member)
    late = NEXT_MORNING + 3 * DAY + timedelta(hours=5)
    assert notification_digests.send_due_digests(late) == 1
    assert notification_digests.send_due_digests(late) == 0
    [digest] = digests(session, member)
    assert titles_in(digest) == ["Plan 1", "Plan 2", "Plan 3"]
    session.refresh(member)
    assert member.next_digest_at == NEXT_MORNING + 4 * DAY  # the next one, not a backlog


def test_a_weekly_digest_waits_for_its_day(session, make, forum, tell):
    member = member_with(make, forum, "weekly", locale="pt")
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING) == 0
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MONDAY) == 1
    [digest] = digests(session, member)
    assert len(titles_in(digest)) == 2
    with force_locale("pt"):
        expected = ngettext(
            "Your weekly digest: %(num)d notification",
            "Your weekly digest: %(num)d notifications",
            2,
        )
    assert digest.subject == expected
    assert digest.locale == "pt"


def test_a_long_digest_lists_the_newest_and_counts_the_others(
    session, make, forum, tell, monkeypatch
):
    monkeypatch.setattr(notification_digests, "DIGEST_MAX_ITEMS", 3)
    member = member_with(make, forum, "daily")
    for _ in range(5):
        tell(member)
    notification_digests.send_due_digests(NEXT_MORNING)
    [digest] = digests(session, member)
    assert titles_in(digest) == ["Plan 3", "Plan 4", "Plan 5"]
    assert "2 earlier notifications are in your notification centre" in digest.body_text
    assert "http://consult.test/notifications/" in digest.body_text
    assert digest.subject == "Your daily digest: 5 notifications"


def test_digests_carry_the_unsubscribe_link_and_headers(session, make, forum, tell):
    member = member_with(make, forum, "daily")
    tell(member)
    notification_digests.send_due_digests(NEXT_MORNING)
    [digest] = digests(session, member)
    prefix = "<http://consult.test/notifications/unsubscribe/"
    header = digest.headers["List-Unsubscribe"]
    assert header.startswith(prefix) and header.endswith(">")
    # The token is signed with a timestamp: compare whom it names, not its bytes.
    assert email_rendering.user_for_unsubscribe_token(header[len(prefix) : -1]).id == member.id
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert header[1:-1] in digest.body_text


def test_never_means_no_email_at_all(session, make, forum, tell):
    member = member_with(make, forum, "never")
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MONDAY) == 0
    assert outbox(session, member.email) == []


def test_members_with_a_digest_but_no_time_for_it_get_the_next_one(session, make, forum, tell):
    member = make.member(forum).user
    member.notification_preference = "weekly"  # as before digests existed
    session.commit()
    tell(member)
    assert notification_digests.send_due_digests(NOW) == 0
    session.refresh(member)
    assert member.next_digest_at == NEXT_MONDAY
    assert notification_digests.send_due_digests(NEXT_MONDAY) == 1


# --- changing preference --------------------------------------------------------------


def email_count(session, user) -> int:
    return len(outbox(session, user.email))


def every_notification_went_once(session, user) -> list[str]:
    """The email state of each of the user's notifications; and every one taken
    by an email appears in exactly one email."""
    rows = session.execute(
        select(Notification.id, Notification.email_state, Notification.data)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id)
    ).all()
    sent_titles = []
    for message in outbox(session, user.email):
        if message.idempotency_key.startswith("digest:"):
            sent_titles += titles_in(message)
        else:
            sent_titles.append(message.subject.split("“")[1].split("”")[0])
    emailed = [data["title"] for _id, state, data in rows if state in ("immediate", "digest")]
    assert sorted(sent_titles) == sorted(emailed), "a notification went twice, or was lost"
    return [state for _id, state, _data in rows]


def test_from_immediately_to_daily_nothing_twice_nothing_lost(session, make, forum, tell):
    member = member_with(make, forum, "immediately")
    tell(member)  # emailed at once
    notification_digests.change_preference(member, "daily", now=NOW)
    session.commit()
    tell(member)
    notification_digests.send_due_digests(NEXT_MORNING)
    assert [titles_in(d) for d in digests(session, member)] == [["Plan 2"]]
    assert every_notification_went_once(session, member) == ["immediate", "digest"]


def test_from_daily_to_immediately_what_waits_goes_out_in_a_last_digest(session, make, forum, tell):
    member = member_with(make, forum, "daily")
    tell(member), tell(member)
    switched_at = NOW + timedelta(hours=1)
    notification_digests.change_preference(member, "immediately", now=switched_at)
    session.commit()
    tell(member)  # emailed at once, not in the last digest
    assert notification_digests.send_due_digests(switched_at + timedelta(seconds=30)) == 1
    [last] = digests(session, member)
    assert titles_in(last) == ["Plan 1", "Plan 2"]
    assert last.subject == "Your notifications: 2 since your last email"
    session.refresh(member)
    assert member.next_digest_at is None
    assert notification_digests.send_due_digests(NEXT_MONDAY) == 0
    assert every_notification_went_once(session, member) == ["digest", "digest", "immediate"]


def test_to_never_drops_what_waits_and_back_sends_nothing_old(session, make, forum, tell):
    member = member_with(make, forum, "daily")
    tell(member)
    notification_digests.change_preference(member, "never", now=NOW)
    session.commit()
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING) == 0
    notification_digests.change_preference(member, "daily", now=NEXT_MORNING + timedelta(hours=1))
    session.commit()
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING + DAY) == 1
    assert [titles_in(d) for d in digests(session, member)] == [["Plan 3"]]
    assert every_notification_went_once(session, member) == ["skipped", "skipped", "digest"]


def test_never_to_immediately_sends_only_what_comes_after(session, make, forum, tell):
    member = member_with(make, forum, "never")
    tell(member)
    notification_digests.change_preference(member, "immediately")
    session.commit()
    tell(member)
    assert email_count(session, member) == 1
    assert every_notification_went_once(session, member) == ["skipped", "immediate"]


def test_from_weekly_to_daily_the_waiting_ones_come_at_the_next_daily_digest(
    session, make, forum, tell
):
    member = member_with(make, forum, "weekly")
    tell(member)
    notification_digests.change_preference(member, "daily", now=NOW + timedelta(hours=1))
    session.commit()
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING) == 1
    assert [titles_in(d) for d in digests(session, member)] == [["Plan 1", "Plan 2"]]
    # Back to weekly: the daily digest already due still comes, then weekly ones.
    notification_digests.change_preference(member, "weekly", now=NEXT_MORNING + timedelta(hours=1))
    session.commit()
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING + DAY) == 1
    tell(member)
    assert notification_digests.send_due_digests(NEXT_MORNING + 2 * DAY) == 0
    assert notification_digests.send_due_digests(NEXT_MONDAY) == 1
    assert [titles_in(d) for d in digests(session, member)][1:] == [["Plan 3"], ["Plan 4"]]
    assert every_notification_went_once(session, member) == ["digest"] * 4


def test_the_profile_form_changes_the_preference_through_the_same_rules(
    client, session, make, forum, tell
):
    from tests.factories import sign_in

    member = member_with(make, forum, "daily")
    tell(member)
    sign_in(client, member)
    response = client.post(
        "/profile",
        data={
            "display_name": member.display_name,
            "locale": "en",
            "country": "",
            "notification_preference": "never",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert member.notification_preference == "never"
    assert member.next_digest_at is None
    assert every_notification_went_once(session, member) == ["skipped"]


def test_a_broken_digest_does_not_hold_up_the_others(session, make, forum, tell, monkeypatch):
    broken, fine = member_with(make, forum, "daily"), member_with(make, forum, "daily")
    tell(broken), tell(fine)
    real = email_rendering.render_message

    def render(user, *args, **kwargs):
        if user.id == broken.id:
            raise RuntimeError("a template bug")
        return real(user, *args, **kwargs)

    monkeypatch.setattr(email_rendering, "render_message", render)
    assert notification_digests.send_due_digests(NEXT_MORNING) == 1
    session.refresh(broken)
    assert broken.next_digest_at == NEXT_MORNING  # still due, nothing taken
    assert every_notification_went_once(session, broken) == [None]
    monkeypatch.setattr(email_rendering, "render_message", real)
    assert notification_digests.send_due_digests(NEXT_MORNING + timedelta(minutes=1)) == 1


# --- two schedulers at once (PostgreSQL, committed data, one connection each) -----------


def test_two_schedulers_at_once_send_one_digest_per_member(tmp_path):
    require_service(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    with fresh_database("postgresql", tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            db.create_all()
            forum = forums.create_forum(None, "digests", "Digests")
            plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
            members = []
            for number in range(20):
                user = accounts.create_user(f"m{number}@example.org", f"M{number}")
                notification_digests.change_preference(user, "daily", now=NOW)
                members.append(user)
            db.session.flush()
            for user in members:
                for _ in range(2):
                    notify(user.id, "plan_approved", plan, forum=forum, title="Plan")
            db.session.commit()
            db.session.remove()

        barrier = threading.Barrier(2)
        counts, errors = [], []

        def scheduler():
            try:
                with app.app_context():
                    barrier.wait(timeout=10)
                    counts.append(notification_digests.send_due_digests(NEXT_MORNING))
                    db.session.remove()
            except Exception as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert sum(counts) == 20
        with app.app_context():
            per_user = db.session.execute(
                select(OutboxEmail.recipient, func.count()).group_by(OutboxEmail.recipient)
            ).all()
            assert sorted(n for _r, n in per_user) == [1] * 20
            waiting = db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.email_state != "digest")
            )
            assert waiting == 0
            assert (
                db.session.scalar(
                    select(func.count())
                    .select_from(User)
                    .where(User.next_digest_at <= NEXT_MORNING)
                )
                == 0
            )
            db.session.remove()
            db.engine.dispose()
