"""The suite rolls back after each test: proven by a pair of tests."""

from sqlalchemy import select

from consult.forums.models import Forum


def test_a_test_writes_and_commits(make, session):
    make.forum("rollback-probe")
    assert session.scalar(select(Forum).where(Forum.slug == "rollback-probe")) is not None


def test_the_next_test_sees_nothing_of_it(session):
    assert session.scalar(select(Forum).where(Forum.slug == "rollback-probe")) is None
