"""How many amendments and comments each item of a plan has, cheaply.

Counting them takes two grouped queries over every amendment and comment of
the plan (tens of milliseconds on a large forum), yet the answer changes only
when one is written. So each plan has a *generation* (``ActivityStamp``),
moved on in the same transaction as any write that can change the counts —
an amendment or comment added or deleted; an amendment's status, plan, target
or author changed; a comment deleted, hidden, shown again or moved; an
author renamed — and the counts (and the list of authors of amendments,
``kept``) are kept in ``consult.pagecache`` under the plan and its generation.
The plan page then reads one row instead of counting.

The generation is moved by session events, so no service has to remember it:
the flush of ORM objects moves it for their plans, and a bulk statement on
those tables (``insert(Comment)``, ``update(Amendment)``, …) moves it for the
plans it names, or for every plan when it cannot tell which.
"""

import json

from sqlalchemy import ForeignKey, Integer, insert, inspect, literal, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import pagecache
from ..amendments.models import Amendment
from ..amendments.queries import counts_by_target
from ..comments.queries import counts as comment_counts
from ..database import Base
from ..extensions import db
from ..plans.models import Plan

# The tables whose rows are counted, and the columns that decide the counts.
COUNTED = {
    "comments": {"plan_id", "target_type", "target_key", "deleted_at", "hidden_at"},
    "amendments": {"plan_id", "target_key", "status", "author_id"},
}


class ActivityStamp(Base):
    """A plan's generation of activity: moved on whenever its counts of
    amendments or comments per item may have changed."""

    __tablename__ = "plan_activity_stamps"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, default=0)


def generation(plan) -> int:
    return (
        db.session.scalar(select(ActivityStamp.generation).where(ActivityStamp.plan_id == plan.id))
        or 0
    )


def _dump(value) -> str:
    return json.dumps(value)


def _load(content: str):
    return json.loads(content)


CODEC = pagecache.Codec(dump=_dump, load=_load, size=lambda activity: 40 * len(activity) + 1)


def counts(plan) -> dict[str, dict[str, int]]:
    """``{node key: {"amendments": n, "comments": n}}`` for the items with any:
    visible (not draft) amendments and shown comments. One query when they
    are known for the plan's generation, three when they must be counted."""
    return counts_and_key(plan)[0]


def counts_and_key(plan) -> tuple[dict[str, dict[str, int]], str]:
    """``counts`` and the key they are kept under, which changes with them."""
    key = pagecache.make_key("plan-activity", plan.id, plan.created_at, generation(plan))
    found = pagecache.fetch(key, f"plan-activity:{plan.id}", lambda: _count(plan), CODEC)
    return found, key


def kept(plan, name: str, build, codec=None):
    """What ``build`` makes of the plan's amendments and comments (a list of
    authors…), kept in the page cache until the plan's generation moves on."""
    key = pagecache.make_key(f"plan-{name}", plan.id, plan.created_at, generation(plan))
    return pagecache.fetch(key, f"plan-{name}:{plan.id}", build, codec or JSON)


JSON = pagecache.Codec(dump=_dump, load=_load, size=lambda value: 40 * len(value) + 1)


def _count(plan) -> dict[str, dict[str, int]]:
    activity: dict[str, dict[str, int]] = {}
    for key, count in counts_by_target(plan).items():
        activity.setdefault(key, {})["amendments"] = count
    for key, figures in comment_counts(plan).items():
        activity.setdefault(key, {})["comments"] = figures["total"]
    return activity


# --- moving the generation on --------------------------------------------------------


def _upsert(dialect: str):
    if dialect == "postgresql":
        statement = postgresql.insert(ActivityStamp)
    elif dialect == "sqlite":
        statement = sqlite.insert(ActivityStamp)
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL only
        raise RuntimeError(f"no upsert for {dialect}")
    return statement.values(generation=1).on_conflict_do_update(
        index_elements=["plan_id"], set_={"generation": ActivityStamp.generation + 1}
    )


def _bump(connection, plan_ids) -> None:
    if plan_ids is None:  # every plan
        connection.execute(update(ActivityStamp).values(generation=ActivityStamp.generation + 1))
        connection.execute(
            insert(ActivityStamp).from_select(
                ["plan_id", "generation"],
                select(Plan.id, literal(1)).where(Plan.id.not_in(select(ActivityStamp.plan_id))),
            )
        )
        return
    statement = _upsert(connection.dialect.name)
    for plan_id in sorted(plan_ids):  # the same order in every transaction
        connection.execute(statement, {"plan_id": plan_id})


def _changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in COUNTED[obj.__tablename__])


@sa_event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    plan_ids = set()
    for obj in (*session.new, *session.deleted):
        if getattr(obj, "__tablename__", None) in COUNTED and obj.plan_id is not None:
            plan_ids.add(obj.plan_id)
    for obj in session.dirty:
        counted = getattr(obj, "__tablename__", None) in COUNTED
        if counted and obj.plan_id is not None and _changed(obj):
            plan_ids.add(obj.plan_id)
    renamed = [
        obj.id
        for obj in session.dirty
        if getattr(obj, "__tablename__", None) == "users"
        and inspect(obj).attrs["stored_name"].history.has_changes()
    ]
    if renamed:  # lists of authors show their names
        plan_ids.update(
            session.connection().scalars(
                select(Amendment.plan_id).where(Amendment.author_id.in_(renamed)).distinct()
            )
        )
    if plan_ids:
        _bump(session.connection(), plan_ids)


def _statement_plans(state) -> set[int] | None:
    """The plans a bulk INSERT names in its rows (None: cannot tell)."""
    parameters = state.parameters
    rows = parameters if isinstance(parameters, list) else [parameters] if parameters else []
    if not state.is_insert or not rows:
        return None
    plan_ids = {row.get("plan_id") for row in rows if isinstance(row, dict)}
    return None if None in plan_ids or not plan_ids else plan_ids


@sa_event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in COUNTED:
        return
    if state.is_update:
        values = getattr(state.statement, "_values", None) or {}
        columns = {getattr(column, "key", str(column)) for column in values}
        if values and not columns & COUNTED[name]:
            return  # e.g. a comment's flag count, an amendment's applied version
    _bump(state.session.connection(), _statement_plans(state))
