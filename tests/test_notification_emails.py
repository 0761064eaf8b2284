"""An email for each notification, for the members who want one, in their own
language, with a link to the object and a one-click unsubscribe link; the
others get theirs in a digest, or none. (The jobs run inline here; the real
queue, worker and SMTP server are in test_notification_delivery.py.)"""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import event, func, select

from consult.database import utcnow
from consult.extensions import db
from consult.mail import services as mail
from consult.mail.models import OutboxEmail
from consult.notification_delivery import digests as notification_digests
from consult.notification_delivery import email_rendering, emails
from consult.notifications.models import Notification
from consult.notifications.services import notify, notify_many
from consult.plans import services as plans
from consult.tokens import read_token
from tests.factories import ONE_ITEM_PLAN, outbox


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, ONE_ITEM_PLAN, open_for_input=False)


def approve(plan, forum, users):
    """The notification a plan's approval sends to the forum (committed)."""
    notify_many([u.id for u in users], "plan_approved", plan, forum=forum, title=plan.title)
    db.session.commit()


def states(user) -> list:
    return list(
        db.session.scalars(
            select(Notification.email_state)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def test_each_member_gets_the_notification_in_their_language_with_a_link(
    session, make, forum, plan
):
    english = make.member(forum, locale="en").user
    portuguese = make.member(forum, locale="pt").user
    approve(plan, forum, [english, portuguese])

    for user in (english, portuguese):
        [message] = outbox(session, user.email)
        with force_locale(user.locale):
            expected = gettext("The assembly approved the plan “%(title)s”.", title=plan.title)
        assert message.subject == expected
        assert expected in message.body_text
        assert message.locale == user.locale
        assert f"http://consult.test/forums/{forum.slug}/plans/{plan.id}/" in message.body_text
        assert f'href="http://consult.test/forums/{forum.slug}/plans/{plan.id}/"' in (
            message.body_html
        )
        [notification] = session.scalars(
            select(Notification).where(Notification.user_id == user.id)
        )
        assert message.idempotency_key == f"notification:{notification.id}"
        assert message.status == "sent"  # the log backend, inline
        assert states(user) == ["immediate"]
    assert outbox(session, english.email)[0].subject != outbox(session, portuguese.email)[0].subject


def test_every_notification_email_carries_a_one_click_unsubscribe_link(session, make, forum, plan):
    member = make.member(forum, locale="en").user
    approve(plan, forum, [member])
    [message] = outbox(session, member.email)
    prefix = "<http://consult.test/notifications/unsubscribe/"
    header = message.headers["List-Unsubscribe"]
    assert header.startswith(prefix) and header.endswith(">")
    # The token is signed with a timestamp: compare whom it names, not its bytes.
    token = header[len(prefix) : -1]
    assert email_rendering.user_for_unsubscribe_token(token).id == member.id
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header[1:-1]
    assert link in message.body_text
    assert f'href="{link}"' in message.body_html
    # It says why it was sent and links to that exact preference.
    assert f"http://consult.test/notifications/preferences#forum-{forum.id}-phases_votes" in (
        message.body_text
    )


def test_the_email_follows_a_real_event_with_the_actors_name(session, make, forum):
    from consult.amendments import lifecycle, proposing

    plan = plans.import_plan(None, forum, "Plan\n\n1. Primer punto.\n")
    plan.open_for_input = True
    author = make.member(forum, locale="en").user
    facilitator = make.member(forum, role="facilitator", name="Lucía").user
    amendment = proposing.propose(
        author, plan, target="1", operation="replace", text="Otro texto.", submit=True
    )
    session.commit()
    lifecycle.decide(facilitator, amendment, "rejected", "Fuera de plazo.")
    session.commit()
    [message] = outbox(session, author.email)
    assert message.subject == (
        f"Lucía changed the status of your amendment {plan.short_name} E1 · 1: Rejected."
    )
    assert f"http://consult.test/forums/{forum.slug}/amendments/{amendment.id}" in (
        message.body_text
    )


@pytest.mark.parametrize("preference", ["daily", "weekly", "never"])
def test_members_who_chose_a_digest_or_nothing_get_no_email_per_notification(
    session, make, forum, plan, preference
):
    member = make.member(forum).user
    notification_digests.change_preference(member, preference)
    session.commit()
    approve(plan, forum, [member])
    assert outbox(session, member.email) == []
    # A digest member's notification waits for the digest; "never" is decided at once.
    assert states(member) == [None if preference != "never" else "skipped"]


def test_a_deactivated_account_gets_no_email(session, make, forum, plan):
    member = make.member(forum).user
    member.active = False
    session.commit()
    approve(plan, forum, [member])
    assert outbox(session, member.email) == []
    assert states(member) == ["skipped"]


def test_nothing_is_emailed_when_the_transaction_rolls_back(session, make, forum, plan):
    member = make.member(forum).user
    notify(member.id, "plan_approved", plan, forum=forum, title=plan.title)
    session.rollback()
    session.commit()
    assert outbox(session, member.email) == []


def test_the_job_run_twice_adds_and_sends_nothing_more(session, make, forum, plan):
    members = [make.member(forum).user for _ in range(3)]
    approve(plan, forum, members)
    ids = list(session.scalars(select(Notification.id).order_by(Notification.id)))
    before = session.scalar(select(func.count()).select_from(OutboxEmail))

    again = emails.email_notifications(ids)

    assert again == {}  # nothing was pending any more
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == before == 3
    assert emails.prepare_emails(ids) == []


def test_notifying_many_members_is_one_insert_without_objects_per_member(
    app, session, make, forum, plan
):
    members = [make.member(forum).user for _ in range(30)]
    notification_digests.change_preference(members[0], "daily")  # one waits for a digest
    session.commit()
    inserts = []

    def count(conn, clauseelement, multiparams, params, execution_options):
        if getattr(getattr(clauseelement, "table", None), "name", None) == "notifications":
            inserts.append(clauseelement)

    event.listen(db.engine, "before_execute", count)
    try:
        written = notify_many(
            [m.id for m in members], "plan_approved", plan, forum=forum, title=plan.title
        )
        assert not [obj for obj in session.identity_map.values() if isinstance(obj, Notification)]
        session.commit()
    finally:
        event.remove(db.engine, "before_execute", count)
    assert written == 30
    assert len([i for i in inserts if i.is_insert]) == 1
    assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 29


def test_a_member_is_never_notified_of_their_own_action_by_email_either(session, make, forum, plan):
    actor = make.member(forum).user
    other = make.member(forum).user
    notify_many(
        [actor.id, other.id], "plan_approved", plan, forum=forum, actor=actor, title=plan.title
    )
    notify(actor.id, "plan_approved", plan, forum=forum, actor=actor, title=plan.title)
    session.commit()
    assert outbox(session, actor.email) == []
    assert len(outbox(session, other.email)) == 1


def test_lost_jobs_are_handed_out_again_by_the_scheduler(app, session, make, forum, plan):
    member = make.member(forum).user
    waiting = make.member(forum).user
    notification_digests.change_preference(waiting, "daily")
    session.commit()
    notify_many([member.id, waiting.id], "plan_approved", plan, forum=forum, title=plan.title)
    session.info.pop("consult_notifications_to_email")  # as if Redis was down at the commit
    session.commit()
    assert outbox(session, member.email) == []

    assert emails.relay_unemailed(utcnow()) == 0  # too recent: its job may still run
    assert emails.relay_unemailed(utcnow() + emails.RELAY_AFTER) == 1  # not the digest's
    assert len(outbox(session, member.email)) == 1
    assert states(waiting) == [None]


_UNSUBSCRIBE_TOKEN = re.compile(r"(/notifications/unsubscribe/)([^\s\"<>&]+)")


def _whose_tokens(text: str) -> str:
    """The text with each signed unsubscribe token replaced by the user it names
    (two signings a second apart differ in their bytes, not in whom they name)."""

    def name(match):
        payload = read_token("unsubscribe", match.group(2), timedelta(days=1))
        return f"{match.group(1)}<user {payload['user']}>"

    return _UNSUBSCRIBE_TOKEN.sub(name, text)


@pytest.mark.parametrize(
    "names",
    [
        ['Ana <b>& "Jo"</b>', "100% O'Brien {x} %(name)s", "Zoë 山田 — ñandú"],
        ["recipientname", "unsubscribeurl", "Hello\\1 \\g<0>"],
    ],
)
def test_an_email_rendered_once_for_many_members_says_what_it_says_to_each(
    monkeypatch, session, make, forum, plan, names
):
    actor = make.member(forum, name="Marta <i>&</i> Co").user
    members = [
        make.member(forum, locale=locale, name=f"{name} {locale}").user
        for name in names
        for locale in ("es", "en", "pt")
    ]
    renders = []
    render_email = mail.render_email
    monkeypatch.setattr(
        mail, "render_email", lambda *a, **k: renders.append(a[0]) or render_email(*a, **k)
    )
    notify_many(
        [m.id for m in members],
        "cosponsor_invited",  # "my amendments": immediately by default
        plan,
        forum=forum,
        actor=actor,
        label="E7",
        ref="2.1",
    )
    session.commit()
    assert sorted(renders) == ["en", "es", "pt"]  # once per language, not per member

    monkeypatch.setattr(mail, "render_email", render_email)
    for member in members:
        [message] = outbox(session, member.email)
        [notification] = session.scalars(
            select(Notification).where(Notification.user_id == member.id)
        )
        alone = email_rendering.render_message(
            member, "notification", f"notification:{notification.id}", notification=notification
        )
        assert message.recipient == member.email == alone["recipient"]
        assert (message.subject, message.locale) == (alone["subject"], member.locale)
        assert _whose_tokens(message.body_text) == _whose_tokens(alone["body_text"])
        assert _whose_tokens(message.body_html) == _whose_tokens(alone["body_html"])
        assert {k: _whose_tokens(v) for k, v in message.headers.items()} == {
            k: _whose_tokens(v) for k, v in alone["headers"].items()
        }
        assert f"<user {member.id}>" in _whose_tokens(message.body_text)
        assert str(escape(member.display_name)) in message.body_html
        assert member.display_name in message.body_text


def test_a_member_without_a_zone_told_of_a_forum_without_one_reads_their_other_forums(
    session, make, forum, plan
):
    from datetime import UTC, datetime

    from consult.consultations import services as consultations

    elsewhere = make.forum()
    other_plan = plans.import_plan(None, elsewhere, "Otro plan\n\n1. Punto.\n")
    consultations.create_consultation(
        None,
        other_plan,
        title="Consulta",
        timezone="America/Bogota",
        phases=[
            consultations.PhaseInput(
                "amendments", datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC)
            )
        ],
    )
    both = make.member(forum, locale="es").user
    make.member(elsewhere, both)
    only_here = make.member(forum, locale="es").user
    session.commit()
    for user in (both, only_here):
        notification = notify(user.id, "plan_approved", plan, forum=forum, title=plan.title)
        session.flush()
        notification.created_at = datetime(2026, 12, 10, 22, 0, tzinfo=UTC)
    session.commit()
    [to_both] = outbox(session, both.email)
    [to_one] = outbox(session, only_here.email)
    assert "10 dic 2026, 17:00 (hora de Bogotá)" in to_both.body_text
    assert "Bogotá" not in to_one.body_text
