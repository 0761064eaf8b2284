"""Calendars: a consultation's phases and votes as an .ics file, and a secret
per-member feed of what concerns that member across forums, read back with a
real iCalendar parser (icalendar)."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar
from sqlalchemy import select

from consult.accounts.models import User
from consult.votes import setup as votes_setup
from consult.votes.models import PollVoter
from tests.factories import sign_in


def said(app, locale: str, message: str, **values) -> str:
    """What the calendar says in ``locale`` (its catalog's words, not English)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(locale):
        return gettext(message, **values)


def phase_summary(app, locale, consultation, phase):
    return said(app, locale, "%(consultation)s: %(phase)s", consultation=consultation, phase=phase)


def vote_summary(app, locale, title):
    return said(app, locale, "Vote: %(title)s", title=title)


# Madrid's clocks go back on 31 October 2027: the first phase spans the change.
START = datetime(2027, 10, 27, 13, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def consultation_in(make, forum, title="Consulta", text="Plan\n\n1. Punto.\n"):
    return make.consultation(
        make.plan(forum, text, open_for_input=False),
        [
            ("amendments", START, START + 5 * DAY),
            ("voting", START + 5 * DAY, START + 7 * DAY),
        ],
        title=title,
        timezone="America/Bogota",
    )


def another_plan(make, forum):
    return make.plan(forum, "Otro plan\n\n1. Punto.\n", open_for_input=False)


def assembly_poll(session, facilitator, plan, title, opens_at):
    """A vote on approving ``plan`` (one at a time per plan: the forum needs a delegate)."""
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=opens_at,
        closes_at=opens_at + DAY,
    )
    poll.title = title
    session.commit()
    return poll


def events(body: bytes) -> dict[str, dict]:
    """The events of an .ics, by summary, as a real parser reads them."""
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    found = {}
    for event in calendar.walk("VEVENT"):
        found[str(event["SUMMARY"])] = {
            "uid": str(event["UID"]),
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND") if "DTEND" in event else None,
            "stamp": event.decoded("DTSTAMP"),
            "description": str(event.get("DESCRIPTION", "")),
            "url": str(event.get("URL", "")),
        }
    return found


def test_a_consultations_calendar_has_its_phases_and_votes_at_the_right_utc_instants(
    app, client, session, make, forum, facilitator
):
    consultation = consultation_in(make, forum)
    delegate = make.member(forum)
    delegate.is_delegate = True
    session.commit()
    assembly_poll(session, facilitator, consultation.plan, "Aprobación del plan", START + 5 * DAY)
    member = make.member(forum, locale="es").user
    sign_in(client, member)
    url = f"/forums/{forum.slug}/consultations/{consultation.id}/calendar.ics"
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    found = events(response.data)
    amendments = found[
        phase_summary(app, "es", "Consulta", "Enmiendas")
    ]  # in the member's language
    assert amendments["start"] == START  # 2026-10-20 13:00 UTC, an aware UTC instant
    assert amendments["start"].utcoffset() == timedelta(0)
    assert amendments["end"] == START + 5 * DAY
    voting = found[phase_summary(app, "es", "Consulta", "Votación")]
    assert (voting["start"], voting["end"]) == (START + 5 * DAY, START + 7 * DAY)
    vote = found[vote_summary(app, "es", "Aprobación del plan")]
    assert (vote["start"], vote["end"]) == (START + 5 * DAY, START + 6 * DAY)
    assert f"/forums/{forum.slug}/polls/" in vote["url"]
    # The times in the text are the reader's (the forum's zone: Bogotá, UTC-5).
    assert "27 oct 2027, 8:00 (hora de Bogotá)" in amendments["description"]
    # A second download describes the same events (calendar applications update them).
    again = events(client.get(url).data)
    assert {e["uid"] for e in again.values()} == {e["uid"] for e in found.values()}
    assert len({e["uid"] for e in found.values()}) == 3
    # The consultation's page links to it.
    page = client.get(f"/forums/{forum.slug}/consultations/{consultation.id}")
    assert url in page.get_data(as_text=True)


def test_a_private_consultations_calendar_is_hidden_from_outsiders(client, session, make, forum):
    consultation = consultation_in(make, forum)
    url = f"/forums/{forum.slug}/consultations/{consultation.id}/calendar.ics"
    assert client.get(url).status_code == 404
    sign_in(client, make.member(make.forum()).user)
    assert client.get(url).status_code == 404


def make_feed(client, user) -> str:
    sign_in(client, user)
    response = client.post("/profile/calendar")
    assert response.status_code == 302
    page = client.get("/profile").get_data(as_text=True)
    marker = 'id="calendar-feed-url" value="'
    url = page.split(marker)[1].split('"')[0]
    client.post("/sign-out")
    return urlsplit(url).path.lstrip("/")


def test_the_feed_holds_what_concerns_the_member_and_nothing_else(
    app, client, session, make, forum, facilitator
):
    other_forum = make.forum()
    mine = consultation_in(make, forum, title="Mía")
    consultation_in(make, other_forum, title="Ajena")
    delegate = make.member(forum, locale="pt")
    delegate.is_delegate = True
    member = delegate.user
    member.timezone = "Europe/Madrid"
    not_delegate = make.member(forum).user
    session.commit()
    to_come = assembly_poll(session, facilitator, mine.plan, "Para votar", START + 5 * DAY)
    # A vote that opened with its electorate frozen: the member in it, or not.
    open_with_me = assembly_poll(session, facilitator, another_plan(make, forum), "Abierta", START)
    open_without_me = assembly_poll(
        session, facilitator, another_plan(make, forum), "Sin mí", START
    )
    for poll, voters in ((open_with_me, [member]), (open_without_me, [not_delegate])):
        poll.state, poll.opened_at = "open", START
        for voter in voters:
            session.add(PollVoter(poll_id=poll.id, user_id=voter.id))
    cancelled = assembly_poll(
        session, facilitator, another_plan(make, forum), "Cancelada", START + DAY
    )
    cancelled.state = "cancelled"
    session.commit()

    path = make_feed(client, member)
    response = client.get("/" + path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "no-referrer" in response.headers["Referrer-Policy"]
    found = events(response.data)
    assert set(found) == {
        phase_summary(app, "pt", "Mía", "Emendas"),  # the member's language, whatever the request's
        phase_summary(app, "pt", "Mía", "Votação"),
        vote_summary(app, "pt", "Para votar"),
        vote_summary(app, "pt", "Abierta"),
    }
    assert found[vote_summary(app, "pt", "Para votar")]["end"] == to_come.closes_at
    assert found[vote_summary(app, "pt", "Abierta")]["end"] == START + DAY
    # Described in the member's zone (Madrid: CEST until 31 October, CET after).
    assert (
        "27 de out. de 2027 15:00 (Horário Madri)"
        in found[phase_summary(app, "pt", "Mía", "Emendas")]["description"]
    )
    assert (
        "1 de nov. de 2027 14:00 (Horário Madri)"
        in found[phase_summary(app, "pt", "Mía", "Emendas")]["description"]
    )

    # The member who is not a delegate has only the phases and the vote they are in.
    other_path = make_feed(client, not_delegate)
    assert set(events(client.get("/" + other_path).data)) == {
        phase_summary(app, "es", "Mía", "Enmiendas"),
        phase_summary(app, "es", "Mía", "Votación"),
        vote_summary(app, "es", "Sin mí"),
    }


def test_the_feed_address_is_secret_and_can_be_reset(client, session, make, forum):
    consultation_in(make, forum)
    user = make.member(forum).user
    assert client.get(f"/calendar/{user.id}/anything.ics").status_code == 404  # none made yet
    path = make_feed(client, user)
    assert client.get("/" + path).status_code == 200
    user_id, key = path.removeprefix("calendar/").removesuffix(".ics").split("/")
    assert int(user_id) == user.id and len(key) >= 32
    wrong = key[:-1] + ("y" if key.endswith("x") else "x")  # one character off
    assert client.get(f"/calendar/{user.id}/{wrong}.ics").status_code == 404
    other = make.member(forum).user
    assert client.get(f"/calendar/{other.id}/{key}.ics").status_code == 404  # not theirs
    new_path = make_feed(client, user)  # reset from the profile
    assert new_path != path
    assert client.get("/" + path).status_code == 404
    assert client.get("/" + new_path).status_code == 200
    # A deactivated account's feed is gone.
    session.get(User, user.id).active = False
    session.commit()
    assert client.get("/" + new_path).status_code == 404


def test_the_feed_needs_no_session_but_the_reset_does(client, session, make, forum):
    make.member(forum)
    response = client.post("/profile/calendar")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert session.scalar(select(User.calendar_key).where(User.calendar_key.is_not(None))) is None
