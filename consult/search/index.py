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

import unicodedata
from dataclasses import dataclass, field

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
from ..database import utcnow
from ..extensions import Session
from ..plans.models import Plan, PlanNode, PlanVersion, SectionGroup
from .models import SearchDocument
from .schema import PG_CONFIGS, database_unaccents

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


# --- text --------------------------------------------------------------------------


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def fold_accents(text: str) -> str:
    """ "Participación" → "participacion": what a database without ``unaccent``
    indexes and is asked, so that accents never decide whether a word is found."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).lower()


_unaccent_cache: dict[str, bool] = {}


def accents_folded_by_database(connection) -> bool:
    """PostgreSQL: whether our text-search configurations remove accents
    (``unaccent``), checked once per database."""
    key = connection.engine.url.render_as_string(hide_password=True)
    if key not in _unaccent_cache:
        _unaccent_cache[key] = database_unaccents(connection)
    return _unaccent_cache[key]


def pg_text(text: str) -> str:
    """Text as PostgreSQL's parser should see it: it reads ``<…>`` as markup
    (and skips what is inside ``<script>``), but ours is plain text or Markdown."""
    return text.translate(_NO_ANGLE_BRACKETS)


_NO_ANGLE_BRACKETS = str.maketrans("<>", "  ")


def pg_config(language: str) -> str:
    return PG_CONFIGS.get(language, PG_CONFIGS["es"])[0]


# --- what a plan looks like --------------------------------------------------------


@dataclass
class PlanFacts:
    """What documents of one plan need: its forum, language, and for every key of
    its current version the reference and the working group in charge."""

    plan_id: int
    forum_id: int
    language: str
    refs: dict[str, str] = field(default_factory=dict)
    groups: dict[str, int | None] = field(default_factory=dict)

    def group(self, key: str | None) -> int | None:
        return self.groups.get(key) if key else None


def _groups_by_key(nodes, assignments: dict[str, int]) -> dict[str, int | None]:
    """Each key's group: that of the nearest enclosing section assigned to one."""
    parents = {key: parent for key, parent, _kind in nodes}
    result: dict[str, int | None] = {}
    for key in parents:
        chain, current, found = [], key, None
        while current is not None:
            if current in result:
                found = result[current]
                break
            chain.append(current)
            if current in assignments:
                found = assignments[current]
                break
            if len(chain) > len(parents):  # a malformed tree must not loop
                break
            current = parents.get(current)
        for item in chain:
            result[item] = found
    return result


def _plan_facts(connection, plan_ids, keys=None) -> dict[int, PlanFacts]:
    """What documents of these plans need. With ``keys``, only those items and
    the sections above them are read (a comment on a 2,000-item plan does not
    read 2,000 items); without, every item of the current versions."""
    plan_ids = {plan_id for plan_id in plan_ids if plan_id is not None}
    if not plan_ids:
        return {}
    rows = connection.execute(
        select(Plan.id, Plan.forum_id, Plan.language, Plan.current_version_id, PlanVersion.language)
        .outerjoin(PlanVersion, PlanVersion.id == Plan.current_version_id)
        .where(Plan.id.in_(plan_ids))
    ).all()
    facts = {
        plan_id: PlanFacts(plan_id, forum_id, version_language or language)
        for plan_id, forum_id, language, _version_id, version_language in rows
    }
    version_of = {version_id: plan_id for plan_id, _f, _l, version_id, _vl in rows if version_id}
    nodes: dict[int, list] = {plan_id: [] for plan_id in facts}
    columns = (PlanNode.version_id, PlanNode.key, PlanNode.parent_key, PlanNode.kind, PlanNode.ref)
    wanted = None if keys is None else {key for key in keys if key}
    seen: set[tuple[int, str]] = set()
    while version_of and (wanted is None or wanted):
        condition = PlanNode.version_id.in_(version_of)
        if wanted is not None:
            condition = condition & PlanNode.key.in_(wanted)
        parents = set()
        for version_id, key, parent_key, kind, ref in connection.execute(
            select(*columns).where(condition)
        ):
            plan_id = version_of[version_id]
            if (plan_id, key) in seen:
                continue
            seen.add((plan_id, key))
            nodes[plan_id].append((key, parent_key, kind))
            facts[plan_id].refs[key] = ref
            if parent_key is not None:
                parents.add(parent_key)
        if wanted is None:
            break
        wanted = {key for key in parents if not any((p, key) in seen for p in facts)}
    assignments: dict[int, dict[str, int]] = {plan_id: {} for plan_id in facts}
    for plan_id, section_key, group_id in connection.execute(
        select(SectionGroup.plan_id, SectionGroup.section_key, SectionGroup.working_group_id).where(
            SectionGroup.plan_id.in_(facts)
        )
    ):
        assignments[plan_id][section_key] = group_id
    for plan_id, plan_facts in facts.items():
        sections = {key for key, _parent, kind in nodes[plan_id] if kind == "section"}
        assigned = {key: group for key, group in assignments[plan_id].items() if key in sections}
        plan_facts.groups = _groups_by_key(nodes[plan_id], assigned)
    return facts


# --- building documents ------------------------------------------------------------


def _document(kind: str, object_id: int, **values) -> dict:
    row = {
        "kind": kind,
        "object_id": object_id,
        "forum_id": None,
        "plan_id": None,
        "working_group_id": None,
        "target_key": None,
        "ref": "",
        "label": "",
        "status": None,
        "language": "es",
        "reader_id": None,
        "title": "",
        "body": "",
        "created_at": utcnow(),
    }
    row.update(values)
    row["title"], row["body"] = normalise(row["title"]), normalise(row["body"])
    row["ref"], row["label"] = (row["ref"] or "")[:60], (row["label"] or "")[:20]
    return row


def _node_documents(connection, facts: PlanFacts) -> list[dict]:
    rows = connection.execute(
        select(PlanNode.id, PlanNode.key, PlanNode.kind, PlanNode.ref, PlanNode.text)
        .join(Plan, Plan.current_version_id == PlanNode.version_id)
        .where(Plan.id == facts.plan_id)
    )
    return [
        _document(
            "node",
            node_id,
            forum_id=facts.forum_id,
            plan_id=facts.plan_id,
            working_group_id=facts.group(key),
            target_key=key,
            ref=ref,
            language=facts.language,
            title=text if kind == "section" else "",
            body=text,
        )
        for node_id, key, kind, ref, text in rows
    ]


def _amendment_documents(connection, amendments, facts: dict[int, PlanFacts]) -> list[dict]:
    documents = []
    for row in amendments:
        if row.status == "draft" and row.author_id is None:
            continue  # nobody's draft: nobody finds it
        plan = facts.get(row.plan_id)
        body = "\n\n".join(part for part in (row.proposed_text, row.justification) if part)
        documents.append(
            _document(
                "amendment",
                row.id,
                forum_id=row.forum_id,
                plan_id=row.plan_id,
                working_group_id=plan.group(row.target_key) if plan else None,
                target_key=row.target_key,
                ref=row.target_ref,
                label=f"E{row.number}",
                status=row.status,
                language=row.language,
                reader_id=row.author_id if row.status == "draft" else None,
                body=body,
                created_at=row.created_at,
            )
        )
    return documents


def _amendment_rows(connection, condition):
    return connection.execute(
        select(
            Amendment.id,
            Amendment.forum_id,
            Amendment.plan_id,
            Amendment.number,
            Amendment.status,
            Amendment.target_key,
            Amendment.target_ref,
            Amendment.proposed_text,
            Amendment.justification,
            Amendment.language,
            Amendment.author_id,
            Amendment.created_at,
        ).where(condition)
    ).all()


def _comment_rows(connection, condition):
    return connection.execute(
        select(
            Comment.id,
            Comment.forum_id,
            Comment.plan_id,
            Comment.target_type,
            Comment.target_key,
            Comment.body,
            Comment.language,
            Comment.created_at,
        ).where(condition, Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))
    ).all()


def _comment_documents(connection, comments, facts: dict[int, PlanFacts]) -> list[dict]:
    amendment_ids = {
        int(row.target_key)
        for row in comments
        if row.target_type == "amendment" and row.target_key.isdigit()
    }
    amendments = {}
    if amendment_ids:
        amendments = {
            row.id: row
            for row in connection.execute(
                select(
                    Amendment.id,
                    Amendment.number,
                    Amendment.status,
                    Amendment.author_id,
                    Amendment.target_key,
                    Amendment.target_ref,
                ).where(Amendment.id.in_(amendment_ids))
            )
        }
    documents = []
    for row in comments:
        if not row.body.strip():
            continue
        plan = facts.get(row.plan_id)
        values = {"forum_id": row.forum_id, "plan_id": row.plan_id, "language": row.language}
        if row.target_type == "node":
            values |= {
                "target_key": row.target_key,
                "ref": plan.refs.get(row.target_key, "") if plan else "",
                "working_group_id": plan.group(row.target_key) if plan else None,
            }
        elif row.target_type == "amendment":
            amendment = amendments.get(int(row.target_key)) if row.target_key.isdigit() else None
            if amendment is None:
                continue
            if amendment.status == "draft":
                if amendment.author_id is None:
                    continue
                values["reader_id"] = amendment.author_id
            values |= {
                "target_key": amendment.target_key,
                "ref": amendment.target_ref,
                "label": f"E{amendment.number}",
                "working_group_id": plan.group(amendment.target_key) if plan else None,
            }
        documents.append(
            _document("comment", row.id, body=row.body, created_at=row.created_at, **values)
        )
    return documents


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
    facts = _plan_facts(connection, [plan_id])
    documents = []
    if plan_id in facts:
        documents = _node_documents(connection, facts[plan_id])
        documents += _amendment_documents(
            connection, _amendment_rows(connection, Amendment.plan_id == plan_id), facts
        )
        documents += _comment_documents(
            connection, _comment_rows(connection, Comment.plan_id == plan_id), facts
        )
    _replace(connection, documents, existing)
    return len(documents)


def reindex_amendments(connection, amendment_ids) -> None:
    amendment_ids = list(amendment_ids)
    for start in range(0, len(amendment_ids), CHUNK):
        chunk = amendment_ids[start : start + CHUNK]
        rows = _amendment_rows(connection, Amendment.id.in_(chunk))
        facts = _plan_facts(
            connection, {row.plan_id for row in rows}, {row.target_key for row in rows}
        )
        documents = _amendment_documents(connection, rows, facts)
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
        rows = _comment_rows(connection, Comment.id.in_(chunk))
        facts = _plan_facts(
            connection, {row.plan_id for row in rows}, _commented_keys(connection, rows)
        )
        documents = _comment_documents(connection, rows, facts)
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
