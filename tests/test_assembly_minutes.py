"""The minutes of an assembly session (issue 18): who was present and when,
each point with its speakers, each vote with its rule, figures, outcome and the
checksum of its ballots, the plan's final state; in es, en and pt as HTML, PDF
and DOCX; signed off by the chair once the session is adjourned, read-only
after that, and published with the consultation's open data."""

import html
import io
import json
import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal

import docx
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from consult.amendments import lifecycle, proposing
from consult.assembly import agenda, minutes_text, points, presence, queries, sessions, speakers
from consult.assembly import minutes as services
from consult.assembly import minutes_documents as documents
from consult.assembly.models import (
    AssemblySession,
    Attendance,
    PointKind,
    SpeakerSide,
)
from consult.audit.models import AuditEvent
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.date_formats import format_moment
from consult.errors import Conflict, PermissionDenied
from consult.forums.services import membership_of
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from consult.votes import queries as votes_queries
from tests.factories import sign_in

pytestmark = [
    pytest.mark.usefixtures("english"),
    pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning"),
]

PLAN_TEXT = "Plan\n\n1. First item.\n\n2. Second item.\n"
ZONE = "America/Bogota"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


# --- a session that happened, through the assembly's services -------------------------


class World:
    """A forum, its plan and consultation, and a session run through two points."""


def _to_assembly(session, plan, facilitator, author, ref, text):
    """An amendment on item ``ref`` that the facilitators put to the assembly."""
    target = plans.find_node(plan.current_version, ref).key
    amendment = proposing.propose(
        author, plan, target=target, operation="replace", text=text, submit=True
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    lifecycle.decide(facilitator, amendment, "voting")
    session.commit()
    return amendment


def _delegate(make, forum, coalition, name, weight="1"):
    membership = make.member(forum, coalition=coalition, name=name, locale="en")
    membership.is_delegate = True
    membership.vote_weight = Decimal(weight)
    return membership


@pytest.fixture
def world(make, session):
    w = World()
    w.forum = forum = make.forum()
    north, south = make.coalition(forum, "Norte"), make.coalition(forum, "Sur")
    w.facilitator = make.member(forum, role="facilitator", name="Fa Cilitator", locale="en").user
    w.chair = _delegate(make, forum, north, "Carla Chair").user
    w.delegates = [
        _delegate(make, forum, north, "Ana Norte").user,
        _delegate(make, forum, north, "Bruno Norte").user,
        _delegate(make, forum, south, "Celia Sur").user,
        _delegate(make, forum, south, "Dario Sur").user,
    ]
    w.member = make.member(forum, name="Mere Member", locale="en").user
    session.commit()
    w.plan = plan = plans.import_plan(None, forum, PLAN_TEXT)
    plan.open_for_input = True
    session.commit()
    d = w.delegates
    w.e1 = _to_assembly(session, plan, w.facilitator, d[0], "1", "A better first item.")
    w.e2 = _to_assembly(session, plan, w.facilitator, d[0], "2", "One way.")
    w.e3 = _to_assembly(session, plan, w.facilitator, d[2], "2", "Another way.")
    w.started = (utcnow() - 2 * HOUR).replace(second=0, microsecond=0)
    w.consultation = consultations.create_consultation(
        w.facilitator,
        plan,
        title="Consulta",
        timezone=ZONE,
        phases=[PhaseInput("assembly", w.started - HOUR, w.started + 24 * HOUR)],
    )
    phase_scheduler.advance_due()
    session.commit()
    w.session = _run(session, w)
    return w


def _run(session, w) -> AssemblySession:
    """Call the session, open it, take the roll call, hear two speakers on the
    first point, vote on it (yes/no) and on the second (ranked)."""
    t0, d = w.started, w.delegates
    meeting = sessions.create_session(
        w.facilitator,
        w.consultation,
        sessions.SessionInput(
            title="Asamblea final",
            starts_at=t0,
            place="Sala 3",
            online_url="https://meet.example.org/asamblea",
            chair_id=w.chair.id,
        ),
    )
    sessions.start_session(w.chair, meeting, now=t0 + MINUTE)
    _roll_call(meeting, w)
    _hear_two_speakers(meeting, w)
    first = queries.current_point(meeting)
    w.yes_no = _vote(session, w, first, [("yes", d[0]), ("yes", d[1]), ("no", d[2])])
    agenda.move_on(w.chair, meeting, now=t0 + 30 * MINUTE)
    second = queries.current_point(meeting)
    w.ranked = _vote(
        session,
        w,
        second,
        [([w.e2.label, w.e3.label], d[0]), ([w.e2.label], d[1]), ([w.e3.label], d[2])],
    )
    w.points = [first, second]
    session.commit()
    return meeting


def _roll_call(meeting, w) -> None:
    t0, d = w.started, w.delegates
    for person, arrived in ((w.chair, 0), (d[0], 2), (d[1], 3), (d[2], 4), (d[3], 5)):
        presence.check_in(person, meeting, now=t0 + arrived * MINUTE)
    presence.check_out(d[1], meeting, now=t0 + 50 * MINUTE)
    presence.check_in(d[1], meeting, now=t0 + 55 * MINUTE)


def _hear_two_speakers(meeting, w) -> None:
    t0, d = w.started, w.delegates
    speakers.ask(d[0], meeting, SpeakerSide.FOR, now=t0 + 9 * MINUTE)
    speakers.ask(d[2], meeting, SpeakerSide.AGAINST, now=t0 + 9 * MINUTE)
    speakers.call_next(w.chair, meeting, now=t0 + 10 * MINUTE)
    speakers.call_next(w.chair, meeting, now=t0 + 10 * MINUTE + timedelta(seconds=125))
    speakers.finish(w.chair, meeting, now=t0 + 10 * MINUTE + timedelta(seconds=215))
    speakers.ask(d[3], meeting, SpeakerSide.AGAINST, now=t0 + 16 * MINUTE)
    withdrawn = queries.own_request(queries.current_point(meeting), d[3].id)
    speakers.withdraw(d[3], withdrawn)


def _vote(session, w, point, casts):
    poll = points.open_vote(w.chair, point)
    session.commit()
    for choice, person in casts:
        votes_casting.cast(person, poll, choice)
    session.commit()
    points.close_vote(w.chair, point)
    session.commit()
    return poll


def adjourn(session, w):
    sessions.adjourn_session(w.chair, w.session)
    session.commit()


def url(w, suffix="", **query):
    base = f"/forums/{w.forum.slug}/assembly/{w.session.id}/minutes{suffix}"
    if query:
        base += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return base


def page_text(response) -> str:
    page = response.get_data(as_text=True)
    main = page[page.find("<main") : page.find("</main>")]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def token(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


# --- the record ---------------------------------------------------------------------------


def test_the_minutes_list_the_present_with_their_times(world):
    minutes = services.build_minutes(world.session)
    people = {p["name"]: p for p in minutes["attendance"]}
    assert set(people) == {"Carla Chair", "Ana Norte", "Bruno Norte", "Celia Sur", "Dario Sur"}
    bruno = people["Bruno Norte"]
    assert bruno["coalition"] == "Norte"
    assert bruno["intervals"] == [
        {
            "in": (world.started + 3 * MINUTE).isoformat(),
            "out": (world.started + 50 * MINUTE).isoformat(),
        },
        {"in": (world.started + 55 * MINUTE).isoformat(), "out": None},
    ]
    assert people["Celia Sur"]["intervals"] == [
        {"in": (world.started + 4 * MINUTE).isoformat(), "out": None}
    ]
    assert people["Celia Sur"]["coalition"] == "Sur"
    assert "Mere Member" not in people
    assert minutes["session"]["timezone"] == ZONE
    assert minutes["session"]["chair"]["name"] == "Carla Chair"


def test_the_minutes_list_each_point_with_those_who_spoke(world):
    minutes = services.build_minutes(world.session)
    first, second, approval = minutes["points"]
    assert approval["kind"] == "approval" and approval["vote"] is None
    assert first["title"] == world.points[0].title and world.e1.label in first["title"]
    assert first["amendments"] == [world.e1.label]
    assert second["amendments"] == [world.e2.label, world.e3.label]
    assert [(s["name"], s["coalition"], s["side"], s["seconds"]) for s in first["speakers"]] == [
        ("Ana Norte", "Norte", "for", 125),
        ("Celia Sur", "Sur", "against", 90),
    ]
    assert first["speakers"][0]["started_at"] == (world.started + 10 * MINUTE).isoformat()
    assert second["speakers"] == []


def test_each_vote_has_the_polls_stored_figures_outcome_and_checksum(world):
    minutes = services.build_minutes(world.session)
    yes_no, ranked = (point["vote"] for point in minutes["points"][:2])
    stored = votes_queries.stored_result(world.yes_no)
    assert yes_no["checksum"] == world.yes_no.checksum == stored["checksum"]
    assert yes_no["winner"] == stored["winner"] == "yes"
    assert yes_no["quorum"]["met"] == stored["quorum"]["met"]
    assert yes_no["turnout_weight"] == stored["turnout_weight"]
    assert yes_no["voters"] == stored["ballots"] == 3
    assert yes_no["rule"] == "simple" and yes_no["method"] == "yesno"
    weights = {o["option"]: o["weight"] for o in yes_no["options"]}
    assert weights == {k: stored["tally"][k] for k in ("yes", "no", "abstain")}
    assert {o["option"]: o["ballots"] for o in yes_no["options"]} == {
        "yes": 2,
        "no": 1,
        "abstain": 0,
    }
    assert yes_no["consequences"] == [
        {"subject": "amendment", "name": world.e1.label, "outcome": "accepted", "version": None}
    ]
    stored = votes_queries.stored_result(world.ranked)
    assert ranked["checksum"] == world.ranked.checksum == stored["checksum"]
    assert ranked["ranking"] == stored["tally"]["ranking"]
    assert ranked["winner"] == stored["winner"] == world.e2.label
    assert ranked["method"] == "schulze" and ranked["rule"] is None
    # Totals per option only: never a ballot list, nor who voted what.
    assert all(set(o) == {"option", "weight", "ballots"} for o in ranked["options"])
    assert not {"ballot_list", "named_votes", "voters_list"} & set(ranked)
    plan = minutes["plan"]
    assert plan["version_number"] == world.plan.current_version.number
    assert {a["label"]: a["status"] for a in plan["amendments"]} == {
        world.e1.label: "accepted",
        world.e2.label: "accepted",
        world.e3.label: "rejected",
    }


def test_a_secret_weighted_vote_lists_no_ballots_per_option(session, world):
    delegates = [world.chair, *world.delegates]
    for person, weight in zip(delegates, ("1", "1", "1", "2.5", "1"), strict=True):
        membership_of(person, world.forum).vote_weight = Decimal(weight)
    session.commit()
    agenda.move_on(world.chair, world.session)
    approval_point = queries.current_point(world.session)
    assert approval_point.kind is PointKind.APPROVAL
    choices = ["yes", "yes", "yes", "no", "yes"]
    approval = _vote(session, world, approval_point, list(zip(choices, delegates, strict=True)))
    assert approval.secret
    minutes = services.build_minutes(world.session)
    vote = minutes["points"][2]["vote"]
    assert vote["weighted"] and vote["secret"] and not vote["ballots_public"]
    assert [o["ballots"] for o in vote["options"]] == [None, None, None]
    assert {o["option"]: o["weight"] for o in vote["options"]}["no"] == "2.5"
    assert vote["checksum"] == approval.checksum
    assert minutes["plan"]["final"] is True
    with force_locale("en"):
        text = minutes_text.present(minutes)
    table = text["points"][2]["vote"]["table"]
    assert table["columns"] == ["Option", "Votes (weighted)"]


# --- who may do what -----------------------------------------------------------------------


def test_only_the_chair_signs_off_and_only_after_adjournment(session, world):
    meeting = world.session
    with pytest.raises(PermissionDenied):
        services.sign_minutes(world.facilitator, meeting)
    with pytest.raises(Conflict, match="adjourned"):
        services.sign_minutes(world.chair, meeting)
    assert services.sign_minutes_refusal(world.delegates[0], meeting)
    adjourn(session, world)
    assert services.sign_minutes_refusal(world.facilitator, meeting)
    assert services.sign_minutes_refusal(world.chair, meeting) is None
    signed = services.sign_minutes(world.chair, meeting)
    session.commit()
    assert meeting.minutes_signed_by_id == world.chair.id
    assert meeting.minutes_signed_at is not None
    assert meeting.minutes_json == signed
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "assembly.minutes_signed", AuditEvent.object_id == meeting.id
        )
    )
    assert event.actor_id == world.chair.id
    with pytest.raises(Conflict):
        services.sign_minutes(world.chair, meeting)


def test_the_draft_is_for_the_chair_and_facilitators_the_signed_minutes_for_members(
    client, session, world
):
    sign_in(client, world.member)
    assert client.get(url(world)).status_code == 403
    assert client.get(url(world, ".pdf")).status_code == 403
    client.post("/sign-out")
    sign_in(client, world.facilitator)
    response = client.get(url(world))
    assert response.status_code == 200
    assert "these minutes are not signed off yet." in page_text(response)
    assert "Draft drawn up on" in page_text(response)
    assert "Sign the minutes off" not in page_text(response)  # not the chair
    adjourn(session, world)
    services.sign_minutes(world.chair, world.session)
    session.commit()
    client.post("/sign-out")
    sign_in(client, world.member)
    response = client.get(url(world))
    assert response.status_code == 200
    text = page_text(response)
    assert "Draft" not in text
    assert "Signed off by Carla Chair" in text


def test_the_chair_signs_off_through_the_page_and_regenerating_is_then_refused(
    client, session, world
):
    adjourn(session, world)
    sign_in(client, world.chair)
    response = client.get(url(world))
    assert "Sign the minutes off" in page_text(response)
    page = response.get_data(as_text=True)
    read = re.search(r'name="digest"[^>]*value="([0-9a-f]+)"', page).group(1)
    response = client.post(
        url(world, "/sign"), data={"csrf_token": token(client, url(world)), "digest": read}
    )
    assert response.status_code == 302
    session.refresh(world.session)
    frozen = json.dumps(world.session.minutes_json, sort_keys=True)
    assert services.digest(world.session.minutes_json) == read
    # Something happens after the sign-off: the minutes do not change.
    session.add(
        Attendance(session_id=world.session.id, user_id=world.member.id, checked_in_at=utcnow())
    )
    session.commit()
    response = client.post(
        url(world, "/regenerate"), data={"csrf_token": token(client, url(world))}
    )
    assert response.status_code == 409
    assert "These minutes are signed: they can no longer be changed." in page_text(response)
    session.refresh(world.session)
    assert json.dumps(world.session.minutes_json, sort_keys=True) == frozen
    assert "Mere Member" not in page_text(client.get(url(world)))
    with pytest.raises(Conflict):
        services.regenerate_minutes(world.chair, world.session)


def test_signing_what_was_not_read_is_refused(client, session, world):
    adjourn(session, world)
    with pytest.raises(Conflict, match="changed since you read them"):
        services.sign_minutes(world.chair, world.session, read_digest="0" * 64)
    session.rollback()
    assert world.session.minutes_signed_at is None


def test_a_draft_drawn_up_before_adjournment_is_not_what_is_signed(session, world):
    services.regenerate_minutes(world.facilitator, world.session)
    session.commit()
    assert world.session.minutes_json["session"]["adjourned_at"] is None
    adjourn(session, world)
    signed = services.sign_minutes(world.chair, world.session)
    assert signed["session"]["adjourned_at"] == world.session.adjourned_at.isoformat()


def test_a_regenerated_draft_is_what_the_page_shows(client, session, world):
    sign_in(client, world.facilitator)
    response = client.post(
        url(world, "/regenerate"), data={"csrf_token": token(client, url(world))}
    )
    assert response.status_code == 302
    session.refresh(world.session)
    assert world.session.minutes_json["points"][0]["title"] == world.points[0].title
    assert world.session.minutes_signed_at is None


# --- in words, in three languages and three formats ------------------------------------------


def test_the_page_tells_the_minutes_in_the_chosen_language(client, session, world):
    sign_in(client, world.facilitator)
    english = page_text(client.get(url(world)))
    assert "Ana Norte" in english and "Celia Sur" in english
    first, second = (point.title for point in world.points)
    assert first in english and second in english
    assert world.yes_no.checksum in english and world.ranked.checksum in english
    assert f"Amendment {world.e1.label} is accepted." in english
    assert "2:05" in english  # Ana spoke 2 min 5 s
    starts = format_moment(world.session.starts_at, zone=ZONE, locale="en")
    assert re.sub(r"\s+", " ", starts) in english and "Bogotá Time" in english
    for lang in ("es", "pt"):
        response = client.get(url(world, lang=lang))
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert f'<article class="minutes" lang="{lang}">' in page
        with force_locale(lang):
            heading = gettext("Agenda")
        assert f"<h2>{heading}</h2>" in page
        starts = format_moment(world.session.starts_at, zone=ZONE, locale=lang)
        assert re.sub(r"\s+", " ", starts) in page_text(response)
    assert "hora de Bogotá" in page_text(client.get(url(world, lang="es")))


def _pdf_text(content: bytes, text: dict) -> str:
    """The PDF's words: pdftotext or pypdf where the machine has them, else the
    text WeasyPrint laid out for the same document."""
    if shutil.which("pdftotext"):
        done = subprocess.run(
            ["pdftotext", "-", "-"], input=content, capture_output=True, check=True
        )
        return done.stdout.decode()
    try:
        import pypdf
    except ImportError:
        from weasyprint.formatting_structure.boxes import TextBox

        words = []

        def walk(box):
            if isinstance(box, TextBox):
                words.append(box.text)
            for child in getattr(box, "children", ()):
                walk(child)

        for page in documents.pdf_document(text).pages:
            walk(page._page_box)
        return " ".join(words)
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_and_the_docx_contain_the_points(app, client, session, world):
    sign_in(client, world.facilitator)
    response = client.get(url(world, ".pdf", lang="es"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "minutes-asamblea-final" in response.headers["Content-Disposition"]
    with force_locale("es"):
        text = minutes_text.present(services.build_minutes(world.session))
    words = re.sub(r"\s+", " ", _pdf_text(response.data, text))
    with force_locale("es"):  # the points proposed from the plan, in Spanish
        shown = {point.id: point.shown_title for point in queries.points(world.session)}
        first, second = (shown[point.id] for point in world.points)
    assert first in words and second in words
    assert first.startswith("Enmienda ")
    response = client.get(url(world, ".docx", lang="pt"))
    with force_locale("pt"):
        shown = {point.id: point.shown_title for point in queries.points(world.session)}
        first, second = (shown[point.id] for point in world.points)
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert f"1. {first}" in paragraphs and f"2. {second}" in paragraphs
    assert world.yes_no.checksum in paragraphs
    assert "Ana Norte" in cells and "Celia Sur" in cells
    assert document.core_properties.language == "pt"


def test_signed_minutes_files_are_rendered_once(client, session, world, monkeypatch):
    adjourn(session, world)
    services.sign_minutes(world.chair, world.session)
    session.commit()
    calls = []
    render = documents.pdf
    monkeypatch.setattr(documents, "pdf", lambda text: calls.append(text) or render(text))
    sign_in(client, world.member)
    first = client.get(url(world, ".pdf", lang="pt"))
    again = client.get(url(world, ".pdf", lang="pt"))
    assert first.status_code == again.status_code == 200
    assert first.data == again.data and first.data.startswith(b"%PDF")
    assert len(calls) == 1 and calls[0]["lang"] == "pt"


# --- open data ------------------------------------------------------------------------------------


def test_the_open_data_lists_signed_minutes_only(client, session, world):
    sign_in(client, world.member)
    base = f"/forums/{world.forum.slug}/consultations/{world.consultation.id}/open-data"
    listed = json.loads(client.get(base + "/assembly-minutes.json").get_data(as_text=True))
    assert listed["minutes"] == []
    assert "Asamblea final" not in page_text(client.get(base + "/"))
    adjourn(session, world)
    services.sign_minutes(world.chair, world.session)
    session.commit()
    listed = json.loads(client.get(base + "/assembly-minutes.json").get_data(as_text=True))
    [entry] = listed["minutes"]
    assert entry["signed"] and entry["signed_by"] == "Carla Chair"
    assert entry["minutes"]["points"][0]["vote"]["checksum"] == world.yes_no.checksum
    assert entry["links"]["pdf"]["es"].endswith(url(world, ".pdf", lang="es"))
    index = client.get(base + "/").get_data(as_text=True)
    assert "Asamblea final" in index
    assert url(world, ".docx", lang="en") in index
    response = client.get(url(world, ".json"))
    assert json.loads(response.get_data(as_text=True))["digest"] == entry["digest"]
