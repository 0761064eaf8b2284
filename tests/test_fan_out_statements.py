"""An event told to a whole forum costs the same number of SQL statements for
3 members as for 1,100: the phase change that notifies everyone twice, the
consolidated draft's announcement, and each batch job that renders the emails.
(Sending is one claim and one mark per message by design: a worker killed
mid-batch must leave at most one email in doubt.)"""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, insert, select

from consult.accounts.models import User
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.consultations.services import PhaseInput
from consult.forums.models import Membership
from consult.mail.models import OutboxEmail
from consult.notification_delivery import emails
from consult.notifications.models import Notification
from consult.notifications.services import notify_many
from consult.plans import services as plans

T0 = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
_numbers = count(1)


@pytest.fixture
def jobs(monkeypatch):
    """The email jobs the commits hand out, kept instead of run: only the
    event's own statements are counted (the jobs are counted below)."""
    handed = []
    monkeypatch.setattr(emails, "enqueue_batches", lambda ids, **_: handed.append(ids))
    return handed


def forum_of(make, session, members: int):
    """A forum with a facilitator and ``members`` members (written in bulk)."""
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    n = next(_numbers)
    emails_ = [f"fanout{n}-{i}@example.org" for i in range(members)]
    session.execute(
        insert(User.__table__),
        [
            {"email": e, "display_name": f"Miembro {i}", "locale": ("es", "en", "pt")[i % 3]}
            for i, e in enumerate(emails_)
        ],
    )
    ids = session.scalars(select(User.id).where(User.email.in_(emails_))).all()
    session.execute(
        insert(Membership.__table__),
        [{"forum_id": forum.id, "user_id": uid, "role": "member"} for uid in ids],
    )
    session.commit()
    return forum, facilitator


def consultation_of(forum, facilitator, session):
    plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n2. Otro punto.\n")
    made = consultations.create_consultation(
        facilitator,
        plan,
        title="Consulta",
        phases=[
            PhaseInput("amendments", T0, T0 + 30 * DAY),
            PhaseInput("review", T0 + 30 * DAY, T0 + 60 * DAY),
        ],
    )
    session.commit()
    phase_scheduler.advance_due(T0)  # the first phase is open
    session.commit()
    return made


def test_a_phase_change_costs_the_same_statements_for_3_or_1100_members(
    make, session, jobs, count_statements
):
    def phase_change(members: int) -> int:
        forum, facilitator = forum_of(make, session, members)
        consultation = consultation_of(forum, facilitator, session)
        before = session.scalar(select(func.max(Notification.id)))
        with count_statements() as seen:
            phase_scheduler.advance(facilitator, consultation)  # closes one phase, opens the next
            session.commit()
        told = session.execute(
            select(Notification.kind, Notification.user_id).where(Notification.id > before)
        ).all()
        # Every member (and the facilitator), twice.
        assert sorted(kind for kind, _user in told) == sorted(
            ["phase_closed", "phase_opened"] * (members + 1)
        )
        assert len(set(told)) == len(told)
        return len(seen)

    # (More members than SQLAlchemy puts in one multi-row INSERT: 1,000.)
    assert phase_change(3) == phase_change(1100)


def test_notifying_a_selection_of_members_is_one_statement(make, session, jobs, count_statements):
    forum, facilitator = forum_of(make, session, 40)
    plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
    session.commit()
    with count_statements() as seen:  # (the objects the commit expired are read first)
        forum_id, facilitator_id, plan_id = forum.id, facilitator.id, plan.id
        seen.clear()
        written = notify_many(
            select(Membership.user_id).where(Membership.forum_id == forum.id),
            "draft_ready",
            plan,
            forum=forum,
            actor=facilitator,  # never told of their own action
            title=plan.title,
            number=2,
        )
    assert written == 40
    # (and, on SQLite, the data's generation moving on with the first write)
    assert len([statement for statement in seen if "data_generation" not in statement]) == 1
    rows = session.scalars(select(Notification).where(Notification.forum_id == forum.id)).all()
    assert len({row.user_id for row in rows}) == 40
    assert facilitator_id not in {row.user_id for row in rows}
    assert {(row.kind, row.object_id, row.forum_id, row.data["number"]) for row in rows} == {
        ("draft_ready", plan_id, forum_id, 2)
    }
    session.commit()
    assert sorted(id_ for batch in jobs for id_ in batch) == sorted(row.id for row in rows)


def test_an_email_batch_costs_the_same_statements_for_3_or_400_members(
    make, session, jobs, count_statements
):
    def batch(members: int) -> int:
        forum, _facilitator = forum_of(make, session, members)
        plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
        notify_many(
            select(Membership.user_id).where(
                Membership.forum_id == forum.id, Membership.role == "member"
            ),
            "plan_approved",
            plan,
            forum=forum,
            title=plan.title,
        )
        session.commit()
        ids = jobs.pop()
        with count_statements() as seen:
            assert len(emails.prepare_emails(ids)) == members
            session.commit()
        outbox = session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(OutboxEmail.idempotency_key.in_([f"notification:{i}" for i in ids]))
        )
        assert outbox == members
        return len(seen)

    assert batch(3) == batch(400)  # a job's batch is at most MAIL_BATCH_SIZE (500)
