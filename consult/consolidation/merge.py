"""Applying accepted amendments to a version's text: pure functions, no database.

Texts are merged at word level. Every amendment is turned into *edits* of the
text it was written against (character ranges of that text and their
replacement, found with the word diff). Edits of different amendments to the
same text merge when they touch different words; edits that touch the same
words (or insert at the same place) are a conflict and are never guessed. An
amendment written against an older text is first carried over to the current
text the same way (a three-way merge with the older text as the common base).
"""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..diffing import DELETE, EQUAL, INSERT, word_diff
from ..plans.parsed import ParsedNode, ParsedPlan, assign_refs

# --- word-level three-way merging -----------------------------------------------------


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def edits(base: str, changed: str) -> list[Edit]:
    """What turns ``base`` into ``changed``, as non-overlapping edits of ``base``."""
    found: list[Edit] = []
    position = 0
    pending: Edit | None = None
    for op, text in word_diff(base, changed):
        if op == EQUAL:
            if pending is not None:
                found.append(pending)
                pending = None
            position += len(text)
        elif op == DELETE:
            start = pending.start if pending else position
            position += len(text)
            pending = Edit(start, position, pending.text if pending else "")
        elif op == INSERT:
            pending = Edit(
                pending.start if pending else position,
                pending.end if pending else position,
                (pending.text if pending else "") + text,
            )
    if pending is not None:
        found.append(pending)
    return found


def _clash(a: Edit, b: Edit) -> bool:
    if a == b:
        return False  # the same change twice is one change
    if a.start == a.end and b.start == b.end:
        return a.start == b.start  # two insertions at the same place: which first?
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def merge(base: str, variants: Sequence[str]) -> str | None:
    """One text with every variant's changes to ``base``, or None when two of them
    change the same words."""
    all_edits: list[Edit] = []
    for variant in variants:
        for edit in edits(base, variant):
            if any(_clash(edit, other) for other in all_edits):
                return None
            if edit not in all_edits:
                all_edits.append(edit)
    text = base
    for edit in sorted(all_edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def carry_over(original: str, proposed: str, current: str) -> str | None:
    """``proposed`` (written against ``original``) carried over to ``current``: the
    amendment's own change applied to the text as it is now, or None if the text
    changed at the words the amendment changes."""
    if original == current:
        return proposed
    return merge(original, [proposed, current])


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
    changes = sorted(changes, key=lambda change: change.number)
    by_key = {row["key"]: dict(row) for row in rows}
    order = [row["key"] for row in rows]
    result = Result(rows=[])

    text_changes: dict[str, list[Change]] = {}
    insertions: dict[str | None, list[Change]] = {}
    for change in changes:
        if change.operation in ("replace", "delete"):
            if change.target_key not in by_key:
                _conflict(result, change.target_key, "", "target_gone", [change])
                continue
            text_changes.setdefault(change.target_key, []).append(change)
        else:
            if change.target_key is not None and change.target_key not in by_key:
                _conflict(result, change.target_key, "", "target_gone", [change])
                continue
            insertions.setdefault(change.target_key, []).append(change)

    removed: set[str] = set()
    for done, key in enumerate(order, start=1):
        node_changes = text_changes.get(key)
        if node_changes:
            _change_text(by_key[key], node_changes, removed, result)
        if progress is not None and done % 100 == 0:
            progress(done)

    # A deleted node takes what hangs under it (a section its items) with it. The
    # rows stay in place, marked, until the insertions are made: an item proposed
    # after a deleted one takes its place.
    touched: set[str | None] = set()
    rows_now = [by_key[key] for key in order]
    skip_below: int | None = None
    for row in rows_now:
        if skip_below is not None and row["depth"] > skip_below:
            row["_removed"] = True
            continue
        skip_below = None
        if row["key"] in removed:
            row["_removed"] = True
            touched.add(row["parent_key"])
            skip_below = row["depth"]
    rows_now = _insert(rows_now, insertions, new_key, result)
    final = [row for row in rows_now if not row.get("_removed")]
    touched.update(row["parent_key"] for row in final if row.get("_new"))
    first_numbers: dict[tuple, str] = {}
    for row in rows:
        first_numbers.setdefault((row["parent_key"], row["kind"]), row["number"])
    result.rows = finalize(final, touched, first_numbers)
    if progress is not None:
        progress(len(order))
    return result


def finalize(
    rows: list[dict], touched: set[str | None], first_numbers: dict[tuple, str] | None = None
) -> list[dict]:
    """Positions, numbers and references for ``rows`` in document order.

    Lists that gained or lost an item (children of a parent in ``touched``) are
    renumbered when they are numbered 1, 2, 3… or a, b, c…; references are then
    given by the importer's own rules, so "4.8" means what it would after an import.
    ``first_numbers``: the number each list started with before the changes.
    """
    siblings: dict[str | None, list[dict]] = {}
    for row in rows:
        siblings.setdefault(row["parent_key"], []).append(row)
    for parent, group in siblings.items():
        if parent not in touched:
            continue
        for kind in ("item", "section"):
            start = (first_numbers or {}).get((parent, kind), "")
            _renumber([row for row in group if row["kind"] == kind], start)

    nodes: dict[str, ParsedNode] = {}
    roots: list[ParsedNode] = []
    for row in rows:
        level = row["depth"] + 1 if row["kind"] == "section" else 1
        node = ParsedNode(row["kind"], row["text"], row["number"], level=level, key=row["key"])
        nodes[row["key"]] = node
        parent = nodes.get(row["parent_key"]) if row["parent_key"] else None
        (parent.children if parent is not None else roots).append(node)
    parsed = ParsedPlan(title=None, nodes=roots, warnings=[])
    assign_refs(parsed, [])
    finished = []
    for position, (node, parent, depth) in enumerate(parsed.walk()):
        finished.append(
            {
                "key": node.key,
                "parent_key": parent.key if parent is not None else None,
                "position": position,
                "depth": depth,
                "kind": node.kind,
                "number": node.number[:20],
                "ref": node.ref[:60],
                "text": node.text,
            }
        )
    return finished


def _renumber(members: list[dict], first: str) -> None:
    """1, 2, 3… or a, b, c…, from the number the list started with (``first``);
    in any other scheme the old numbers are kept and a new member gets its place."""
    if not members:
        return
    old = [row["number"] for row in members if not row.get("_new") and row["number"]]
    if all(number.isdigit() for number in old):
        start = int(first) if first.isdigit() else 1
        for offset, row in enumerate(members):
            row["number"] = str(start + offset)
    elif all(len(number) == 1 and "a" <= number <= "z" for number in old):
        start = ord(first) if len(first) == 1 and "a" <= first <= "z" else ord("a")
        for offset, row in enumerate(members):
            row["number"] = chr(min(start + offset, ord("z")))
    else:
        for offset, row in enumerate(members):
            row["number"] = row["number"] or str(offset + 1)


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
