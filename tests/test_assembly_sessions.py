"""The assembly in session, through its services: the agenda the plan proposes,
the chair's edits, the roll call with times, the list of speakers, and the
votes on the points through consult.votes."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from consult.amendments import lifecycle
from consult.assembly import agenda, points, presence, queries, sessions, speakers
from consult.assembly.models import (
    AgendaPoint,
    Attendance,
    PointKind,
    PointState,
    SessionState,
    SpeakerSide,
    SpeakerState,
)
from consult.audit.models import AuditEvent
from consult.database import utcnow
from consult.errors import Conflict, PermissionDenied
from consult.votes import casting as votes_casting
from consult.votes import queries as votes_queries
from consult.votes.models import PollVoter
from tests.factories import DAY, HOUR

pytestmark = pytest.mark.usefixtures("english")

PLAN = "Plan\n\n1. First item.\n\n2. Second item.\n\n3. Third item.\n"


@dataclass
class World:
    forum: object
    plan: object
    consultation: object
    facilitator: object
    chair: object
    delegates: list
    observer: object
    coalitions: list
    make: object = None


@pytest.fixture
def world(make, session):
    forum = make.forum()
    facilitator = make.facilitator(forum, locale="en")
    north, south = make.coalition(forum, "North"), make.coalition(forum, "South")
    chair = make.delegate(forum, name="Chair Person", locale="en", coalition=north)
    delegates = [
        make.delegate(forum, weight="1", name="Ana", locale="en", coalition=north),
        make.delegate(forum, weight="2", name="Bruno", locale="en", coalition=south),
        make.delegate(forum, weight="1", name="Carla", locale="en", coalition=south),
    ]
    observer = make.member(forum, role="observer", locale="en").user
    plan = make.plan(forum, PLAN)
    return World(forum, plan, None, facilitator, chair, delegates, observer, [north, south], make)


def in_assembly_phase(make, world):
    """The consultation, in its assembly phase (made after the amendments: a
    plan without a consultation takes amendments at any time)."""
    if world.consultation is None:
        now = utcnow()
        world.consultation = make.consultation(
            world.plan, [("assembly", now - HOUR, now + DAY)], advance=True
        )
    return world.consultation


def to_assembly(make, world, ref, author=None):
    """An amendment on item ``ref`` that the facilitators put to the assembly."""
    amendment = make.amendment(
        world.plan, author or world.delegates[0], ref=ref, admitted_by=world.facilitator
    )
    lifecycle.decide(world.facilitator, amendment, "voting")
    make.session.commit()
    return amendment


def call_session(world, **options):
    data = sessions.SessionInput(
        title="First session", starts_at=utcnow(), chair_id=world.chair.id, **options
    )
    return sessions.create_session(world.facilitator, in_assembly_phase(world.make, world), data)


def started(session, world, **options):
    assembly = call_session(world, **options)
    sessions.start_session(world.chair, assembly)
    session.commit()
    return assembly


# --- the agenda -----------------------------------------------------------------------


def test_agenda_proposes_amendments_in_text_order_grouped_then_the_approval(make, session, world):
    on_three = to_assembly(make, world, "3")
    first_on_one = to_assembly(make, world, "1")
    second_on_one = to_assembly(make, world, "1", author=world.delegates[1])
    admitted_only = make.amendment(
        world.plan, world.delegates[2], ref="2", admitted_by=world.facilitator
    )

    assembly = call_session(world)
    session.commit()
    agenda_points = queries.points(assembly)

    assert [p.kind for p in agenda_points] == [
        PointKind.AMENDMENTS,
        PointKind.AMENDMENTS,
        PointKind.APPROVAL,
    ]
    assert [a.id for a in agenda_points[0].amendments] == [first_on_one.id, second_on_one.id]
    assert [a.id for a in agenda_points[1].amendments] == [on_three.id]
    assert admitted_only.id not in {a.id for p in agenda_points for a in p.amendments}
    assert "Competing amendments" in agenda_points[0].title
    assert [p.position for p in agenda_points] == [1, 2, 3]
    assert all(p.state is PointState.PENDING for p in agenda_points)


def test_chair_adds_moves_and_removes_points(make, session, world):
    to_assembly(make, world, "1")
    assembly = call_session(world)
    report = agenda.add_point(world.chair, assembly, "Report of the secretariat", after_id=None)
    first = queries.points(assembly)[0]
    other = agenda.add_point(world.chair, assembly, "Any other business", after_id=first.id)
    session.commit()
    assert [p.title for p in queries.points(assembly)][1] == "Any other business"
    assert queries.points(assembly)[-1].id == report.id

    agenda.move_point(world.chair, report, -1)
    agenda.move_point(world.chair, other, -1)
    session.commit()
    titles = [p.title for p in queries.points(assembly)]
    assert titles[0] == "Any other business" and titles[2] == "Report of the secretariat"

    ids = [p.id for p in queries.points(assembly)]
    agenda.reorder(world.chair, assembly, list(reversed(ids)))
    session.commit()
    assert [p.id for p in queries.points(assembly)] == list(reversed(ids))

    agenda.remove_point(world.chair, other)
    session.commit()
    assert other.id not in [p.id for p in queries.points(assembly)]
    assert [p.position for p in queries.points(assembly)] == [1, 2, 3]


def test_a_delegate_cannot_edit_the_agenda(make, session, world):
    assembly = call_session(world)
    session.commit()
    with pytest.raises(PermissionDenied):
        agenda.add_point(world.delegates[0], assembly, "Mine")
    with pytest.raises(PermissionDenied):
        sessions.start_session(world.delegates[0], assembly)


def test_a_point_taken_up_cannot_be_removed(make, session, world):
    assembly = started(session, world)
    current = queries.current_point(assembly)
    with pytest.raises(Conflict):
        agenda.remove_point(world.chair, current)


def test_moving_on_closes_the_point_and_takes_up_the_next(make, session, world):
    to_assembly(make, world, "1")
    assembly = started(session, world)
    first, approval = queries.points(assembly)
    assert assembly.current_point_id == first.id
    agenda.move_on(world.chair, assembly)
    session.commit()
    assert first.state is PointState.DONE and first.ended_at is not None
    assert assembly.current_point_id == approval.id
    assert approval.state is PointState.CURRENT
    agenda.move_on(world.chair, assembly)
    session.commit()
    assert assembly.current_point_id is None
    with pytest.raises(Conflict):
        agenda.move_on(world.chair, assembly)


# --- presence -------------------------------------------------------------------------


def test_check_in_and_out_keep_the_roll_call_with_times(make, session, world):
    assembly = started(session, world)
    ana, bruno, carla = world.delegates
    t0 = utcnow()
    presence.check_in(ana, assembly, now=t0)
    presence.check_in(bruno, assembly, now=t0 + timedelta(minutes=1))
    presence.check_out(ana, assembly, now=t0 + timedelta(minutes=30))
    presence.check_in(ana, assembly, now=t0 + timedelta(minutes=40))
    presence.mark(world.chair, assembly, carla.id, True, now=t0 + timedelta(minutes=2))
    session.commit()

    figure = queries.presence(assembly)
    assert (figure.present, figure.summoned) == (3, 4)  # the chair is a delegate too
    assert figure.present_weight == Decimal(4) and figure.summoned_weight == Decimal(5)

    intervals = queries.roll_call(assembly)
    ana_intervals = [i for i in intervals if i.user_id == ana.id]
    assert [(i.checked_in_at, i.checked_out_at) for i in ana_intervals] == [
        (t0, t0 + timedelta(minutes=30)),
        (t0 + timedelta(minutes=40), None),
    ]
    carla_interval = next(i for i in intervals if i.user_id == carla.id)
    assert carla_interval.marked_by_id == world.chair.id

    with pytest.raises(Conflict):
        presence.check_in(ana, assembly)
    with pytest.raises(PermissionDenied):
        presence.check_in(world.observer, assembly)
    with pytest.raises(PermissionDenied):
        presence.mark(ana, assembly, bruno.id, False)

    presence.mark(world.chair, assembly, bruno.id, False)
    session.commit()
    assert queries.presence(assembly).present == 2
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == assembly.id))
    )
    assert {"assembly.checked_in", "assembly.checked_out", "assembly.marked_present"} <= actions


def test_adjourning_ends_every_presence(make, session, world):
    assembly = started(session, world)
    presence.check_in(world.delegates[0], assembly)
    sessions.adjourn_session(world.chair, assembly)
    session.commit()
    assert assembly.state is SessionState.ADJOURNED
    assert queries.presence(assembly).present == 0
    assert (
        session.scalar(
            select(func.count()).select_from(Attendance).where(Attendance.checked_out_at.is_(None))
        )
        == 0
    )


# --- speakers -------------------------------------------------------------------------


def test_points_of_order_go_first_then_in_request_order(make, session, world):
    assembly = started(session, world)
    ana, bruno, carla = world.delegates
    for delegate in world.delegates:
        presence.check_in(delegate, assembly)
    t0 = utcnow()
    speakers.ask(ana, assembly, "for", now=t0)
    speakers.ask(bruno, assembly, "against", now=t0 + timedelta(seconds=1))
    speakers.ask(carla, assembly, "order", now=t0 + timedelta(seconds=2))
    session.commit()
    point = queries.current_point(assembly)
    assert [r.user_id for r in queries.speakers(point)] == [carla.id, ana.id, bruno.id]

    called = speakers.call_next(world.chair, assembly)
    assert called.user_id == carla.id and called.state is SpeakerState.SPEAKING
    assert called.time_limit_seconds == assembly.default_speaking_seconds
    speakers.call_next(world.chair, assembly)
    session.commit()
    listed = queries.speakers(point)
    assert [r.state for r in listed] == [
        SpeakerState.DONE,
        SpeakerState.SPEAKING,
        SpeakerState.WAITING,
    ]
    assert listed[1].user_id == ana.id

    with pytest.raises(Conflict):
        speakers.ask(ana, assembly, "for")  # on the list already
    request = listed[2]
    with pytest.raises(PermissionDenied):
        speakers.withdraw(ana, request)
    speakers.withdraw(bruno, request)
    speakers.finish(world.chair, assembly)
    session.commit()
    assert [r.state for r in queries.speakers(point)] == [SpeakerState.DONE] * 2


def test_only_delegates_present_ask_to_speak(make, session, world):
    assembly = started(session, world)
    with pytest.raises(Conflict):
        speakers.ask(world.delegates[0], assembly, SpeakerSide.FOR)  # not checked in
    with pytest.raises(PermissionDenied):
        speakers.ask(world.observer, assembly, SpeakerSide.FOR)


def test_speaking_time_is_capped_per_coalition(make, session, world):
    assembly = started(session, world, default_speaking_seconds=120, coalition_cap_seconds=150)
    ana, bruno, carla = world.delegates  # Bruno and Carla: South
    for delegate in world.delegates:
        presence.check_in(delegate, assembly)
    t0 = utcnow()
    speakers.ask(bruno, assembly, "for", now=t0)
    speakers.ask(carla, assembly, "against", now=t0 + timedelta(seconds=1))
    first = speakers.call_next(world.chair, assembly, now=t0 + timedelta(seconds=10))
    assert first.user_id == bruno.id and first.time_limit_seconds == 120
    second = speakers.call_next(world.chair, assembly, now=t0 + timedelta(seconds=110))
    assert second.user_id == carla.id
    assert second.time_limit_seconds == 50  # 150 - the 100 s Bruno spoke
    speakers.set_time_limit(world.chair, assembly, 600, now=t0 + timedelta(seconds=120))
    assert second.time_limit_seconds == 50  # the cap holds
    speakers.finish(world.chair, assembly, now=t0 + timedelta(seconds=160))
    session.commit()
    with pytest.raises(Conflict):
        speakers.ask(bruno, assembly, "for")  # South has used its time
    speakers.ask(ana, assembly, "for")  # North has not


def test_chair_gives_more_time(make, session, world):
    assembly = started(session, world)
    presence.check_in(world.delegates[0], assembly)
    t0 = utcnow()
    speakers.ask(world.delegates[0], assembly, "for", now=t0)
    speaker = speakers.call_next(world.chair, assembly, now=t0)
    speakers.set_time_limit(world.chair, assembly, 60, now=t0 + timedelta(seconds=100))
    assert speaker.time_limit_seconds == 160
    assert speaker.speaking_until == t0 + timedelta(seconds=160)
    with pytest.raises(PermissionDenied):
        speakers.set_time_limit(world.delegates[0], assembly, 60)


# --- votes on the points --------------------------------------------------------------


def checked_in_all(session, assembly, world):
    for delegate in [world.chair, *world.delegates]:
        presence.check_in(delegate, assembly)
    session.commit()


def test_a_ranked_vote_between_competing_amendments(make, session, world):
    one = to_assembly(make, world, "1")
    other = to_assembly(make, world, "1", author=world.delegates[1])
    assembly = started(session, world)
    checked_in_all(session, assembly, world)
    point = queries.current_point(assembly)

    poll = points.open_vote(world.chair, point)
    session.commit()
    assert poll.method == "schulze" and poll.scope == "assembly" and poll.state == "open"
    assert {c.amendment_id for c in poll.candidates if c.amendment_id} == {one.id, other.id}
    assert point.poll_id == poll.id
    chair, ana, bruno, carla = [world.chair, *world.delegates]
    votes_casting.cast(chair, poll, [one.label, other.label])
    votes_casting.cast(ana, poll, [one.label])
    votes_casting.cast(bruno, poll, [one.label, "current"])
    votes_casting.cast(carla, poll, [other.label])
    session.commit()
    with pytest.raises(Conflict):
        agenda.move_on(world.chair, assembly)  # the vote is open

    points.close_vote(world.chair, point)
    session.commit()
    assert poll.winner == one.label
    assert one.label in point.outcome and "adopted" in point.outcome
    assert one.status == "accepted" and other.status == "rejected"


def test_a_yes_no_vote_with_a_quorum_of_delegates_present(make, session, world):
    amendment = to_assembly(make, world, "2")
    assembly = started(
        session, world, quorum_kind="share", quorum_value=Decimal("0.5"), quorum_base="present"
    )
    point = queries.current_point(assembly)
    presence.check_in(world.delegates[0], assembly)  # weight 1 of 5: no quorum
    poll = points.open_vote(world.chair, point)
    session.commit()
    present = set(
        session.scalars(
            select(PollVoter.user_id).where(
                PollVoter.poll_id == poll.id, PollVoter.present.is_(True)
            )
        )
    )
    assert present == {world.delegates[0].id}
    presence.check_in(world.delegates[1], assembly)  # weight 2 more: 3 of 5 present
    session.commit()
    votes_casting.cast(world.delegates[0], poll, "yes")
    votes_casting.cast(world.delegates[1], poll, "yes")
    points.close_vote(world.chair, point)
    session.commit()
    assert poll.quorum_met is True and poll.winner == "yes"
    assert amendment.status == "accepted"
    assert point.outcome == f"Amendment {amendment.identifier} is adopted."
    # Said to each reader in their language, whoever closed the vote.
    with force_locale("pt"):
        assert point.shown_outcome == f"A emenda {amendment.identifier} foi aprovada."
    with force_locale("es"):
        assert point.shown_outcome == f"Se aprobó la enmienda {amendment.identifier}."
    assert poll.title == amendment.identifier  # the vote's title: words of no language


def test_without_quorum_of_present_nothing_is_decided(make, session, world):
    amendment = to_assembly(make, world, "2")
    assembly = started(
        session, world, quorum_kind="share", quorum_value=Decimal("0.5"), quorum_base="present"
    )
    point = queries.current_point(assembly)
    presence.check_in(world.delegates[0], assembly)
    poll = points.open_vote(world.chair, point)
    votes_casting.cast(world.delegates[0], poll, "yes")
    points.close_vote(world.chair, point)
    session.commit()
    assert poll.quorum_met is False and poll.winner is None
    assert "quorum" in point.outcome
    assert amendment.status == "admitted"


def test_the_final_approval_of_the_plan(make, session, world):
    assembly = started(session, world)
    checked_in_all(session, assembly, world)
    point = queries.current_point(assembly)
    assert point.kind is PointKind.APPROVAL
    poll = points.open_vote(world.chair, point)
    for voter in [world.chair, *world.delegates]:
        votes_casting.cast(voter, poll, "yes")
    points.close_vote(world.chair, point)
    session.commit()
    assert poll.subject == "plan" and poll.winner == "yes"
    assert point.outcome == "The plan is approved."
    assert world.plan.status == "approved"


def test_a_delegate_who_leaves_hands_a_proxy(make, session, world):
    to_assembly(make, world, "2")
    assembly = started(session, world)
    checked_in_all(session, assembly, world)
    point = queries.current_point(assembly)
    poll = points.open_vote(world.chair, point)
    ana, bruno, _carla = world.delegates
    presence.check_out(ana, assembly)
    points.hand_proxy(ana, point, bruno.id)
    session.commit()
    votes_casting.cast(bruno, poll, "no", on_behalf_of=ana.id)
    votes_casting.cast(bruno, poll, "no")
    session.commit()
    assert votes_queries.turnout(poll)["voters"] == 2


def test_only_the_chair_or_facilitators_run_the_votes(make, session, world):
    to_assembly(make, world, "2")
    assembly = started(session, world)
    point = queries.current_point(assembly)
    with pytest.raises(PermissionDenied):
        points.open_vote(world.delegates[0], point)
    poll = points.open_vote(world.facilitator, point)
    with pytest.raises(PermissionDenied):
        points.close_vote(world.delegates[0], point)
    points.close_vote(world.chair, point)
    session.commit()
    assert poll.state == "closed"
    with pytest.raises(Conflict):
        points.open_vote(world.chair, point)  # voted on already
    other = session.scalar(
        select(AgendaPoint).where(AgendaPoint.session_id == assembly.id, AgendaPoint.id != point.id)
    )
    with pytest.raises(Conflict):
        points.open_vote(world.chair, other)  # not on the floor


def test_the_chair_notes_the_outcome_of_a_report_not_of_a_vote(make, session, world):
    assembly = call_session(world)
    report = agenda.add_point(world.chair, assembly, "Report of the secretariat")
    agenda.note_outcome(world.chair, report, "The report is received.")
    session.commit()
    assert report.outcome == "The report is received."
    approval = queries.points(assembly)[0]
    with pytest.raises(Conflict):
        agenda.note_outcome(world.chair, approval, "Approved by acclamation.")
    with pytest.raises(PermissionDenied):
        agenda.note_outcome(world.delegates[0], report, "Mine.")
