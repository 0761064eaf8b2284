"""Reminders, sent once by the scheduler: a phase closes within a day (to the
forum's members), a vote closes within a day (to the voters who have not voted)."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consult.background import run_scheduler_once
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.models import PhaseKind
from consult.consultations.services import PhaseInput
from consult.database import utcnow
from consult.notification_delivery.wording import describe
from consult.notifications.models import Notification
from consult.votes import casting as votes_casting
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import proxies as votes_proxies
from consult.votes import scheduling as votes_scheduling
from tests.test_polls import Y, admitted, new_poll, person

T0 = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def plan_text():
    return "Plan\n\n1. Primer punto.\n\n2. Segundo punto.\n"


@pytest.fixture
def facilitator(make, forum):
    return person(make, forum, name="Fabiola", role="facilitator")


def reminders(session, kind, user=None) -> list[Notification]:
    query = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return list(session.scalars(query))


def consultation_with(session, facilitator, plan, *phases):
    made = consultations.create_consultation(
        facilitator, plan, title="Consulta 2028", phases=list(phases)
    )
    session.commit()
    return made


# --- phases ------------------------------------------------------------------------


def test_members_are_reminded_once_a_day_before_a_phase_closes(
    session, make, forum, plan, facilitator
):
    portuguese = make.member(forum, locale="pt").user
    consultation = consultation_with(
        session, facilitator, plan, PhaseInput("amendments", T0, T0 + 30 * DAY)
    )
    phase_scheduler.advance_due(T0)
    end = T0 + 30 * DAY
    assert phase_scheduler.remind_closing_phases(end - DAY - HOUR) == 0
    assert phase_scheduler.remind_closing_phases(end - DAY + HOUR) == 1
    assert phase_scheduler.remind_closing_phases(end - HOUR) == 0  # once
    session.commit()

    [reminder] = reminders(session, "phase_closing", portuguese)
    assert reminder.object_id == consultation.id
    assert len(reminders(session, "phase_closing")) == 2  # the facilitator too
    with force_locale("pt"):
        text = describe(reminder)
        assert str(PhaseKind.AMENDMENTS.label) in text  # named in the reader's language
    with force_locale("en"):
        assert describe(reminder) == (
            "Consulta 2028: the phase “Amendments” closes in less than 24 hours."
        )


def test_a_phase_shorter_than_a_day_gets_no_reminder(session, make, forum, plan, facilitator):
    make.member(forum)
    consultation_with(session, facilitator, plan, PhaseInput("amendments", T0, T0 + 12 * HOUR))
    phase_scheduler.advance_due(T0)
    assert phase_scheduler.remind_closing_phases(T0 + HOUR) == 0
    assert phase_scheduler.remind_closing_phases(T0 + 2 * HOUR) == 0
    assert reminders(session, "phase_closing") == []


def test_an_extended_phase_is_reminded_again_before_its_new_end(
    session, make, forum, plan, facilitator
):
    consultation = consultation_with(
        session, facilitator, plan, PhaseInput("amendments", T0, T0 + 30 * DAY)
    )
    phase_scheduler.advance_due(T0)
    end = T0 + 30 * DAY
    assert phase_scheduler.remind_closing_phases(end - 12 * HOUR) == 1
    phase = consultation.phases[0]
    phase_scheduler.extend_phase(facilitator, phase, end + 7 * DAY)
    session.commit()
    assert phase_scheduler.remind_closing_phases(end - 6 * HOUR) == 0
    assert phase_scheduler.remind_closing_phases(end + 6 * DAY + HOUR) == 1


# --- polls -----------------------------------------------------------------------------


@pytest.fixture
def delegates(make, forum):
    return [person(make, forum, name=f"Delegate {n}", delegate=1) for n in range(1, 5)]


def assembly_poll(facilitator, plan, author, closes_in):
    amendment = admitted(plan, author, facilitator)
    now = utcnow()
    poll = new_poll(
        facilitator,
        plan,
        amendment=amendment,
        scope="assembly",
        max_proxies=1,
        opens_at=now,
        closes_at=now + closes_in,
    )
    assert votes_lifecycle.open_poll(facilitator, poll, now=now) is True
    return poll


def test_only_voters_who_have_not_voted_are_reminded_once(
    session, make, forum, plan, facilitator, delegates
):
    author = person(make, forum, name="Ana")
    poll = assembly_poll(facilitator, plan, author, closes_in=3 * DAY)
    grantor, holder, voter, silent = delegates
    votes_proxies.grant_proxy(grantor, poll, holder.id)
    votes_casting.cast(voter, poll, Y)
    session.commit()
    reminders_before = reminders(session, "poll_closing")

    assert votes_scheduling.remind_closing_polls(poll.closes_at - DAY - HOUR) == 0
    assert votes_scheduling.remind_closing_polls(poll.closes_at - DAY + HOUR) == 1
    assert votes_scheduling.remind_closing_polls(poll.closes_at - HOUR) == 0
    session.commit()

    assert reminders_before == []
    reminded = {n.user_id for n in reminders(session, "poll_closing")}
    assert reminded == {holder.id, silent.id}  # the grantor handed over; the voter voted
    with force_locale("en"):
        assert describe(reminders(session, "poll_closing", silent)[0]) == (
            f"The vote “{poll.title}” closes in less than 24 hours and you have not voted yet."
        )


def test_a_vote_open_for_less_than_a_day_gets_no_reminder(
    session, make, forum, plan, facilitator, delegates
):
    author = person(make, forum, name="Ana")
    poll = assembly_poll(facilitator, plan, author, closes_in=20 * HOUR)
    assert votes_scheduling.remind_closing_polls(poll.closes_at - 10 * HOUR) == 0
    assert reminders(session, "poll_closing") == []


def test_the_scheduler_runs_reminders_and_digests(session):
    changes = run_scheduler_once()
    assert {"phase_reminders", "poll_reminders", "digests", "relayed"} <= set(changes)
    assert {"opened", "closed", "polls_opened", "polls_closed"} <= set(changes)
