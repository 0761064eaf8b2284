"""Positions, numbers and references of a merged version's rows: the lists
that gained or lost a member are renumbered, and references are given by the
importer's own rules. Pure functions, no database."""

from ..plans.parsed import ParsedNode, ParsedPlan, assign_refs


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
