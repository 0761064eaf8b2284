"""Every date in the reader's time zone and language, named, without seconds:
on a page, in an email and in a digest (Bogotá, São Paulo and Madrid; es, en
and pt; across Madrid's change of clocks on 25 October 2026, at 01:00 UTC).
Digests go out at the member's own local hour. Members choose their zone on
the profile (their forums' countries first, a city typed without JavaScript)
and are offered their browser's at their first sign-in."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from consult.accounts.models import User
from consult.extensions import db
from consult.notification_delivery import digests as notification_digests
from consult.notifications.services import notify
from tests.factories import ONE_ITEM_PLAN, PASSWORD, outbox, sign_in

NNBSP = "\u202f"  # CLDR's narrow no-break space before AM/PM in English
# Madrid's clocks go back from 03:00 CEST to 02:00 CET at 01:00 UTC on this day.
BEFORE_CHANGE = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)  # 00:30 CEST in Madrid
AFTER_CHANGE = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)  # 11:00 CET in Madrid
SECONDS = re.compile(r"\d:\d\d:\d\d")

# (zone, language, the phase's start and end as that reader must read them)
READERS = [
    (
        "America/Bogota",
        "es",
        "24 oct 2026, 17:30 (hora de Bogotá)",
        "25 oct 2026, 5:00 (hora de Bogotá)",
    ),
    (
        "America/Sao_Paulo",
        "pt",
        "24 de out. de 2026 19:30 (Horário São Paulo)",
        "25 de out. de 2026 07:00 (Horário São Paulo)",
    ),
    (
        "Europe/Madrid",
        "en",
        f"Oct 25, 2026, 12:30{NNBSP}AM (Madrid Time)",
        f"Oct 25, 2026, 11:00{NNBSP}AM (Madrid Time)",  # CET: 12:00 with summer's offset
    ),
    (
        "Europe/Madrid",
        "es",
        "25 oct 2026, 0:30 (hora de Madrid)",
        "25 oct 2026, 11:00 (hora de Madrid)",
    ),
]


@pytest.fixture
def forum(make):
    return make.forum(public=True)


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, ONE_ITEM_PLAN, open_for_input=False)


@pytest.fixture
def consultation(make, plan):
    return make.consultation(
        plan,
        [("amendments", BEFORE_CHANGE, AFTER_CHANGE)],
        title="Consulta regional",
        timezone="America/Bogota",
    )


def calendar_section(page: str) -> str:
    return page.split('id="calendar-heading"')[1].split("</section>")[0]


# --- on a page ----------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "language", "start", "end"), READERS)
def test_a_page_shows_dates_in_the_readers_zone_and_language(
    client, session, make, forum, consultation, zone, language, start, end
):
    member = make.member(forum, locale=language).user
    member.timezone = zone
    session.commit()
    sign_in(client, member)
    page = client.get(f"/forums/{forum.slug}/consultations/{consultation.id}").get_data(
        as_text=True
    )
    calendar = calendar_section(page)
    assert f"{start} \u2013 {end}" in calendar
    assert not SECONDS.search(calendar)


def test_a_visitor_and_a_member_who_chose_no_zone_read_the_forums_zone(
    client, make, forum, consultation
):
    bogota = "24 oct 2026, 17:30 (hora de Bogotá)"
    url = f"/forums/{forum.slug}/consultations/{consultation.id}"
    assert bogota in client.get(url, headers={"Accept-Language": "es"}).get_data(as_text=True)
    sign_in(client, make.member(forum, locale="es").user)
    assert bogota in client.get(url).get_data(as_text=True)


def test_a_date_on_another_page_follows_the_reader_too(client, session, make, forum, plan):
    """The date filter of every template (here the plan list's version date):
    22:30 UTC is already the next day in Madrid."""
    plan.current_version.created_at = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    madrid = make.member(forum, locale="en").user
    madrid.timezone = "Europe/Madrid"
    bogota = make.member(forum, locale="en").user
    bogota.timezone = "America/Bogota"
    session.commit()
    sign_in(client, madrid)
    assert "Oct 25, 2026" in client.get(f"/forums/{forum.slug}/plans/").get_data(as_text=True)
    client.post("/sign-out")
    sign_in(client, bogota)
    assert "Oct 24, 2026" in client.get(f"/forums/{forum.slug}/plans/").get_data(as_text=True)


# --- in an email --------------------------------------------------------------------


def test_one_event_is_emailed_to_each_member_in_their_zone_and_language(session, make, forum, plan):
    """Members told of the same event share one rendering per language and
    zone, never one made for another zone."""
    moment = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # after the change in Madrid
    expected = {
        ("America/Bogota", "es"): "24 oct 2026, 21:30 (hora de Bogotá)",
        ("America/Sao_Paulo", "pt"): "24 de out. de 2026 23:30 (Horário São Paulo)",
        ("Europe/Madrid", "en"): f"Oct 25, 2026, 3:30{NNBSP}AM (Madrid Time)",
        ("Europe/Madrid", "es"): "25 oct 2026, 3:30 (hora de Madrid)",
    }
    members = {}
    for zone, language in expected:
        for _copy in range(2):  # two readers alike: one shared rendering
            user = make.member(forum, locale=language).user
            user.timezone = zone
            members[user.id] = (user, (zone, language))
    session.commit()
    for user, _key in members.values():
        notification = notify(user.id, "plan_approved", plan, forum=forum, title=plan.title)
        session.flush()
        notification.created_at = moment
    session.commit()  # the email job runs inline after the commit
    for user, key in members.values():
        (message,) = outbox(session, user.email)
        assert expected[key] in message.body_text
        assert expected[key] in message.body_html
        others = [text for other, text in expected.items() if other != key]
        assert not any(text in message.body_text for text in others)
        assert not SECONDS.search(message.body_text)


def test_an_email_to_a_member_who_chose_no_zone_uses_the_forums(
    session, make, forum, plan, consultation
):
    user = make.member(forum, locale="es").user
    notification = notify(user.id, "plan_approved", plan, forum=forum, title=plan.title)
    session.flush()
    notification.created_at = datetime(2026, 12, 10, 22, 0, tzinfo=UTC)
    session.commit()
    (message,) = outbox(session, user.email)
    assert "10 dic 2026, 17:00 (hora de Bogotá)" in message.body_text


# --- in a digest, at the member's hour ----------------------------------------------


def member_with_digest(session, make, forum, *, zone, hour, language, now=None):
    user = make.member(forum, locale=language).user
    user.timezone, user.digest_hour = zone, hour
    notification_digests.change_preference(
        user, "daily", now=now or datetime(2026, 10, 23, 12, tzinfo=UTC)
    )
    session.commit()
    return user


def test_digests_go_out_at_each_members_local_hour_across_the_change_of_clocks(
    session, make, forum
):
    madrid = member_with_digest(session, make, forum, zone="Europe/Madrid", hour=8, language="en")
    bogota = member_with_digest(session, make, forum, zone="America/Bogota", hour=18, language="es")
    # 08:00 in Madrid: 06:00 UTC in summer time, 07:00 UTC once the clocks went back.
    assert madrid.next_digest_at == datetime(2026, 10, 24, 6, 0, tzinfo=UTC)
    assert notification_digests.next_digest_slot(
        "daily", madrid.next_digest_at, madrid
    ) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    # 18:00 in Bogotá (no summer time) is 23:00 UTC every day.
    assert bogota.next_digest_at == datetime(2026, 10, 23, 23, 0, tzinfo=UTC)
    assert notification_digests.next_digest_slot(
        "daily", bogota.next_digest_at, bogota
    ) == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)


def test_a_member_without_an_hour_or_zone_keeps_the_platforms(app, session, make, forum):
    user = make.member(forum).user
    notification_digests.change_preference(
        user, "daily", now=datetime(2026, 10, 23, 12, tzinfo=UTC)
    )
    hour, zone = app.config["DIGEST_HOUR"], app.config["DIGEST_TIMEZONE"]
    assert zone == "UTC"
    assert user.next_digest_at == datetime(2026, 10, 24, hour, 0, tzinfo=UTC)


def test_a_digest_is_sent_at_the_local_hour_with_its_dates_in_the_members_zone(
    session, make, forum, plan
):
    chosen_at = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    user = member_with_digest(
        session, make, forum, zone="Europe/Madrid", hour=8, language="pt", now=chosen_at
    )
    for moment in (
        datetime(2026, 10, 24, 20, 0, tzinfo=UTC),  # 22:00 CEST
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),  # 01:30 CEST, the night of the change
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, after it
    ):
        notification = notify(user.id, "plan_approved", plan, forum=forum, title=plan.title)
        session.flush()
        notification.created_at = moment
    session.commit()
    due = datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert notification_digests.send_due_digests(due - timedelta(minutes=1)) == 0
    assert notification_digests.send_due_digests(due) == 1
    (digest,) = [m for m in outbox(session, user.email) if m.idempotency_key.startswith("digest:")]
    for text in (
        "24 de out. de 2026 22:00 (Horário Madri)",
        "25 de out. de 2026 01:30 (Horário Madri)",
        "25 de out. de 2026 02:30 (Horário Madri)",
    ):
        assert text in digest.body_text
        assert text in digest.body_html
    assert not SECONDS.search(digest.body_text)
    session.refresh(user)
    assert user.next_digest_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)


def test_changing_the_zone_or_hour_on_the_profile_moves_the_next_digest(client, session, make):
    user = make.user(locale="en")
    notification_digests.change_preference(user, "daily")
    session.commit()
    sign_in(client, user)
    response = client.post(
        "/profile",
        data={
            "display_name": user.display_name,
            "locale": "en",
            "country": "",
            "notification_preference": "daily",
            "timezone": "America/Sao_Paulo",
            "digest_hour": "19",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    saved = session.get(User, user.id)
    assert (saved.timezone, saved.digest_hour) == ("America/Sao_Paulo", 19)
    slot = saved.next_digest_at.astimezone(UTC)
    assert (slot.hour, slot.minute) == (22, 0)  # 19:00 in São Paulo


# --- choosing a zone --------------------------------------------------------------------


def test_the_profile_lists_zones_by_region_with_the_forums_countries_first(
    client, session, make, forum
):
    make.coalition(forum, country="BR")
    user = make.member(forum, locale="es").user
    sign_in(client, user)
    page = client.get("/profile").get_data(as_text=True)
    select_html = re.search(r'<select[^>]* name="timezone"[^>]*>(.*?)</select>', page, re.S)[1]
    groups = re.findall(r'<optgroup label="([^"]+)">', select_html)
    with client.application.test_request_context(), force_locale("es"):
        expected = [gettext("Universal time"), gettext("Americas"), gettext("Europe")]
    assert expected[0] != "Universal time", "the Spanish catalog is in use"
    assert groups[1:4] == expected
    first_group = select_html.split("</optgroup>")[0]
    assert 'value="America/Sao_Paulo"' in first_group and "São Paulo (Brasil)" in first_group
    assert 'value="Europe/Madrid"' not in first_group
    assert len(groups) >= 10
    # Every zone appears once in the list (a city typed is matched to one of them).
    values = re.findall(r'<option[^>]* value="([^"]+)"', select_html)
    assert len(values) < 500 and "US/Eastern" not in values and "Brazil/East" not in values
    assert '<datalist id="timezone-places">' in page
    assert "js/timezone.js" in page and "<script>" not in page


def profile_post(client, user, **changes):
    return client.post(
        "/profile",
        data={
            "display_name": user.display_name,
            "locale": user.locale,
            "country": "",
            "notification_preference": "immediately",
            "timezone": "UTC",
            **changes,
        },
    )


@pytest.mark.parametrize(
    ("typed", "zone"),
    [("sao paulo", "America/Sao_Paulo"), ("Bogotá", "America/Bogota"), ("Madrid", "Europe/Madrid")],
)
def test_a_city_typed_without_javascript_is_saved(client, session, make, typed, zone):
    user = make.user(locale="es")
    sign_in(client, user)
    assert profile_post(client, user, timezone_search=typed).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).timezone == zone


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone_search": "Atlantis"},
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"digest_hour": "25"},
        {"digest_hour": "seven"},
    ],
)
def test_an_unknown_zone_or_hour_is_refused_with_a_message(client, session, make, changes):
    user = make.user(locale="en")
    sign_in(client, user)
    response = profile_post(client, user, **changes)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).timezone is None


def test_the_browsers_zone_is_offered_at_the_first_sign_in_only(client, session, make):
    user = make.user(locale="en")
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "browser_timezone": "Europe/Madrid"},
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "Madrid Time, the time zone of your device" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).timezone == "Europe/Madrid"
    client.post("/sign-out")
    # Chosen once: another device's zone does not replace it.
    client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "browser_timezone": "Asia/Tokyo"},
    )
    session.expire_all()
    assert session.get(User, user.id).timezone == "Europe/Madrid"


def test_a_bad_browser_zone_is_ignored(client, session, make):
    user = make.user()
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "browser_timezone": "Not/AZone"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, user.id).timezone is None


def test_an_alias_from_the_browser_is_read_as_its_place(client, session, make):
    user = make.user()
    client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "browser_timezone": "Asia/Calcutta"},
    )
    session.expire_all()
    assert session.get(User, user.id).timezone == "Asia/Kolkata"
    assert db.session.scalar(select(User.timezone).where(User.id == user.id)) == "Asia/Kolkata"


def test_an_invitation_gives_its_last_day_in_the_forums_zone(
    monkeypatch, session, make, forum, consultation
):
    """Any email with a ``user`` (here an invitation) is dated in that person's
    zone: the forum's, for someone who has not chosen one yet."""
    from consult.forums import invitations as forum_invitations

    # 03:00 UTC on 26 November: 14 days later is 10 December, still the 9th in Bogotá.
    monkeypatch.setattr(
        forum_invitations, "utcnow", lambda: datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    )
    forum_invitations.invite(
        None, forum, email="nueva@example.org", display_name="Nueva", locale="es"
    )
    session.commit()
    (message,) = outbox(session, "nueva@example.org")
    assert "9 de diciembre de 2026" in message.body_text
    assert "10 de diciembre de 2026" not in message.body_text
