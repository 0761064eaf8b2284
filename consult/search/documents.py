"""The documents of the search index, built from the rows as they are: a
plan's nodes, its amendments and its comments, each with what the search
shows and filters on (its plan, section, working group and readers)."""

from dataclasses import dataclass, field

from sqlalchemy import (
    select,
)

from ..amendments.models import Amendment
from ..comments.models import Comment
from ..database import utcnow
from ..plans.models import Plan, PlanNode, PlanVersion, SectionGroup
from .text import normalise

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


def plan_facts(connection, plan_ids, keys=None) -> dict[int, PlanFacts]:
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


def node_documents(connection, facts: PlanFacts) -> list[dict]:
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


def amendment_documents(connection, amendments, facts: dict[int, PlanFacts]) -> list[dict]:
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


def amendment_rows(connection, condition):
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


def comment_rows(connection, condition):
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


def comment_documents(connection, comments, facts: dict[int, PlanFacts]) -> list[dict]:
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
