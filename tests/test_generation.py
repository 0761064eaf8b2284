"""The data's generation (consult.generation) on PostgreSQL moves on after the
commit, on the connection that wrote: a write takes one connection from the
pool, and gives it back able to hold a transaction again."""

import pytest
from sqlalchemy import delete, event

from consult import generation
from consult.extensions import db
from consult.generation import DataGeneration


@pytest.fixture
def postgresql_app(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite moves the generation inside the writing transaction")
    return app


def test_a_write_moves_the_generation_on_with_one_connection(postgresql_app):
    checkouts = []

    def count(*_args):
        checkouts.append(1)

    with postgresql_app.app_context():
        before = generation.current()
        db.session.commit()
        event.listen(db.engine, "checkout", count)
        try:
            db.session.add(DataGeneration(id=901, value=0))  # a row PostgreSQL never reads
            db.session.commit()
            assert len(checkouts) == 1
            assert generation.current() > before
            # The connection went back to the pool out of autocommit: a write
            # rolled back leaves nothing behind.
            db.session.add(DataGeneration(id=902, value=0))
            db.session.flush()
            db.session.rollback()
            assert db.session.get(DataGeneration, 902) is None
        finally:
            event.remove(db.engine, "checkout", count)
            db.session.rollback()
            db.session.execute(delete(DataGeneration).where(DataGeneration.id.in_([901, 902])))
            db.session.commit()
