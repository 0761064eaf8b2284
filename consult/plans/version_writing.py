"""Writing a plan's versions: every edit, import and consolidated draft adds
the next version (never changing one), with its nodes as rows; a node keeps
its stable key across versions, matched by text when a whole document is
read again."""

import difflib
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from ..audit.services import record
from ..errors import Conflict
from ..extensions import db
from ..inputs import clean_text
from .models import Plan, PlanNode, PlanVersion
from .parsed import ParsedPlan

KEY_MATCH_WINDOW = 30
KEY_MATCH_MIN_SIMILARITY = 0.5


def new_key() -> str:
    return secrets.token_hex(5)


def rows_from_parsed(parsed: ParsedPlan, keys: dict[int, str] | None = None) -> list[dict]:
    """A parsed tree as node rows in document order, each with its key (kept
    from ``keys``, by node, or a new one) and its parent's."""
    rows = []
    node_keys: dict[int, str] = {}
    for position, (node, parent, depth) in enumerate(parsed.walk()):
        key = (keys or {}).get(id(node)) or new_key()
        node_keys[id(node)] = key
        rows.append(
            {
                "key": key,
                "parent_key": node_keys[id(parent)] if parent is not None else None,
                "position": position,
                "depth": depth,
                "kind": node.kind,
                "number": node.number[:20],
                "ref": node.ref[:60],
                "text": node.text,
            }
        )
    return rows


def _counts(rows: list[dict]) -> dict:
    return {
        "section_count": sum(1 for row in rows if row["kind"] == "section"),
        "item_count": sum(1 for row in rows if row["kind"] == "item"),
        "footnote_count": sum(1 for row in rows if row["kind"] == "footnote"),
    }


def write_version(
    plan: Plan,
    rows: list[dict],
    *,
    title: str,
    origin: str,
    actor,
    note: str = "",
    based_on: PlanVersion | None = None,
) -> PlanVersion:
    """Add the next version with ``rows`` as its nodes and make it current.

    With ``based_on``, the plan must still be at that version: two
    facilitators editing the same version cannot overwrite each other.
    """
    if based_on is not None:
        moved = db.session.execute(
            update(Plan)
            .where(Plan.id == plan.id, Plan.current_version_id == based_on.id)
            .values(current_version_id=based_on.id)
        ).rowcount
        if not moved:
            raise Conflict(
                _(
                    "Someone saved a newer version of this plan in the meantime. "
                    "Your text is kept below."
                )
            )
    number = (
        db.session.scalar(
            select(func.max(PlanVersion.number)).where(PlanVersion.plan_id == plan.id)
        )
        or 0
    ) + 1
    version = PlanVersion(
        plan_id=plan.id,
        number=number,
        title=title[:300],
        origin=origin,
        note=clean_text(note, multiline=False)[:500],
        based_on_id=based_on.id if based_on else None,
        created_by_id=getattr(actor, "id", None),
        language=plan.language,
        **_counts(rows),
    )
    db.session.add(version)
    db.session.flush()
    if rows:
        db.session.execute(
            insert(PlanNode).execution_options(render_nulls=True),
            [{**row, "version_id": version.id} for row in rows],
        )
    plan.current_version_id = version.id
    db.session.flush()
    db.session.refresh(plan)
    record(f"plan.version_{origin}", version, actor=actor, forum=plan.forum, number=number)
    return version


def match_keys(parsed: ParsedPlan, old_nodes: list[PlanNode]) -> dict[int, str]:
    """Keep each node's stable key across a re-import: the same text first; then,
    among the nodes nearby, the most similar text of the same kind."""
    by_text: dict[tuple[str, str], list[PlanNode]] = {}
    for node in old_nodes:
        by_text.setdefault((node.kind, node.text), []).append(node)
    used: set[str] = set()
    keys: dict[int, str] = {}
    pending = []
    for index, (node, _parent, _depth) in enumerate(parsed.walk()):
        candidates = [c for c in by_text.get((node.kind, node.text), []) if c.key not in used]
        if candidates:
            best = min(candidates, key=lambda c: abs(c.position - index))
            keys[id(node)] = best.key
            used.add(best.key)
        else:
            pending.append((index, node))
    for index, node in pending:
        window = old_nodes[max(0, index - KEY_MATCH_WINDOW) : index + KEY_MATCH_WINDOW]
        best, best_score = None, KEY_MATCH_MIN_SIMILARITY
        for old in window:
            if old.kind != node.kind or old.key in used:
                continue
            matcher = difflib.SequenceMatcher(None, old.text, node.text, autojunk=False)
            if matcher.quick_ratio() < best_score:
                continue
            score = matcher.ratio()
            if score >= best_score:
                best, best_score = old, score
        if best is not None:
            keys[id(node)] = best.key
            used.add(best.key)
    return keys
