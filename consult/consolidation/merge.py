"""Applying accepted amendments to a version's text: pure functions, no database.

Text changes to one item are merged at word level (``word_merge``): changes
that touch the same words are a conflict and are never guessed. Insertions
after an item and new sections are added in amendment order; positions, numbers
and references are then recomputed (``numbering``).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .numbering import finalize
from .word_merge import carry_over, merge

# --- the document ---------------------------------------------------------------------------


@dataclass
class Change:
    """An accepted amendment as the merge sees it."""

    id: int
    label: str
    number: int
    operation: str  # replace, delete, insert_after, new_section
    target_key: str | None
    original_text: str
    proposed_text: str

    @classmethod
    def of(cls, amendment) -> "Change":
        """An accepted amendment (anything with an amendment's fields) as the merge sees it."""
        return cls(
            id=amendment.id,
            label=amendment.label,
            number=amendment.number,
            operation=amendment.operation,
            target_key=amendment.target_key,
            original_text=amendment.original_text,
            proposed_text=amendment.proposed_text,
        )


@dataclass
class Applied:
    change: Change
    key: str  # the node changed, removed or added
    before: str
    after: str


@dataclass
class MergeConflict:
    key: str | None
    ref: str
    reason: str  # overlap, changed_since, delete_and_edit, target_gone
    changes: list[Change]


@dataclass
class Result:
    rows: list[dict]
    applied: list[Applied] = field(default_factory=list)
    conflicts: list[MergeConflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def _new_section_nodes(text: str) -> list[tuple[str, str, str]]:
    """(kind, number, text) for a proposed new section: its first line is the
    heading; each further line is an item ("1. …") or a paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    nodes = [("section", "", lines[0])]
    for line in lines[1:]:
        match = re.match(r"^(\d{1,3})[.)]\s+(.*)$", line)
        if match:
            nodes.append(("item", match.group(1), match.group(2)))
        else:
            nodes.append(("paragraph", "", line))
    return nodes


def apply_changes(
    rows: list[dict],
    changes: Iterable[Change],
    new_key: Callable[[], str],
    progress: Callable[[int], None] | None = None,
) -> Result:
    """The next version's rows: ``rows`` (a version's nodes in document order, as
    dicts with key, parent_key, depth, kind, number, ref, text) with ``changes``
    applied where they can be, and the conflicts where they cannot.

    Text changes to one item (replace, delete, compromises) are merged together;
    insertions after an item and new sections are added in amendment order.
    Positions, item numbers and references are recomputed afterwards by the caller.
    ``progress(done)`` is called as items are processed.
    """
    by_key = {row["key"]: dict(row) for row in rows}
    order = [row["key"] for row in rows]
    result = Result(rows=[])
    text_changes, insertions = _sort_changes(changes, by_key, result)
    removed = _change_texts(order, by_key, text_changes, result, progress)
    rows_now = [by_key[key] for key in order]
    touched = _mark_removed(rows_now, removed)
    rows_now = _insert(rows_now, insertions, new_key, result)
    final = [row for row in rows_now if not row.get("_removed")]
    touched.update(row["parent_key"] for row in final if row.get("_new"))
    result.rows = finalize(final, touched, _first_numbers(rows))
    if progress is not None:
        progress(len(order))
    return result


def _sort_changes(
    changes: Iterable[Change], by_key: dict[str, dict], result: Result
) -> tuple[dict[str, list[Change]], dict[str | None, list[Change]]]:
    """The changes, in amendment order, by the item whose text they change and
    by the node they insert after; one whose node is gone is a conflict."""
    text_changes: dict[str, list[Change]] = {}
    insertions: dict[str | None, list[Change]] = {}
    for change in sorted(changes, key=lambda change: change.number):
        changes_text = change.operation in ("replace", "delete")
        if (changes_text or change.target_key is not None) and change.target_key not in by_key:
            _conflict(result, change.target_key, "", "target_gone", [change])
        elif changes_text:
            text_changes.setdefault(change.target_key, []).append(change)
        else:
            insertions.setdefault(change.target_key, []).append(change)
    return text_changes, insertions


def _change_texts(order, by_key, text_changes, result, progress) -> set[str]:
    """Merge each item's text changes, in document order; returns the keys of
    the items deleted."""
    removed: set[str] = set()
    for done, key in enumerate(order, start=1):
        node_changes = text_changes.get(key)
        if node_changes:
            _change_text(by_key[key], node_changes, removed, result)
        if progress is not None and done % 100 == 0:
            progress(done)
    return removed


def _mark_removed(rows: list[dict], removed: set[str]) -> set[str | None]:
    """Mark the deleted nodes and what hangs under them (a section its items);
    returns the parents whose lists lost a member. The rows stay in place until
    the insertions are made: an item proposed after a deleted one takes its place."""
    touched: set[str | None] = set()
    skip_below: int | None = None
    for row in rows:
        if skip_below is not None and row["depth"] > skip_below:
            row["_removed"] = True
            continue
        skip_below = None
        if row["key"] in removed:
            row["_removed"] = True
            touched.add(row["parent_key"])
            skip_below = row["depth"]
    return touched


def _first_numbers(rows: list[dict]) -> dict[tuple, str]:
    """The number each list (a parent's items, or its sections) started with."""
    first_numbers: dict[tuple, str] = {}
    for row in rows:
        first_numbers.setdefault((row["parent_key"], row["kind"]), row["number"])
    return first_numbers


def _conflict(result: Result, key, ref: str, reason: str, changes: list[Change]) -> None:
    result.conflicts.append(MergeConflict(key, ref, reason, list(changes)))


def _change_text(row: dict, node_changes: list[Change], removed: set[str], result: Result) -> None:
    current = row["text"]
    deletes = [c for c in node_changes if c.operation == "delete"]
    replaces = [c for c in node_changes if c.operation == "replace"]
    if deletes and replaces:
        _conflict(result, row["key"], row["ref"], "delete_and_edit", node_changes)
        return
    if deletes:
        removed.add(row["key"])
        result.applied.append(Applied(deletes[0], row["key"], current, ""))
        for other in deletes[1:]:  # the same deletion asked twice
            result.applied.append(Applied(other, row["key"], current, ""))
        return
    carried = []
    for change in replaces:
        text = carry_over(change.original_text, change.proposed_text, current)
        if text is None:
            _conflict(result, row["key"], row["ref"], "changed_since", replaces)
            return
        carried.append(text)
    merged = merge(current, carried)
    if merged is None:
        _conflict(result, row["key"], row["ref"], "overlap", replaces)
        return
    row["text"] = merged
    for change, text in zip(replaces, carried, strict=True):
        result.applied.append(Applied(change, row["key"], current, text))


def _subtree_end(rows: list[dict], index: int) -> int:
    """The index just after the node at ``index`` and everything under it."""
    depth = rows[index]["depth"]
    end = index + 1
    while end < len(rows) and rows[end]["depth"] > depth:
        end += 1
    return end


def _insert(
    rows: list[dict],
    insertions: dict[str | None, list[Change]],
    new_key: Callable[[], str],
    result: Result,
) -> list[dict]:
    for changes in insertions.values():
        for change in changes:
            if change.operation == "insert_after":
                rows = _insert_item(rows, change, new_key, result)
            else:
                rows = _insert_section(rows, change, new_key, result)
    return rows


def _index_of(rows: list[dict], key: str) -> int | None:
    return next((i for i, row in enumerate(rows) if row["key"] == key), None)


def _insert_item(rows, change: Change, new_key, result) -> list[dict]:
    index = _index_of(rows, change.target_key)
    target = rows[index]
    if target.get("_removed") and target["kind"] == "section":
        # Items for a section that this consolidation deletes: a person must decide.
        _conflict(result, change.target_key, target["ref"], "target_gone", [change])
        return rows
    if target["kind"] == "section":
        # "A new item after the heading": the section's first item.
        at, parent, depth, kind = index + 1, target["key"], target["depth"] + 1, "item"
    else:
        # After the item and what hangs under it, and after items inserted there before.
        at = _subtree_end(rows, index)
        while at < len(rows) and rows[at].get("_inserted_after") == target["key"]:
            at = _subtree_end(rows, at)
        parent, depth, kind = target["parent_key"], target["depth"], target["kind"]
    key = new_key()
    row = {
        "key": key,
        "parent_key": parent,
        "depth": depth,
        "kind": kind,
        "number": "",
        "ref": "",
        "text": change.proposed_text,
        "_inserted_after": change.target_key,
        "_new": True,
    }
    result.applied.append(Applied(change, key, "", change.proposed_text))
    return [*rows[:at], row, *rows[at:]]


def _insert_section(rows, change: Change, new_key, result) -> list[dict]:
    nodes = _new_section_nodes(change.proposed_text)
    if not nodes:
        return rows
    if change.target_key is None:
        at = len(rows)
        while at > 0 and rows[at - 1]["kind"] in ("footnote", "closing"):
            at -= 1
    else:
        index = _index_of(rows, change.target_key)
        # After the top-level section that holds the target, with all it contains.
        while index > 0 and rows[index]["depth"] > 0:
            index -= 1
        at = _subtree_end(rows, index)
    section_key = new_key()
    new_rows = []
    for kind, number, text in nodes:
        is_heading = kind == "section"
        new_rows.append(
            {
                "key": section_key if is_heading else new_key(),
                "parent_key": None if is_heading else section_key,
                "depth": 0 if is_heading else 1,
                "kind": kind,
                "number": number,
                "ref": "",
                "text": text,
                "_new": True,
            }
        )
    result.applied.append(Applied(change, section_key, "", change.proposed_text))
    return [*rows[:at], *new_rows, *rows[at:]]
