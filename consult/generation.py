"""The data's generation: a number that moves on after every transaction that
wrote anything the pages show.

Whole pages kept per reader (``consult.whole_pages``) are filed under it, so a
page is never served from before a write: any amendment, comment, phase,
membership, notification or setting written anywhere makes every kept page
old at once. It is coarse on purpose — telling which pages one write changes
is where caches go wrong — and cheap: reading it is one statement of one row,
and while nothing is written (most of the time, for most readers) every page
is built once per reader.

Where it is kept:

* **PostgreSQL**: a sequence, ``data_generation_seq``, moved with ``nextval``
  *after* the writing transaction commits, on the connection that wrote (the
  session still holds it then), in autocommit: no second connection taken
  from the pool, and no second liveness check. A sequence takes no row lock,
  so concurrent writers (300 ballots at once) never wait for one another on
  it. Moving it after the commit means a reader that sees the new number also
  sees the new data; a reader that read the old number while the data changed
  filed its page under the old number, which nobody asks for any more.
* **SQLite**: one row of ``data_generation``, moved inside the writing
  transaction (SQLite has no sequences, and its writers take turns anyway),
  so the number and the data commit together.

Writes that pages never show are left out (``IGNORED_TABLES``).
"""

import logging

from sqlalchemy import BigInteger, Integer, Sequence, event, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .database import Base
from .extensions import db

log = logging.getLogger(__name__)

SEQUENCE = Sequence("data_generation_seq", metadata=Base.metadata)
# Rows no page shows: rendered fragments, the API's rate windows, sign-in
# attempts and sessions (a session is checked on every request anyway).
IGNORED_TABLES = frozenset({"page_fragments", "api_rate_windows", "auth_attempts", "user_sessions"})
_WROTE = "generation_wrote"  # key in Session.info: the connection that wrote


class DataGeneration(Base):
    """SQLite's generation: a single row (``id`` 1). Unused on PostgreSQL,
    which moves ``data_generation_seq`` instead."""

    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def current() -> int:
    """The generation now (one statement)."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        # Before its first nextval a sequence shows its start (1) as last_value.
        last = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM data_generation_seq"
        return session.execute(text(last)).scalar_one()
    return session.scalar(select(DataGeneration.value).where(DataGeneration.id == 1)) or 0


def _shown(table_name: str | None) -> bool:
    return table_name not in IGNORED_TABLES


@event.listens_for(Session, "after_flush")
def _after_flush(session, _context) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if not any(_shown(getattr(obj, "__tablename__", None)) for obj in changed):
        return
    _wrote(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if _shown(getattr(table, "name", None)):
            _wrote(state.session)


def _wrote(session) -> None:
    if session.info.get(_WROTE):
        return
    connection = session.info[_WROTE] = session.connection()
    if connection.dialect.name == "sqlite":
        # Inside the transaction: the number commits with the data.
        upsert = sqlite.insert(DataGeneration).values(id=1, value=1)
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=["id"], set_={"value": DataGeneration.value + 1}
            )
        )


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    connection = session.info.pop(_WROTE, None)
    if connection is None or connection.dialect.name != "postgresql":
        return
    # The transaction is committed and the session has not yet handed its
    # connection back to the pool (it does right after this event): out of any
    # transaction, it can move the sequence in autocommit (the pool resets the
    # isolation level). A connection still in a transaction (a session joined
    # to an outer one, as some tests do) leaves the work to one of its own.
    try:
        if connection.closed or connection.in_transaction():
            with session.get_bind().engine.connect() as own:
                _move_sequence(own)
        else:
            _move_sequence(connection)
    except Exception:  # the pages' minute-long limit still holds (whole_pages)
        log.warning("could not move the data generation on", exc_info=True)


def _move_sequence(connection) -> None:
    autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
    autocommit.execute(SEQUENCE.next_value().select())


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous) -> None:
    if session.get_transaction() is None:  # the whole transaction, not a savepoint
        session.info.pop(_WROTE, None)
