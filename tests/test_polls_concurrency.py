"""One person, one vote under concurrency (PostgreSQL only): the same vote sent
fifty times at once counts once, and fifty voters at once all count.

Every thread works in its own app context, with its own session and connection,
as fifty requests would; they start together at a barrier."""

import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from consult.accounts import services as accounts
from consult.accounts.models import User
from consult.amendments import lifecycle, proposing
from consult.database import utcnow
from consult.errors import Conflict, ServiceError
from consult.extensions import db
from consult.forums import groups as forum_groups
from consult.forums import memberships as forum_members
from consult.forums import services as forums
from consult.plans import services as plans
from consult.votes import casting, integrity, queries, setup
from consult.votes import lifecycle as votes_lifecycle
from consult.votes.models import Ballot, Participation, Poll
from tests.conftest import (
    POSTGRES_URL,
    fresh_database,
    make_app,
    postgres_available,
    require_service,
)
from tests.factories import PASSWORD

THREADS = 50
TIMEOUT = 30  # seconds; the whole file runs in a few


@pytest.fixture
def app(tmp_path):
    """A fresh PostgreSQL database with room for one connection per thread."""
    require_service(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    with fresh_database("postgresql", tmp_path) as url:
        application = make_app(
            url,
            SQLALCHEMY_ENGINE_OPTIONS={
                "pool_size": THREADS + 2,
                "max_overflow": 0,
                "pool_timeout": TIMEOUT,
            },
        )
        with application.app_context():
            db.create_all()
        try:
            yield application
        finally:
            with application.app_context():
                db.session.remove()
                db.engine.dispose()


def open_poll_for(app, voter_count: int) -> tuple[int, list[int]]:
    """A working group of ``voter_count`` voting on an admitted amendment, committed;
    returns the poll's id and the voters' ids."""
    accepted = PasswordHasher().hash(PASSWORD)
    with app.app_context():
        forum = forums.create_forum(None, "concurrency", "Concurrency")
        group = forum_groups.save_group(None, forum, "Group")
        facilitator = accounts.create_user("facilitator@example.org", "Facilitator", PASSWORD)
        forum_members.add_member(None, forum, facilitator, role="facilitator")
        voter_ids = []
        for number in range(voter_count):
            user = accounts.create_user(f"voter{number}@example.org", f"Voter {number}")
            user.password_hash = accepted  # as if the invitation was accepted
            forum_members.add_member(None, forum, user)
            forum_groups.add_group_member(None, group, user)
            voter_ids.append(user.id)
        plan = plans.import_plan(None, forum, "Plan\n\n1. First item.\n\n2. Second item.\n")
        plan.open_for_input = True
        amendment = proposing.propose(
            facilitator,
            plan,
            target=plans.find_node(plan.current_version, "1").key,
            operation="replace",
            text="A better first item.",
            submit=True,
        )
        lifecycle.decide(facilitator, amendment, "admitted")
        now = utcnow()
        poll = setup.create_poll(
            facilitator,
            plan,
            subject="amendment",
            scope="group",
            group=group,
            amendment=amendment,
            opens_at=now,
            closes_at=now + timedelta(hours=1),
        )
        votes_lifecycle.open_poll(facilitator, poll)
        db.session.commit()
        assert poll.electorate_size == voter_count
        return poll.id, voter_ids


def cast_at_once(app, poll_id: int, votes: list[tuple[int, str]], *, close_too=False) -> list:
    """Cast ``votes`` (voter id, choice), one thread each, all released together
    (with ``close_too``, one more thread closes the poll at the same moment).
    Returns each thread's receipt code, or the ServiceError it got."""
    barrier = threading.Barrier(len(votes) + close_too, timeout=TIMEOUT)
    outcomes: list = [None] * len(votes)
    closing: list = []

    def closer() -> None:
        with app.app_context():
            try:
                poll = db.session.get(Poll, poll_id)
                barrier.wait()
                closing.append(votes_lifecycle.close_poll(None, poll))
                db.session.commit()
            except BaseException as error:
                db.session.rollback()
                closing.append(error)
            finally:
                db.session.remove()

    def worker(index: int, voter_id: int, choice: str) -> None:
        with app.app_context():
            try:
                poll = db.session.get(Poll, poll_id)
                voter = db.session.get(User, voter_id)
                barrier.wait()
                outcomes[index] = casting.cast(voter, poll, choice)
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                outcomes[index] = error
            except BaseException as error:  # anything else fails the test below
                db.session.rollback()
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=worker, args=(index, voter_id, choice))
        for index, (voter_id, choice) in enumerate(votes)
    ]
    if close_too:
        threads.insert(len(threads) // 2, threading.Thread(target=closer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a vote hung"
    assert closing == ([True] if close_too else [])
    return outcomes


def counts(poll_id: int) -> tuple[int, int]:
    participations = db.session.scalar(
        select(func.count()).select_from(Participation).where(Participation.poll_id == poll_id)
    )
    ballots = db.session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id)
    )
    return participations, ballots


def test_the_same_vote_sent_fifty_times_at_once_counts_once(app):
    poll_id, (voter_id,) = open_poll_for(app, 1)
    # Alternate the choices, so the ballot kept must be the one its receipt names.
    votes = [(voter_id, "yes" if index % 2 else "no") for index in range(THREADS)]
    outcomes = cast_at_once(app, poll_id, votes)

    unexpected = [o for o in outcomes if not isinstance(o, str | ServiceError)]
    assert unexpected == []
    codes = [(index, o) for index, o in enumerate(outcomes) if isinstance(o, str)]
    assert len(codes) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, str))
    ((index, code),) = codes
    with app.app_context():
        assert counts(poll_id) == (1, 1)
        poll = db.session.get(Poll, poll_id)
        assert casting.check_receipt(poll, code) == votes[index][1]


def test_fifty_voters_at_once_are_all_counted(app):
    poll_id, voter_ids = open_poll_for(app, THREADS)
    votes = [(voter_id, "yes" if n % 5 else "no") for n, voter_id in enumerate(voter_ids)]
    outcomes = cast_at_once(app, poll_id, votes)

    assert [o for o in outcomes if not isinstance(o, str)] == []
    assert len(set(outcomes)) == THREADS  # fifty different receipts
    with app.app_context():
        assert counts(poll_id) == (THREADS, THREADS)
        poll = db.session.get(Poll, poll_id)
        assert votes_lifecycle.close_poll(None, poll) is True
        db.session.commit()
        assert (poll.ballot_count, poll.turnout_weight) == (THREADS, THREADS)
        tally = queries.stored_result(poll)["tally"]
        assert (tally["yes"], tally["no"]) == ("40", "10")
        assert integrity.verify(poll)["ok"] is True


def test_a_vote_being_cast_while_the_poll_closes_is_counted(app):
    """Closing waits for a vote in progress: a voter who got a receipt code is
    counted, and the frozen result stays verifiable."""
    poll_id, (voter_id,) = open_poll_for(app, 1)
    finished = threading.Event()
    errors: list = []

    def close_now() -> None:
        with app.app_context():
            try:
                votes_lifecycle.close_poll(None, db.session.get(Poll, poll_id))
                db.session.commit()
            except BaseException as error:
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()
                finished.set()

    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        code = casting.cast(db.session.get(User, voter_id), poll, "yes")
        db.session.flush()  # the ballot is written, not yet committed
        closer = threading.Thread(target=close_now)
        closer.start()
        # Unless closing waits for this vote, it counts without it meanwhile.
        finished.wait(1)
        db.session.commit()
        db.session.remove()
    closer.join(TIMEOUT)
    assert not closer.is_alive() and errors == []

    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert (poll.state, poll.ballot_count, poll.winner) == ("closed", 1, "yes")
        assert casting.check_receipt(poll, code) == "yes"
        assert integrity.verify(poll)["ok"] is True


def test_votes_racing_the_closing_are_either_counted_or_refused(app):
    poll_id, voter_ids = open_poll_for(app, THREADS)
    votes = [(voter_id, "yes") for voter_id in voter_ids]
    outcomes = cast_at_once(app, poll_id, votes, close_too=True)

    codes = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if not isinstance(o, str)]
    assert all(isinstance(o, Conflict) for o in refused), refused
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        assert poll.state == "closed"
        # Every receipt handed out stands for a counted ballot, and nothing else is stored.
        assert poll.ballot_count == len(codes) == counts(poll_id)[0] == counts(poll_id)[1]
        assert all(casting.check_receipt(poll, code) == "yes" for code in codes)
        assert integrity.verify(poll)["ok"] is True
