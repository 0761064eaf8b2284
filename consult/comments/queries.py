"""How much each target is discussed: shown comments counted by alignment."""

from collections import defaultdict

from sqlalchemy import func, select

from ..extensions import db
from ..plans.models import Plan
from .models import ALIGNMENTS, Comment
from .targets import target_condition


def _empty_counts() -> dict:
    return {"total": 0, **dict.fromkeys(ALIGNMENTS, 0)}


def visible():
    return Comment.deleted_at.is_(None) & Comment.hidden_at.is_(None)


def counts(plan: Plan) -> dict[str, dict]:
    """For every node of ``plan`` with comments: ``{"total": n, "in_favour": …,
    "against": …, "neutral": …}`` (shown comments only). One grouped query;
    nodes without comments are absent (use ``.get(key, EMPTY_COUNTS)``)."""
    rows = db.session.execute(
        select(Comment.target_key, Comment.alignment, func.count())
        .where(Comment.target_type == "node", Comment.plan_id == plan.id, visible())
        .group_by(Comment.target_key, Comment.alignment)
    )
    result: dict[str, dict] = defaultdict(_empty_counts)
    for key, alignment, number in rows:
        result[key][alignment] = number
        result[key]["total"] += number
    return dict(result)


EMPTY_COUNTS = _empty_counts()


def counts_subquery(target_type: str, plan_id: int):
    """Shown comments per target of one plan, as a subquery ``(target_key, n)``
    that lists can join to show or sort by how discussed each entry is."""
    return (
        select(Comment.target_key, func.count().label("n"))
        .where(Comment.target_type == target_type, Comment.plan_id == plan_id, visible())
        .group_by(Comment.target_key)
        .subquery()
    )


def counts_for(target_type: str, plan: Plan | None, target_key: str) -> dict:
    """Shown comments on one target, in total and by alignment (one query)."""
    rows = db.session.execute(
        select(Comment.alignment, func.count())
        .where(target_condition(target_type, getattr(plan, "id", None), target_key), visible())
        .group_by(Comment.alignment)
    )
    result = _empty_counts()
    for alignment, number in rows:
        result[alignment] = number
        result["total"] += number
    return result
