"""The declarative base, shared column types and the SQLite tuning."""

from datetime import UTC, datetime
from typing import Annotated

from flask import current_app, g, has_request_context, request
from sqlalchemy import DateTime, Integer, MetaData, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

from .labels import LabelledEnum

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use aware UTC datetimes")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class LabelledEnumString(TypeDecorator):
    """A ``String`` column read back as a member of a labelled enumeration
    (``labels.LabelledEnum``): the database keeps the plain value, so turning a
    column into one changes no schema."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[LabelledEnum], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        # The value as it is: an unknown one is refused by the column's CHECK.
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@event.listens_for(Base, "mapper_configured", propagate=True)
def _members_on_assignment(mapper, cls) -> None:
    """``plan.status = "draft"`` keeps ``PlanStatus.DRAFT``, as a row read back
    would: a page shows the member's label before the change is committed too.
    An unknown value is kept as it is, for the column's CHECK to refuse."""
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, LabelledEnumString):
            event.listen(getattr(cls, prop.key), "set", _to_member(column_type.enum), retval=True)


def _to_member(enum: type[LabelledEnum]):
    def to_member(target, value, oldvalue, initiator):
        return enum._value2member_map_.get(value, value) if isinstance(value, str) else value

    return to_member


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str80 = Annotated[str, mapped_column(String(80))]
str200 = Annotated[str, mapped_column(String(200))]
created_at = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


def check_in(column: str, values) -> str:
    """SQL text for a CHECK constraint restricting ``column`` to ``values``."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record):
    """WAL, a busy timeout and enforced foreign keys for the embedded database.

    pysqlite's own transaction handling breaks SAVEPOINTs; we switch it off and
    begin transactions ourselves (see ``_begin_sqlite``).
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    # SQLite's own lower() only knows A-Z; case-insensitive checks must also
    # see "EDUCACIÓN" and "educación" as the same name, as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    """BEGIN IMMEDIATE: take the write lock up front and wait for it (busy
    timeout), instead of failing with "database is locked" on upgrade.

    Except for the views marked ``read_only``: they never write, so their
    transaction begins DEFERRED and, with WAL, readers do not queue behind one
    another's lock while a page is being rendered."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")


def read_only(view):
    """Mark a view that never writes in its request's transaction (see
    ``_begin_sqlite``). A view that writes, even sometimes, must not be marked."""
    view.read_only_transaction = True
    return view


def _read_only_request() -> bool:
    if not has_request_context() or request.endpoint is None or g.get("sqlite_writes"):
        return False
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "read_only_transaction", False)
