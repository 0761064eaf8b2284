"""The assembly in session (issue 18) in four browsers: the chair's console (es),
the projector at 1920x1080 (es), two delegates' phones at 390 px (pt, en), one
carrying the other's vote. Check-in, two speakers, a ranked vote between two
competing amendments, a yes/no vote, the approval, adjournment, the minutes.
After each of the chair's clicks the projector and phones change within 2 s
without a reload: by Server-Sent Events (the journeys' server has no Redis;
its threads share consult.live's memory log), not by 4 s polling."""

import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from consult.amendments import lifecycle
from consult.assembly import queries, sessions
from consult.assembly.models import AssemblySession, SessionState
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.extensions import db
from consult.plans.models import Plan
from consult.votes.models import Participation, Poll

from . import world as w

# The languages of the chair, the two phones and the room's screen. The journey
# runs three times, so that axe checks each page in es, en and pt. The agenda's
# titles and outcomes are said in each reader's language (assembly/wording.py),
# whoever called the session: the third run has a chair in English beside
# phones in Spanish and Portuguese.
# ASSEMBLY_JOURNEY_LOCALES=en,en,en,en runs it once, as given.
ROTATIONS = (
    [os.environ["ASSEMBLY_JOURNEY_LOCALES"]]
    if "ASSEMBLY_JOURNEY_LOCALES" in os.environ
    else [
        "es,pt,en,es",
        "pt,en,es,pt",
        "en,es,pt,en",
    ]
)
CHAIR, PHONE_A, PHONE_B, ROOM = ROTATIONS[0].split(",")
LIVE = 2000  # ms: what "changes by itself" may take
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
CHECKSUM = re.compile(r"\b[0-9a-f]{64}\b")  # SHA-256, as the minutes show it


def _people_and_amendments(place, forum, plan, facilitator):
    """Three delegates (one stays away), the room screen's observer, and three
    amendments put to the assembly: two competing on the first item, one on the second."""
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
    place.emails.update(ana=ana.email, kevin=kevin.email, room=room.email)
    return {
        "labels": [a.label for a in amendments],
        "names": {"ana": ana.display_name, "kevin": kevin.display_name},
        "absent": absent.display_name,
    }


def _meeting(journey):
    """A consultation in its assembly phase, a session called (agenda from the plan)."""
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("asamblea", "es")
        facts = _people_and_amendments(place, forum, plan, facilitator)
        now = utcnow().replace(second=0, microsecond=0)
        consultation = consultations.create_consultation(
            facilitator,
            plan,
            title="Consulta sobre el plan de acción",
            timezone="America/Bogota",
            phases=[PhaseInput("assembly", now - timedelta(hours=1), now + timedelta(days=1))],
        )
        phase_scheduler.advance_due()
        db.session.commit()
        data = sessions.SessionInput(
            title="Asamblea de aprobación del plan",
            starts_at=now,
            place="Sala 3",
            chair_id=facilitator.id,
        )
        with force_locale(CHAIR):  # the agenda's titles, as the chair's page would make them
            meeting = sessions.create_session(facilitator, consultation, data)
        db.session.commit()
        facts.update(
            base=f"/forums/{forum.slug}/assembly/{meeting.id}",
            session_id=meeting.id,
            sessions=f"/forums/{forum.slug}/consultations/{consultation.id}/assembly",
            # What each point's title says in every language (its amendments, or
            # the plan's title): the pages say the rest in the reader's.
            titles=[_neutral(point.title_parts) for point in queries.points(meeting)],
        )
    return place, facts


def _neutral(parts: dict) -> str:
    if "plan" in parts:
        return parts["plan"]
    if len(parts["labels"]) == 1:
        return parts["identifier"]
    return f"{parts['short_name']} " + ", ".join(parts["labels"])


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
    person.click(f"main a[href='{phone_path}']")  # the receipt's way back to the phone


@dataclass
class Meeting:
    """The four browsers and what the journey knows of the session."""

    chair: object
    room: object
    ana: object
    kevin: object
    facts: dict

    @property
    def base(self) -> str:
        return self.facts["base"]

    @property
    def phone_path(self) -> str:
        return self.base + "/phone"

    @property
    def watchers(self) -> list:
        return [self.room, self.ana, self.kevin]

    def chair_clicks(self, action: str, *expected) -> None:
        """The chair's button ``action`` (its form's path under the session);
        the projector and phones show ``expected`` within 2 s, unreloaded."""
        button = f"form[action='{self.base}/{action}'] button"
        _live(self.watchers, lambda: self.chair.click(button), *expected)

    def floor_shows(self, title: str) -> tuple:
        return (
            (self.room, ".projector-point h2", title),
            (self.ana, ".phone-point .point-title", title),
            (self.kevin, ".phone-point .point-title", title),
        )

    def all_show(self, selector: str, count: int = 1) -> None:
        for person in self.watchers:
            expect(person.page.locator(selector)).to_have_count(count, timeout=LIVE)


def _enter(journey, place, facts) -> Meeting:
    base = facts["base"]
    chair = journey.person(CHAIR, "chair")
    chair.sign_in(place.emails["facilitator"], w.PASSWORD)
    chair.go(facts["sessions"], "sessions")
    chair.go(facts["sessions"] + "/new", "call-a-session")
    chair.go(base, "session-page")
    chair.click(f"a[href='{base}/console']", "console-called")
    emails, phone = place.emails, f"{base}/phone"
    room = _open(
        journey, ROOM, "projector", emails["room"], f"{base}/projector", PROJECTOR, "projector"
    )
    ana = _open(journey, PHONE_A, "delegate ana", emails["ana"], phone, PHONE, "phone-a")
    kevin = _open(journey, PHONE_B, "delegate kevin", emails["kevin"], phone, PHONE, "phone-b")
    for person in (ana, kevin):
        _fits(person)
    return Meeting(chair, room, ana, kevin, facts)


def _check_in_and_open(m: Meeting) -> None:
    """Delegates check in from their phones (the console and the projector
    count them), then the chair opens the session on its first point."""
    names = m.facts["names"]
    _live(
        [m.chair, m.room, m.kevin],
        lambda: m.ana.click(f"form[action='{m.base}/check-in'] button"),
        (m.chair, ".console-presence .roll li.is-present", names["ana"]),
        (m.room, ".presence-figure", "1"),
    )
    m.ana.check("phone-a-checked-in")
    _live(
        [m.chair, m.room, m.ana],
        lambda: m.kevin.click(f"form[action='{m.base}/check-in'] button"),
        (m.room, ".presence-figure", "2"),
    )
    m.kevin.check("phone-b-checked-in")
    m.chair_clicks("start", *m.floor_shows(m.facts["titles"][0]))
    m.chair.check("console-first-point")
    m.room.check("projector-first-point")
    m.ana.check("phone-a-first-point")
    _fits(m.ana)


def _two_speakers(m: Meeting) -> None:
    names = m.facts["names"]
    for phone, side, key in ((m.ana, "for", "ana"), (m.kevin, "against", "kevin")):
        phone.page.check(f"#phone-side-{side}")
        _live(
            [m.chair, m.room],
            lambda phone=phone: phone.click("form.speak button[type=submit]"),
            (m.chair, ".console-speakers .queue", names[key]),
            (m.room, ".projector-speakers .queue", names[key]),
        )
    m.kevin.check("phone-b-queued")
    for key in ("ana", "kevin"):
        m.chair_clicks(
            "speakers/next", *((person, ".speaker-now", names[key]) for person in m.watchers)
        )
        expect(m.room.page.locator(".projector-countdown time")).to_have_count(1)
        if key == "ana":
            m.room.check("projector-speaker")
            m.kevin.check("phone-b-second-in-line")
    m.chair.check("console-speaker")
    m.chair_clicks("speakers/finish")
    m.all_show(".speaker-now", 0)


def _ranked_vote(m: Meeting) -> None:
    """Between the two competing amendments: E1 wins."""
    m.chair_clicks(
        "vote/open",
        (m.room, ".projector-side .vote-open", None),
        (m.ana, ".phone-vote form.ballot", None),
        (m.kevin, ".phone-vote form.ballot", None),
    )
    m.all_show(".vote-open")
    m.room.check("projector-ranked-open")
    m.ana.check("phone-a-ranked-ballot")
    _fits(m.ana)
    first, second, _third = m.facts["labels"]
    for phone, order in ((m.ana, (first, second)), (m.kevin, (first,))):  # Kevin convinced
        ballot = phone.page.locator(".phone-vote form.ballot").first
        for rank, label in enumerate(order, start=1):
            ballot.get_by_label(label, exact=True).select_option(str(rank))
        step = "receipt" if phone is m.ana else None
        phone.click(".phone-vote form.ballot button[type=submit]", step)
        phone.click(f"main a[href='{m.phone_path}']")  # the receipt's way back
    m.ana.check("phone-a-voted")
    m.chair_clicks(
        "vote/close",
        (m.room, ".vote-result .result-line", first),
        (m.ana, ".vote-result .result-line", first),
    )
    m.all_show(".vote-result")
    m.room.check("projector-ranked-result")
    m.kevin.check("phone-b-ranked-result")


def _vote_by_proxy(m: Meeting) -> None:
    """A yes/no vote on the third amendment; Ana hands her vote to Kevin."""
    m.chair_clicks("move-on", *m.floor_shows(m.facts["titles"][1]))
    m.room.check("projector-second-point")
    m.chair_clicks("vote/open", (m.ana, ".phone-vote form.proxy", None))
    m.all_show(".vote-open")
    m.ana.page.locator("form.proxy select").select_option(label=m.facts["names"]["kevin"])
    m.ana.click("form.proxy button[type=submit]", "phone-a-proxy-handed")
    kevin = m.kevin
    kevin.go(m.phone_path, "phone-b-carries-a-vote")
    _vote_yes_no(kevin, m.phone_path, "phone-own", "yes")
    proxy_ballot = kevin.page.locator(".phone-vote form.ballot input[name=on_behalf_of]")
    grantor = proxy_ballot.first.get_attribute("value")
    _vote_yes_no(kevin, m.phone_path, f"phone-proxy-{grantor}", "yes", "receipt-by-proxy")
    kevin.check("phone-b-voted-twice")
    expect(kevin.page.locator(".phone-vote .receipt-note")).to_have_count(2)
    m.chair_clicks("vote/close", (m.room, ".vote-result", None))
    m.all_show(".vote-result")
    m.room.check("projector-yes-no-result")


def _approval(m: Meeting) -> None:
    """The plan's final approval. Ballots are not the chair's clicks: the
    projector's and console's turnout follows them by a periodic refresh
    (data-live-every, 5 s), still without a reload, and the chair's keyboard
    focus on the button to close the vote stays there."""
    m.chair_clicks("move-on", *m.floor_shows(m.facts["titles"][-1]))
    m.chair_clicks("vote/open")
    m.all_show(".vote-open")
    m.room.check("projector-approval-open")
    _mark([m.room, m.chair])
    closing = f"form[action='{m.base}/vote/close'] button"
    m.chair.page.locator(closing).focus()
    for phone in (m.ana, m.kevin):
        _vote_yes_no(phone, m.phone_path, "phone-own", "yes")
    for person in (m.room, m.chair):
        expect(person.page.locator(".vote-open")).to_contain_text("2", timeout=6000)
    _unreloaded([m.room, m.chair])
    assert m.chair.page.evaluate("(s) => document.activeElement.matches(s)", closing)
    m.chair_clicks("vote/close")
    m.all_show(".vote-result")
    m.room.check("projector-approved")
    m.chair.check("console-approved")


def _adjourn(journey, m: Meeting) -> None:
    with journey.app_context(), force_locale(ROOM):
        adjourned = str(SessionState.ADJOURNED.label)
    m.chair_clicks("adjourn", (m.room, ".projector-state", adjourned))
    m.room.check("projector-adjourned")
    m.ana.check("phone-a-adjourned")
    # The events came by Server-Sent Events (each page's stream stayed open),
    # not by the polling fallback.
    for person in m.watchers:
        assert any(url.split("?")[0].endswith("/events") for url in person.live_urls), person.who
        assert not [url for url in person.live_urls if "/since" in url], person.who


def _minutes(m: Meeting) -> None:
    """The draft, then the minutes signed by the chair, tell what happened."""
    chair, base = m.chair, m.base
    chair.go(base)
    chair.click(f"a[href^='{base}/minutes']", "minutes-draft")
    _minutes_tell_what_happened(chair, m.facts)
    chair.click(f"form[action*='{base}/minutes/sign'] button[type=submit]", "minutes-signed")
    _minutes_tell_what_happened(chair, m.facts)
    expect(chair.page.locator(f"form[action*='{base}/minutes/sign']")).to_have_count(0)


@pytest.mark.parametrize("languages", ROTATIONS)
def test_a_session_runs_live_in_four_browsers(journey, languages):
    # The helpers below read the four languages from the module (one rotation per run).
    global CHAIR, PHONE_A, PHONE_B, ROOM
    CHAIR, PHONE_A, PHONE_B, ROOM = languages.split(",")
    journey.name = f"assembly-session-{CHAIR}"
    place, facts = _meeting(journey)
    meeting = _enter(journey, place, facts)
    _check_in_and_open(meeting)
    _two_speakers(meeting)
    _ranked_vote(meeting)
    _vote_by_proxy(meeting)
    _approval(meeting)
    _adjourn(journey, meeting)
    _minutes(meeting)

    with journey.app_context():
        session = db.session.get(AssemblySession, facts["session_id"])
        assert session.state is SessionState.ADJOURNED
        assert session.minutes_signed
        polls = [db.session.get(Poll, point.poll_id) for point in queries.points(session)]
        assert [poll.state for poll in polls] == ["closed", "closed", "closed"]
        assert polls[1].winner == "yes" and polls[2].winner == "yes"
        by_proxy = db.session.scalars(
            select(Participation).where(Participation.poll_id == polls[1].id)
        ).all()
        assert sorted((p.voter_id == p.cast_by_id) for p in by_proxy) == [False, True]
        assert db.session.get(Plan, place.plan_id).status == "approved"


def _minutes_tell_what_happened(chair, facts) -> None:
    """Who was present, who spoke, what each vote was about (in any language)."""
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
        expect(point).to_contain_text(CHECKSUM)  # each vote's ballots, by their checksum
