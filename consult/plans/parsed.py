"""What the importer reads a document into (a tree of ``ParsedNode``s with the
warnings of what it repaired or doubts), and the references people cite,
given to each node once the tree is built."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"

WARNINGS = {
    "joined": _l("Line %(line)d was joined to the previous block (it starts in lower case)."),
    "dehyphenated": _l(
        "Line %(line)d: “%(word)s” was split by a hyphen at the end of a line and was joined."
    ),
    "numbering_gap": _l("Line %(line)d: item %(number)s follows item %(previous)s."),
    "numbering_repeat": _l("Line %(line)d: item %(number)s appears twice in the same section."),
    "heading_by_shape": _l(
        "Line %(line)d was read as a section heading (a short line before a list)."
    ),
    "page_number": _l("Line %(line)d looks like a page number; remove it if it is one."),
    "continuation": _l(
        "Line %(line)d stands between items %(previous)s and %(next)s: it may be the end of "
        "item %(previous)s, cut off by a page break."
    ),
    "no_title": _l("No title line was found; the title given with the import is used."),
    "bullet_without_parent": _l("Line %(line)d: a sub-bullet without a bullet above it."),
}


@dataclass
class ImportWarning:
    line: int
    code: str
    params: dict = field(default_factory=dict)
    # A repair the preview offers for this place (see repairs.FIXES), or "".
    fix: str = ""

    @property
    def message(self) -> str:
        return str(WARNINGS[self.code]) % {"line": self.line, **self.params}


@dataclass
class ParsedNode:
    kind: str
    text: str
    number: str = ""
    level: int = 1
    line: int = 0
    children: list["ParsedNode"] = field(default_factory=list)
    ref: str = ""
    key: str = ""
    # The later source lines read into this node (a wrapped or cut block).
    joined: list[int] = field(default_factory=list)

    @property
    def cited_ref(self) -> str:
        """The reference people cite (sections and items); other nodes are cited
        by their lines, so their internal reference is not shown."""
        return self.ref if self.kind in ("section", "item") else ""

    @property
    def repairs(self) -> tuple[str, ...]:
        """The repairs the preview offers on this node (see ``repairs``): a
        paragraph may continue the block above, or be a heading read as text."""
        return ("join", "heading") if self.kind == "paragraph" else ()


@dataclass
class ParsedPlan:
    title: str | None
    nodes: list[ParsedNode]
    warnings: list[ImportWarning]
    # The source's lines as the warnings number them (an import's preview).
    source: list[str] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[ParsedNode, ParsedNode | None, int]]:
        """Every node in document order, with its parent and depth."""

        def visit(nodes, parent, depth):
            for node in nodes:
                yield node, parent, depth
                yield from visit(node.children, node, depth + 1)

        yield from visit(self.nodes, None, 0)

    def count(self, kind: str) -> int:
        return sum(1 for node, _parent, _depth in self.walk() if node.kind == kind)

    @property
    def sections(self) -> int:
        return self.count("section")

    @property
    def items(self) -> int:
        return self.count("item")

    @property
    def footnotes(self) -> int:
        return self.count("footnote")


def superscript_to_digits(marker: str) -> str:
    return "".join(str(SUPERSCRIPTS.index(ch)) if ch in SUPERSCRIPTS else ch for ch in marker)


# --- references ---------------------------------------------------------------


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def assign_refs(plan: ParsedPlan, warnings: list[ImportWarning]) -> None:
    """Give every node the reference people cite: ``4.7``, ``22.A.3``, ``4.p1``…"""
    _References(warnings).visit(plan.nodes, "")


@dataclass
class _References:
    """The references given so far (each is unique in the plan), and the
    warnings about item numbers that do not follow each other."""

    warnings: list[ImportWarning]
    used: set[str] = field(default_factory=set)

    def unique(self, ref: str) -> str:
        candidate, n = ref, 2
        while candidate in self.used:
            candidate, n = f"{ref}-{n}", n + 1
        self.used.add(candidate)
        return candidate

    def visit(self, nodes: list[ParsedNode], prefix: str) -> None:
        counters = {"section": 0, "paragraph": 0, "bullet": 0, "closing": 0}
        has_items = any(node.kind in {"item", "section"} for node in nodes)
        previous_number = None
        for node in nodes:
            if node.kind == "item":
                self.check_numbering(node, previous_number)
                previous_number = node.number
            if node.kind in counters:
                counters[node.kind] += 1
            ref = _local_ref(node, prefix, counters, has_items)
            if ref is not None:
                node.ref = self.unique(ref)
            self.visit(node.children, node.ref)

    def check_numbering(self, node: ParsedNode, previous_number: str | None) -> None:
        number = node.number
        if not (number.isdigit() and previous_number is not None and previous_number.isdigit()):
            return
        if int(number) == int(previous_number):
            self.warnings.append(ImportWarning(node.line, "numbering_repeat", {"number": number}))
        elif int(number) != int(previous_number) + 1:
            params = {"number": number, "previous": previous_number}
            self.warnings.append(ImportWarning(node.line, "numbering_gap", params))


def _local_ref(node: ParsedNode, prefix: str, counters: dict[str, int], has_items: bool):
    """The node's reference under its parent's (``prefix``), before it is made
    unique; None for a kind of node without one."""
    join = (lambda part: f"{prefix}.{part}") if prefix else (lambda part: part)
    if node.kind == "section":
        return join(_section_label(node, prefix, counters["section"]))
    if node.kind == "item":
        return join(node.number)
    if node.kind == "paragraph":
        return join(f"p{counters['paragraph']}")
    if node.kind == "bullet":
        return join(f"b{counters['bullet']}" if has_items else str(counters["bullet"]))
    if node.kind == "footnote":
        return f"fn{superscript_to_digits(node.number)}"
    if node.kind == "closing":
        return "end" if counters["closing"] == 1 else f"end{counters['closing']}"
    return None


def _section_label(node: ParsedNode, prefix: str, count: int) -> str:
    """A top-level section keeps its number (or its place); a subsection its
    label (or a letter: ``A``, ``B``…)."""
    if node.level == 1 or not prefix:
        return node.number if node.number.isdigit() else str(count)
    return node.number or _letter(count - 1)
