"""The assembly in session (issue 18), in four browsers at once: the chair at
the console (es), the room's projector at 1920x1080 (es), and two delegates
on their phones at 390 px (pt and en), one of whom carries the other's vote.

Delegates check in, two of them speak, a ranked vote settles two competing
amendments of one item, a yes/no vote another amendment, the plan is approved,
the session adjourned, and its minutes (draft, then signed by the chair) say
what happened. After each of the chair's clicks the projector and the phones
change by themselves within 2 s, without a reload.

The live server of the journeys has no Redis: its events go through the
process's memory log (consult.live.MemoryStore), which its threads share, so
the pages get them by Server-Sent Events, not by polling (live.js polls every
4 s, which would not hold the 2 s)."""

import os
from datetime import timedelta

from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from consult.amendments import lifecycle
from consult.assembly import queries, sessions
from consult.assembly.models import AssemblySession, SessionState
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.extensions import db
from consult.plans.models import Plan
from consult.votes.models import Participation, Poll

from . import world as w

# ASSEMBLY_JOURNEY_LOCALES=en,en,en,en runs it all in English (the pages
# before their translations exist); the journey itself is in es, pt, en, es.
CHAIR, PHONE_A, PHONE_B, ROOM = os.environ.get("ASSEMBLY_JOURNEY_LOCALES", "es,pt,en,es").split(",")
LIVE = 2000  # ms: what "changes by itself" may take
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}


def _said(journey, locale: str, text) -> str:
    """A label as a page in ``locale`` shows it."""
    with journey.app_context(), force_locale(locale):
        return str(text)


def _meeting(journey):
    """A forum, its plan, three amendments put to the assembly (two competing
    on the first item, one on the second), three delegates and an observer
    whose laptop drives the room's screen, a consultation in its assembly
    phase and a session called with its agenda proposed from the plan."""
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("asamblea", "es")
        facilitator.locale = CHAIR
        ana = w.person(forum, name="Ana Beatriz Souza", locale=PHONE_A, country="BR", delegate=True)
        kevin = w.person(forum, name="Kevin Baptiste", locale=PHONE_B, country="TT", delegate=True)
        absent = w.person(forum, name="Dario Ausente", locale="es", delegate=True)
        room = w.person(forum, "observer", name="Pantalla de la sala", locale=ROOM)
        db.session.commit()
        first, second = place.items[0], place.items[1]
        texts = [
            (ana, first, "Promover la cooperación regional y comunitaria en energías renovables."),
            (kevin, first, "Promover la cooperación internacional en energías renovables."),
            (kevin, second, "Intercambiar experiencias sobre eficiencia energética."),
        ]
        amendments = []
        for author, key, text in texts:
            amendment = w.amendment(author, plan, key, text)
            lifecycle.decide(facilitator, amendment, "admitted")
            lifecycle.decide(facilitator, amendment, "voting")
            amendments.append(amendment)
        db.session.commit()
        now = utcnow().replace(second=0, microsecond=0)
        consultation = consultations.create_consultation(
            facilitator,
            plan,
            title="Consulta sobre el plan de acción",
            timezone="America/Bogota",
            phases=[PhaseInput("assembly", now - timedelta(hours=1), now + timedelta(days=1))],
        )
        consultations.advance_due()
        db.session.commit()
        with force_locale(CHAIR):  # the agenda's titles, as the chair's page would make them
            meeting = sessions.create_session(
                facilitator,
                consultation,
                sessions.SessionInput(
                    title="Asamblea de aprobación del plan",
                    starts_at=now,
                    place="Sala 3",
                    chair_id=facilitator.id,
                ),
            )
        db.session.commit()
        titles = [point.title for point in queries.points(meeting)]
        base = f"/forums/{forum.slug}/assembly/{meeting.id}"
        facts = {
            "base": base,
            "session_id": meeting.id,
            "sessions": f"/forums/{forum.slug}/consultations/{consultation.id}/assembly",
            "titles": titles,
            "labels": [a.label for a in amendments],
            "names": {"ana": ana.display_name, "kevin": kevin.display_name},
            "absent": absent.display_name,
        }
        place.emails.update(ana=ana.email, kevin=kevin.email, room=room.email)
    return place, facts


def _open(journey, locale, who, email, path, viewport, step):
    person = journey.person(locale, who)
    person.page.set_viewport_size(viewport)
    person.live_urls = []  # which way the events came: the stream, or polling
    person.page.on(
        "request", lambda request: "/live/" in request.url and person.live_urls.append(request.url)
    )
    person.sign_in(email, w.PASSWORD)
    person.go(path, step)
    return person


def _mark(people) -> None:
    for person in people:
        person.page.evaluate("window.__marker = 1")


def _unreloaded(people) -> None:
    for person in people:
        assert person.page.evaluate("window.__marker") == 1, f"{person.who}'s page was reloaded"


def _live(people, action, *expected) -> None:
    """Do ``action`` (someone's click), then each (person, selector, text)
    shows within 2 s on a page that was not reloaded."""
    _mark(people)
    action()
    for person, selector, text in expected:
        shown = person.page.locator(selector).first
        if text is None:
            expect(shown).to_be_visible(timeout=LIVE)
        else:
            expect(shown).to_contain_text(text, timeout=LIVE)
    _unreloaded(people)


def _fits(person) -> None:
    wide = person.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wide <= 0, f"{person.who}: the page scrolls sideways by {wide}px"


def _vote_yes_no(person, phone_path, prefix, choice, step=None):
    person.page.check(f"#{prefix}-{choice}")
    person.click(f"#{prefix}-{choice} >> xpath=ancestor::form//button[@type='submit']", step)
    person.go(phone_path)


def test_a_session_runs_live_in_four_browsers(journey):
    journey.name = "assembly-session"
    place, facts = _meeting(journey)
    base, titles, names = facts["base"], facts["titles"], facts["names"]
    phone_path = f"{base}/phone"

    chair = journey.person(CHAIR, "chair")
    chair.sign_in(place.emails["facilitator"], w.PASSWORD)
    chair.go(facts["sessions"], "sessions")
    chair.go(facts["sessions"] + "/new", "call-a-session")
    chair.go(base, "session-page")
    chair.click(f"a[href='{base}/console']", "console-called")
    room = _open(
        journey,
        ROOM,
        "projector",
        place.emails["room"],
        f"{base}/projector",
        PROJECTOR,
        "projector-called",
    )
    ana = _open(journey, PHONE_A, "delegate ana", place.emails["ana"], phone_path, PHONE, "phone-a")
    kevin = _open(
        journey, PHONE_B, "delegate kevin", place.emails["kevin"], phone_path, PHONE, "phone-b"
    )
    watchers = [room, ana, kevin]
    for phone in (ana, kevin):
        _fits(phone)

    # --- check-in, from the phones; the console and the projector count them -----------
    _live(
        [chair, room, kevin],
        lambda: ana.click(f"form[action='{base}/check-in'] button"),
        (chair, ".console-presence .roll li.is-present", names["ana"]),
        (room, ".presence-figure", "1"),
    )
    ana.check("phone-a-checked-in")
    _live(
        [chair, room, ana],
        lambda: kevin.click(f"form[action='{base}/check-in'] button"),
        (room, ".presence-figure", "2"),
    )
    kevin.check("phone-b-checked-in")

    # --- the chair opens the session: the first point is on the floor everywhere ---------
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/start'] button"),
        (room, ".projector-point h2", titles[0]),
        (ana, ".phone-point .point-title", titles[0]),
        (kevin, ".phone-point .point-title", titles[0]),
    )
    chair.check("console-first-point")
    room.check("projector-first-point")
    ana.check("phone-a-first-point")
    _fits(ana)

    # --- two speakers ask, the chair calls them ------------------------------------------
    for phone, side, key in ((ana, "for", "ana"), (kevin, "against", "kevin")):
        phone.page.check(f"#phone-side-{side}")
        _live(
            [chair, room],
            lambda phone=phone: phone.click("form.speak button[type=submit]"),
            (chair, ".console-speakers .queue", names[key]),
            (room, ".projector-speakers .queue", names[key]),
        )
    kevin.check("phone-b-queued")
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/speakers/next'] button"),
        (room, ".speaker-now", names["ana"]),
        (ana, ".speaker-now", names["ana"]),
        (kevin, ".speaker-now", names["ana"]),
    )
    expect(room.page.locator(".projector-countdown time")).to_have_count(1)
    room.check("projector-speaker")
    kevin.check("phone-b-second-in-line")
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/speakers/next'] button"),
        (room, ".speaker-now", names["kevin"]),
        (ana, ".speaker-now", names["kevin"]),
        (kevin, ".speaker-now", names["kevin"]),
    )
    chair.check("console-speaker")
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/speakers/finish'] button"),
    )
    for person in watchers:
        expect(person.page.locator(".speaker-now")).to_have_count(0, timeout=LIVE)

    # --- a ranked vote between the two competing amendments ------------------------------
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/vote/open'] button"),
        (room, ".projector-side .vote-open", None),
        (ana, ".phone-vote form.ballot", None),
        (kevin, ".phone-vote form.ballot", None),
    )
    for person in watchers:
        expect(person.page.locator(".vote-open")).to_have_count(1, timeout=LIVE)
    room.check("projector-ranked-open")
    ana.check("phone-a-ranked-ballot")
    _fits(ana)
    first, second = facts["labels"][0], facts["labels"][1]
    for phone, order in ((ana, (first, second)), (kevin, (first,))):  # E1 convinced
        ballot = phone.page.locator(".phone-vote form.ballot").first
        for rank, label in enumerate(order, start=1):
            ballot.get_by_label(label, exact=True).select_option(str(rank))
        phone.click(
            ".phone-vote form.ballot button[type=submit]", "receipt" if phone is ana else None
        )
        phone.go(phone_path)
    ana.check("phone-a-voted")
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/vote/close'] button"),
        (room, ".vote-result .result-line", first),
        (ana, ".vote-result .result-line", first),
    )
    for person in watchers:
        expect(person.page.locator(".vote-result")).to_have_count(1, timeout=LIVE)
    room.check("projector-ranked-result")
    kevin.check("phone-b-ranked-result")

    # --- a yes/no vote on the other amendment, Ana's vote carried by Kevin -----------------
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/move-on'] button"),
        (room, ".projector-point h2", titles[1]),
        (ana, ".phone-point .point-title", titles[1]),
        (kevin, ".phone-point .point-title", titles[1]),
    )
    room.check("projector-second-point")
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/vote/open'] button"),
        (ana, ".phone-vote form.proxy", None),
    )
    for person in watchers:
        expect(person.page.locator(".vote-open")).to_have_count(1, timeout=LIVE)
    ana.page.locator("form.proxy select").select_option(label=names["kevin"])
    ana.click("form.proxy button[type=submit]", "phone-a-proxy-handed")
    kevin.go(phone_path, "phone-b-carries-a-vote")
    _vote_yes_no(kevin, phone_path, "phone-own", "yes")
    proxy_ballot = kevin.page.locator(".phone-vote form.ballot input[name=on_behalf_of]")
    grantor = proxy_ballot.first.get_attribute("value")
    _vote_yes_no(kevin, phone_path, f"phone-proxy-{grantor}", "yes", "receipt-by-proxy")
    kevin.check("phone-b-voted-twice")
    expect(kevin.page.locator(".phone-vote .receipt-note")).to_have_count(2)
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/vote/close'] button"),
        (room, ".vote-result", None),
    )
    for person in watchers:
        expect(person.page.locator(".vote-result")).to_have_count(1, timeout=LIVE)
    room.check("projector-yes-no-result")

    # --- the final approval of the plan --------------------------------------------------
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/move-on'] button"),
        (room, ".projector-point h2", titles[-1]),
        (ana, ".phone-point .point-title", titles[-1]),
        (kevin, ".phone-point .point-title", titles[-1]),
    )
    _live(watchers, lambda: chair.click(f"form[action='{base}/vote/open'] button"))
    for person in watchers:
        expect(person.page.locator(".vote-open")).to_have_count(1, timeout=LIVE)
    room.check("projector-approval-open")
    # Ballots are not the chair's: the projector's turnout follows them by its
    # periodic refresh (data-live-every, 5 s), still without a reload.
    # The chair's keyboard focus, on the button to close the vote, stays there.
    _mark([room, chair])
    closing = f"form[action='{base}/vote/close'] button"
    chair.page.locator(closing).focus()
    for phone in (ana, kevin):
        _vote_yes_no(phone, phone_path, "phone-own", "yes")
    for person in (room, chair):
        expect(person.page.locator(".vote-open")).to_contain_text("2", timeout=6000)
    _unreloaded([room, chair])
    assert chair.page.evaluate("(s) => document.activeElement.matches(s)", closing)
    _live(watchers, lambda: chair.click(f"form[action='{base}/vote/close'] button"))
    for person in watchers:
        expect(person.page.locator(".vote-result")).to_have_count(1, timeout=LIVE)
    room.check("projector-approved")
    chair.check("console-approved")

    # --- adjourn ---------------------------------------------------------------------------
    adjourned = _said(journey, ROOM, SessionState.ADJOURNED.label)
    _live(
        watchers,
        lambda: chair.click(f"form[action='{base}/adjourn'] button"),
        (room, ".projector-state", adjourned),
    )
    room.check("projector-adjourned")
    ana.check("phone-a-adjourned")

    # The events came by Server-Sent Events (each page's stream stayed open),
    # not by the polling fallback.
    for person in watchers:
        assert any(url.split("?")[0].endswith("/events") for url in person.live_urls), person.who
        assert not [url for url in person.live_urls if "/since" in url], person.who

    # --- the minutes: the draft, then signed by the chair --------------------------------
    chair.go(base)
    chair.click(f"a[href^='{base}/minutes']", "minutes-draft")
    _minutes_tell_what_happened(chair, facts)
    chair.click(f"form[action*='{base}/minutes/sign'] button[type=submit]", "minutes-signed")
    _minutes_tell_what_happened(chair, facts)
    expect(chair.page.locator(f"form[action*='{base}/minutes/sign']")).to_have_count(0)

    with journey.app_context():
        meeting = db.session.get(AssemblySession, facts["session_id"])
        assert meeting.state is SessionState.ADJOURNED
        assert meeting.minutes_signed
        polls = [db.session.get(Poll, point.poll_id) for point in queries.points(meeting)]
        assert [poll.state for poll in polls] == ["closed", "closed", "closed"]
        assert polls[1].winner == "yes" and polls[2].winner == "yes"
        by_proxy = db.session.scalars(
            select(Participation).where(Participation.poll_id == polls[1].id)
        ).all()
        assert sorted((p.voter_id == p.cast_by_id) for p in by_proxy) == [False, True]
        assert plan_status(place.plan_id) == "approved"


def plan_status(plan_id: int) -> str:
    return db.session.get(Plan, plan_id).status


def _minutes_tell_what_happened(chair, facts) -> None:
    """Who was present, who spoke on which point, which amendments each vote
    was about, as the page tells them (in any language)."""
    page, names = chair.page, facts["names"]
    present = page.locator(".minutes table").first
    for name in names.values():
        expect(present).to_contain_text(name)
    expect(present).not_to_contain_text(facts["absent"])
    points = page.locator(".minutes-point")
    expect(points).to_have_count(3)
    for point, title in zip(points.all(), facts["titles"], strict=True):
        expect(point.locator("h3")).to_contain_text(title)
    speakers = points.nth(0).locator("table").first.locator("tbody tr")
    expect(speakers).to_have_count(2)
    expect(speakers.nth(0)).to_contain_text(names["ana"])
    expect(speakers.nth(1)).to_contain_text(names["kevin"])
    first, second, third = facts["labels"]
    expect(points.nth(0)).to_contain_text(first)
    expect(points.nth(0)).to_contain_text(second)
    expect(points.nth(1)).to_contain_text(third)
    for point in points.all():
        expect(point.locator(".outcome").first).to_be_visible()
