"""Which open amendments touch the same item, and whether their changes overlap
word by word (then they cannot all be applied: a compromise is needed)."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..diffing import DELETE, EQUAL, INSERT, word_diff
from ..extensions import db
from ..plans.models import Plan
from .models import OPEN_STATUSES, Amendment


def changed_ranges(original: str, proposed: str) -> list[tuple[int, int]]:
    """The character ranges of ``original`` that a proposal changes (an
    insertion is a zero-width range at its position)."""
    ranges, position = [], 0
    for op, text in word_diff(original, proposed):
        if op == EQUAL:
            position += len(text)
        elif op == DELETE:
            ranges.append((position, position + len(text)))
            position += len(text)
        elif op == INSERT:
            ranges.append((position, position))
    return ranges


def _overlap(a: Amendment, b: Amendment) -> bool:
    if "delete" in (a.operation, b.operation) or "new_section" in (a.operation, b.operation):
        return a.operation != "insert_after" and b.operation != "insert_after"
    if a.operation == "insert_after" or b.operation == "insert_after":
        return False
    if a.original_text != b.original_text:
        return True  # different bases: a person must look
    for start_a, end_a in changed_ranges(a.original_text, a.proposed_text):
        for start_b, end_b in changed_ranges(b.original_text, b.proposed_text):
            if start_a <= end_b and start_b <= end_a:
                return True
    return False


@dataclass
class TargetConflicts:
    target_key: str
    target_ref: str
    amendments: list[Amendment]
    overlapping: set[tuple[int, int]] = field(default_factory=set)

    def overlaps(self, amendment: Amendment) -> bool:
        return any(amendment.id in pair for pair in self.overlapping)


def conflicts(plan: Plan, target_key: str | None = None) -> list[TargetConflicts]:
    """Open amendments that touch the same item, and which of them overlap at word level."""
    query = (
        select(Amendment)
        .options(joinedload(Amendment.author))
        .where(
            Amendment.plan_id == plan.id,
            Amendment.status.in_(OPEN_STATUSES),
            Amendment.parent_id.is_(None),
        )
        .order_by(Amendment.target_ref, Amendment.number)
    )
    if target_key is not None:
        query = query.where(Amendment.target_key == target_key)
    groups: dict[str, list[Amendment]] = {}
    for amendment in db.session.scalars(query):
        if amendment.target_key:
            groups.setdefault(amendment.target_key, []).append(amendment)
    result = []
    for key, items in groups.items():
        if len(items) < 2:
            continue
        found = TargetConflicts(key, items[0].target_ref, items)
        for index, first in enumerate(items):
            for second in items[index + 1 :]:
                if _overlap(first, second):
                    found.overlapping.add((first.id, second.id))
        result.append(found)
    return result
