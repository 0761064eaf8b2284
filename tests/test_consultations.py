"""Consultations: phases open and close on their own (with a controllable
clock), exactly once; what members may do follows the phase; facilitators
advance and extend by hand."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consult.amendments import proposing, supports
from consult.audit.models import AuditEvent
from consult.comments import services as comments
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services
from consult.consultations.services import PhaseInput
from consult.errors import Conflict, InvalidInput, PermissionDenied
from consult.notifications.models import Notification
from consult.plans import services as plans
from tests.factories import STRUCTURED, sign_in

T0 = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan(make, forum):
    """Not open for input: what members may do follows the consultation's phases."""
    return make.plan(forum, STRUCTURED, open_for_input=False)


@pytest.fixture
def consultation(session, plan, facilitator):
    """Amendments in December, review in January, voting in February."""
    made = services.create_consultation(
        facilitator,
        plan,
        title="Consulta 2028",
        timezone="America/Bogota",
        phases=[
            PhaseInput("amendments", T0, T0 + 30 * DAY),
            PhaseInput("review", T0 + 30 * DAY, T0 + 60 * DAY),
            PhaseInput("voting", T0 + 60 * DAY, T0 + 70 * DAY),
        ],
    )
    session.commit()
    return made


def states(consultation):
    return [phase.state for phase in consultation.phases]


def propose(actor, plan, **options):
    return proposing.propose(
        actor,
        plan,
        target=plans.find_node(plan.current_version, "1.1").key,
        operation="replace",
        text="Nuevo texto.",
        **options,
    )


def test_phases_open_and_close_on_their_own(session, consultation):
    assert phase_scheduler.advance_due(T0 - timedelta(minutes=1)) == {"opened": 0, "closed": 0}
    assert states(consultation) == ["pending", "pending", "pending"]
    assert phase_scheduler.advance_due(T0) == {"opened": 1, "closed": 0}
    assert states(consultation) == ["open", "pending", "pending"]
    assert phase_scheduler.advance_due(T0 + 30 * DAY) == {"opened": 1, "closed": 1}
    assert states(consultation) == ["closed", "open", "pending"]
    phase_scheduler.advance_due(T0 + 100 * DAY)
    assert states(consultation) == ["closed", "closed", "closed"]


def test_the_scheduler_does_each_change_once(session, make, forum, consultation):
    make.member(forum)
    make.member(forum)
    first = phase_scheduler.advance_due(T0 + timedelta(hours=1))
    again = phase_scheduler.advance_due(T0 + timedelta(hours=2))
    assert (first, again) == ({"opened": 1, "closed": 0}, {"opened": 0, "closed": 0})
    told = session.scalars(
        select(Notification.user_id).where(Notification.kind == "phase_opened")
    ).all()
    assert len(told) == len(set(told)) == 3  # every member of the forum, once


def test_two_schedulers_open_a_phase_once(app, session, consultation):
    """A second scheduler that saw the phase as pending cannot open it again."""
    phase = consultation.phases[0]
    assert phase_scheduler.open_phase_now(phase, T0) is True
    # The guard is in the database (UPDATE … WHERE state = 'pending'), not in
    # the objects a scheduler has in memory.
    assert phase_scheduler.open_phase_now(phase, T0) is False


def test_amending_follows_the_phase_and_says_when_it_closed(session, plan, member, consultation):
    phase_scheduler.advance_due(T0 + DAY)
    assert propose(member, plan, submit=True).status == "submitted"
    phase_scheduler.advance_due(T0 + 31 * DAY)
    late = propose(member, plan, submit=True)
    assert late.status == "draft"
    assert late.submission_refused.startswith("Amendments closed on")
    assert "2027" in late.submission_refused


def test_before_the_first_phase_members_are_told_when_it_opens(session, plan, member, consultation):
    draft = propose(member, plan, submit=True)
    assert draft.status == "draft" and "can be proposed from" in draft.submission_refused


def test_comments_follow_the_phase(session, forum, plan, member, consultation):
    key = plans.find_node(plan.current_version, "1.1").key
    phase_scheduler.advance_due(
        T0 + 61 * DAY
    )  # voting: no comments allowed in this calendar? yes, allowed
    comments.post_comment(member, forum, plan=plan, target_type="node", target_key=key, body="Ok.")
    phase_scheduler.advance_due(T0 + 71 * DAY)
    with pytest.raises((Conflict, InvalidInput, PermissionDenied)):
        comments.post_comment(
            member, forum, plan=plan, target_type="node", target_key=key, body="Tarde."
        )


def test_supports_follow_the_phase(session, make, forum, plan, member, consultation):
    phase_scheduler.advance_due(T0 + DAY)
    amendment = propose(member, plan, submit=True)
    phase_scheduler.advance_due(T0 + 31 * DAY)
    with pytest.raises(Conflict, match="Supports closed on"):
        supports.support(make.member(forum).user, amendment)


def test_facilitator_advances_by_hand_and_it_is_audited(session, facilitator, consultation):
    phase_scheduler.advance_due(T0 + DAY)
    opened = phase_scheduler.advance(facilitator, consultation, now=T0 + 2 * DAY)
    assert opened.kind == "review" and states(consultation) == ["closed", "open", "pending"]
    assert opened.starts_at == T0 + 2 * DAY
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "consultation.advanced" in actions


def test_facilitator_extends_the_current_phase(session, facilitator, consultation):
    phase_scheduler.advance_due(T0 + DAY)
    phase = consultation.phases[0]
    with pytest.raises(InvalidInput, match="before the next phase"):
        phase_scheduler.extend_phase(facilitator, phase, T0 + 40 * DAY)
    consultation.phases[1].starts_at = T0 + 40 * DAY
    phase_scheduler.extend_phase(facilitator, phase, T0 + 35 * DAY)
    phase_scheduler.advance_due(T0 + 31 * DAY)
    assert phase.state == "open"  # still open: it was extended
    assert "consultation.phase_extended" in session.scalars(select(AuditEvent.action)).all()


def test_only_facilitators_manage_consultations(plan, member, consultation):
    with pytest.raises(PermissionDenied):
        phase_scheduler.advance(member, consultation)
    with pytest.raises(PermissionDenied):
        phase_scheduler.extend_phase(member, consultation.phases[0], T0 + 10 * DAY)


def test_bad_calendars_are_refused(session, make, forum, facilitator):
    plan = plans.import_plan(None, forum, STRUCTURED)
    for phases in (
        [],
        [PhaseInput("amendments", T0, T0)],
        [PhaseInput("amendments", T0, T0 + DAY), PhaseInput("review", T0, T0 + 2 * DAY)],
        [PhaseInput("party", T0, T0 + DAY)],
    ):
        with pytest.raises(InvalidInput):
            services.create_consultation(facilitator, plan, title="X", phases=phases)
    with pytest.raises(InvalidInput):
        services.create_consultation(
            facilitator,
            plan,
            title="X",
            timezone="Mars/Olympus",
            phases=[PhaseInput("amendments", T0, T0 + DAY)],
        )


def test_create_page_reads_dates_in_the_calendars_time_zone(
    client, session, forum, plan, facilitator
):
    sign_in(client, facilitator)
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/consultation/new",
        data={
            "title": "Consulta",
            "timezone": "America/Bogota",
            "phases-0-kind": "amendments",
            "phases-0-starts_at": "2027-12-01T09:00",
            "phases-0-ends_at": "2027-12-31T18:00",
            "phases-0-allow_amend": "y",
            "phases-0-allow_comment": "y",
        },
    )
    assert response.status_code == 302
    made = services.consultation_of(plan)
    phase = made.phases[0]
    assert phase.starts_at == datetime(2027, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in Bogotá
    assert (phase.allow_amend, phase.allow_support, phase.allow_comment) == (True, False, True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # The facilitator chose no zone: the forum's (its consultation's) is shown, named.
    assert "Dec 1, 2027, 9:00\u202fAM (Bogotá Time)" in page


def test_public_page_shows_the_calendar_and_what_members_can_do(
    client, session, forum, member, consultation
):
    phase_scheduler.advance_due(T0 + DAY)
    session.commit()
    sign_in(client, member)
    html = client.get(f"/forums/{forum.slug}/consultations/{consultation.id}").get_data(
        as_text=True
    )
    assert 'aria-current="step"' in html and "open now" in html
    assert "Members can propose amendments, support amendments, comment on the plan." in html


def test_members_see_their_groups_sections_first(client, session, make, forum, plan, consultation):
    from consult.amendments.plan_settings import assign_section

    group = make.group(forum, "Energía")
    in_group = make.member(forum, groups=[group], locale="en").user
    assign_section(None, plan, plans.find_node(plan.current_version, "1").key, group.id)
    session.commit()
    sign_in(client, in_group)
    html = client.get(f"/forums/{forum.slug}/consultations/{consultation.id}").get_data(
        as_text=True
    )
    assert "Your groups' sections" in html and "ENERGÍA" in html
    assert [node.ref for node in services.my_sections(in_group, plan)] == ["1"]
