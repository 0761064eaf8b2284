"""Keeping the search index in step with what is written.

Session events note what changed (amendments, comments, a plan's current
version, its section assignments) as the ORM flushes it; just before the
transaction commits, the documents concerned are rebuilt from the rows as they
are then, with Core statements on the same connection. The index therefore
commits (or rolls back) with the change itself, and a job, the CLI and a web
request keep it up to date alike. Rebuilding from the rows (not from the Python
objects) makes it idempotent: doing it twice gives the same documents.

Nothing is findable that its readers could not see on the pages: comments hidden
by the moderators or deleted by their authors have no document; a draft
amendment (and the comments on it) carries its author as its only reader.
"""

from sqlalchemy import (
    bindparam,
    cast,
    delete,
    event,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..amendments.models import Amendment
from ..comments.models import Comment
from ..extensions import Session
from ..plans.models import Plan, SectionGroup
from .documents import (
    amendment_documents,
    amendment_rows,
    comment_documents,
    comment_rows,
    node_documents,
    plan_facts,
)
from .models import SearchDocument
from .text import accents_folded_by_database, fold_accents, pg_config, pg_text

PENDING = "search_pending"
AMENDMENT_FIELDS = (
    "status",
    "proposed_text",
    "justification",
    "target_key",
    "target_ref",
    "language",
    "author_id",
    "number",
)
COMMENT_FIELDS = ("body", "hidden_at", "deleted_at", "language", "target_key")
CHUNK = 500


# --- writing documents -------------------------------------------------------------


def _upsert(connection, documents: list[dict]) -> None:
    """Write documents, replacing those of the same things: an upsert, so that
    two transactions indexing the same thing at once cannot collide."""
    if not documents:
        return
    table = SearchDocument.__table__
    postgres = connection.dialect.name == "postgresql"
    statement = (pg_insert if postgres else sqlite_insert)(table)
    if postgres:
        fold = not accents_folded_by_database(connection)
        for document in documents:
            document["v_config"] = pg_config(document["language"])
            title, body = pg_text(document["title"]), pg_text(document["body"])
            document["v_title"] = fold_accents(title) if fold else title
            document["v_body"] = fold_accents(body) if fold else body
        config = cast(bindparam("v_config"), REGCONFIG)
        vector = func.setweight(
            func.to_tsvector(config, bindparam("v_title")), literal_column("'A'")
        ).op("||")(
            func.setweight(func.to_tsvector(config, bindparam("v_body")), literal_column("'B'"))
        )
        statement = statement.values(search_vector=vector)
    replaced = [
        column.name
        for column in table.columns
        if column.name not in ("id", "kind", "object_id")
        and (postgres or column.name != "search_vector")
    ]
    statement = statement.on_conflict_do_update(
        index_elements=["kind", "object_id"],
        set_={name: statement.excluded[name] for name in replaced},
    )
    for start in range(0, len(documents), CHUNK):
        connection.execute(statement, documents[start : start + CHUNK])


def _delete(connection, kind: str, object_ids) -> None:
    object_ids = list(object_ids)
    for start in range(0, len(object_ids), CHUNK):
        connection.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == kind,
                SearchDocument.object_id.in_(object_ids[start : start + CHUNK]),
            )
        )


def _replace(connection, documents: list[dict], existing) -> None:
    """Write ``documents`` and delete the ``existing`` (kind, id) pairs that are
    no longer among them."""
    kept = {(document["kind"], document["object_id"]) for document in documents}
    stale: dict[str, list[int]] = {}
    for kind, object_id in existing:
        if (kind, object_id) not in kept:
            stale.setdefault(kind, []).append(object_id)
    for kind, object_ids in stale.items():
        _delete(connection, kind, object_ids)
    _upsert(connection, documents)


def reindex_plan(connection, plan_id: int) -> int:
    """Every document of one plan (its current version's items, its amendments
    and the comments on them), rebuilt; the number written."""
    existing = connection.execute(
        select(SearchDocument.kind, SearchDocument.object_id).where(
            SearchDocument.plan_id == plan_id
        )
    ).all()
    facts = plan_facts(connection, [plan_id])
    documents = []
    if plan_id in facts:
        documents = node_documents(connection, facts[plan_id])
        documents += amendment_documents(
            connection, amendment_rows(connection, Amendment.plan_id == plan_id), facts
        )
        documents += comment_documents(
            connection, comment_rows(connection, Comment.plan_id == plan_id), facts
        )
    _replace(connection, documents, existing)
    return len(documents)


def reindex_amendments(connection, amendment_ids) -> None:
    amendment_ids = list(amendment_ids)
    for start in range(0, len(amendment_ids), CHUNK):
        chunk = amendment_ids[start : start + CHUNK]
        rows = amendment_rows(connection, Amendment.id.in_(chunk))
        facts = plan_facts(
            connection, {row.plan_id for row in rows}, {row.target_key for row in rows}
        )
        documents = amendment_documents(connection, rows, facts)
        _replace(connection, documents, [("amendment", object_id) for object_id in chunk])


def _commented_keys(connection, comments) -> set[str]:
    """The items the comments are about: theirs, or their amendments' items."""
    keys = {row.target_key for row in comments if row.target_type == "node"}
    amendment_ids = [
        int(row.target_key)
        for row in comments
        if row.target_type == "amendment" and row.target_key.isdigit()
    ]
    if amendment_ids:
        keys |= set(
            connection.execute(
                select(Amendment.target_key).where(Amendment.id.in_(amendment_ids))
            ).scalars()
        )
    return keys


def reindex_comments(connection, comment_ids) -> None:
    comment_ids = list(comment_ids)
    for start in range(0, len(comment_ids), CHUNK):
        chunk = comment_ids[start : start + CHUNK]
        rows = comment_rows(connection, Comment.id.in_(chunk))
        facts = plan_facts(
            connection, {row.plan_id for row in rows}, _commented_keys(connection, rows)
        )
        documents = comment_documents(connection, rows, facts)
        _replace(connection, documents, [("comment", object_id) for object_id in chunk])


def reindex_all(connection) -> int:
    """The whole index, rebuilt (``consult search reindex``); the number of documents."""
    connection.execute(delete(SearchDocument))
    total = 0
    for plan_id in connection.execute(select(Plan.id).order_by(Plan.id)).scalars().all():
        total += reindex_plan(connection, plan_id)
    # Comments on a consultation itself belong to no plan.
    loose = connection.execute(select(Comment.id).where(Comment.plan_id.is_(None))).scalars()
    loose = loose.all()
    reindex_comments(connection, loose)
    return total + len(loose)


def apply(connection, pending: dict) -> None:
    """Bring the documents of what changed up to date (see ``_note_changes``)."""
    plans = pending.get("plans", set())
    for plan_id in sorted(plans):
        reindex_plan(connection, plan_id)
    comment_ids = set(pending.get("comments", set()))
    amendment_ids = pending.get("amendments", set())
    drafts = pending.get("draft_changes", set())
    if drafts:
        # Whether others may find the comments on an amendment follows its status.
        comment_ids |= set(
            connection.execute(
                select(Comment.id).where(
                    Comment.target_type == "amendment",
                    Comment.target_key.in_([str(amendment_id) for amendment_id in drafts]),
                )
            ).scalars()
        )
    if plans:
        amendment_ids = _outside(connection, Amendment, amendment_ids, plans)
        comment_ids = _outside(connection, Comment, comment_ids, plans)
    if amendment_ids:
        reindex_amendments(connection, amendment_ids)
    if comment_ids:
        reindex_comments(connection, comment_ids)


def _outside(connection, model, ids, plans) -> set[int]:
    """The ids whose rows are not in ``plans`` (those were just rebuilt whole)."""
    if not ids:
        return set()
    inside = set(
        connection.execute(
            select(model.id).where(model.id.in_(ids), model.plan_id.in_(plans))
        ).scalars()
    )
    return set(ids) - inside


# --- session events ----------------------------------------------------------------


def _changed(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _pending(session) -> dict:
    return session.info.setdefault(
        PENDING, {"plans": set(), "amendments": set(), "comments": set(), "draft_changes": set()}
    )


def _created(obj) -> list[tuple[str, int | None]]:
    if isinstance(obj, Amendment):
        return [("amendments", obj.id)]
    if isinstance(obj, Comment):
        return [("comments", obj.id)]
    if isinstance(obj, Plan) and obj.current_version_id is not None:
        return [("plans", obj.id)]
    if isinstance(obj, SectionGroup):
        return [("plans", obj.plan_id)]
    return []


def _changed_notes(obj) -> list[tuple[str, int | None]]:
    if isinstance(obj, Amendment) and _changed(obj, AMENDMENT_FIELDS):
        drafts = [("draft_changes", obj.id)] if _changed(obj, ("status",)) else []
        return [("amendments", obj.id), *drafts]
    if isinstance(obj, Comment) and _changed(obj, COMMENT_FIELDS):
        return [("comments", obj.id)]
    if isinstance(obj, Plan) and _changed(obj, ("current_version_id", "language")):
        return [("plans", obj.id)]
    if isinstance(obj, SectionGroup):
        return [("plans", obj.plan_id)]
    return []


def _deleted(obj) -> list[tuple[str, int | None]]:
    if isinstance(obj, Amendment):
        return [("amendments", obj.id), ("draft_changes", obj.id)]
    if isinstance(obj, Comment):
        return [("comments", obj.id)]
    if isinstance(obj, SectionGroup):
        return [("plans", obj.plan_id)]
    return []


@event.listens_for(Session, "after_flush")
def _note_changes(session, flush_context):
    notes = [
        *(note for obj in session.new for note in _created(obj)),
        *(note for obj in session.dirty for note in _changed_notes(obj)),
        *(note for obj in session.deleted for note in _deleted(obj)),
    ]
    notes = [(bucket, value) for bucket, value in notes if value is not None]
    if notes:
        pending = _pending(session)
        for bucket, value in notes:
            pending[bucket].add(value)


def flush_pending(session) -> None:
    """Write the documents of everything changed so far in this transaction
    (done before every commit; call it to search before committing)."""
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        apply(session.connection(), pending)


@event.listens_for(Session, "before_commit")
def _before_commit(session):
    flush_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session, transaction):
    if transaction.parent is None:
        session.info.pop(PENDING, None)
