"""Read a plan document into a tree: title, preamble, sections, items, bullets,
footnotes and closing lines.

The input is what facilitators really have: text pasted from PDFs and word
processors, or Markdown. PDF text carries page-break artefacts (a line that
starts in lower case continues the previous block, hyphenated words split
across lines, stray ``**`` emphasis markers); they are repaired as the lines are read
(:mod:`.import_lines`), and every repair is reported as a warning for the
preview. Here the blocks become the tree. No word of the input is ever dropped.
"""

from dataclasses import dataclass, field

from .import_lines import Line, normalise, read_blocks
from .parsed import ImportWarning, ParsedNode, ParsedPlan, assign_refs

# --- the tree ---------------------------------------------------------------


def _closing_lines(blocks: list[Line]) -> None:
    """A place/date line counts as closing only at the end of the document."""
    trailing = True
    for block in reversed(blocks):
        if block.kind == "footnote":
            continue
        if block.kind == "closing" and trailing:
            continue
        trailing = False
        if block.kind == "closing":
            block.kind = "text"


def _title(blocks: list[Line]) -> tuple[str | None, list[Line]]:
    if not blocks:
        return None, blocks
    first = blocks[0]
    if first.kind == "heading" and first.style == "md" and first.level == 1:
        return first.text, blocks[1:]
    if first.kind == "heading" and first.style == "caps" and not first.label:
        return first.text, blocks[1:]
    if (
        first.kind == "text"
        and len(first.text) <= 200
        and not first.text.endswith(tuple(".;,:"))
        and len(blocks) > 1
    ):
        return first.text, blocks[1:]
    return None, blocks


def _headings_by_shape(blocks: list[Line], warnings: list[ImportWarning]) -> None:
    """In a document without explicit headings, a short standalone line that
    introduces a list reads as a section heading."""
    if any(b.kind == "heading" for b in blocks):
        return
    for index, block in enumerate(blocks[:-1]):
        following = blocks[index + 1]
        if (
            block.kind == "text"
            and len(block.text) <= 80
            and block.text[:1].isupper()
            and not block.text.endswith(tuple(".;,"))
            and following.kind in {"bullet", "item"}
            and (index == 0 or block.blank_before)
        ):
            block.kind, block.style = "heading", "shape"
            warnings.append(ImportWarning(block.number, "heading_by_shape"))


def parse(text: str, fallback_title: str | None = None) -> ParsedPlan:
    """Parse a plan document; see the module docstring."""
    blocks, warnings = read_blocks(text)
    _closing_lines(blocks)
    title, blocks = _title(blocks)
    if title is None:
        warnings.append(ImportWarning(0, "no_title"))
        title = fallback_title
    _headings_by_shape(blocks, warnings)
    roots = _build_tree(blocks, warnings)
    _flag_continuations(roots, warnings)
    plan = ParsedPlan(
        title, roots, sorted(warnings, key=lambda w: w.line), normalise(text).split("\n")
    )
    assign_refs(plan, warnings)
    plan.warnings = sorted(warnings, key=lambda w: w.line)
    return plan


def _heading_level(block: Line, md_base: int, has_section: bool, roman_mode: bool) -> int:
    if block.style == "md":
        return max(1, block.level - md_base + 1)
    if block.style == "lettered" and not (roman_mode and block.label in "IVX"):
        return 2 if has_section else 1
    return 1


def _build_tree(blocks: list[Line], warnings: list[ImportWarning]) -> list[ParsedNode]:
    md_levels = [b.level for b in blocks if b.kind == "heading" and b.style == "md"]
    tree = _Tree(
        md_base=min(md_levels) if md_levels else 1,
        roman_mode=any(b.kind == "heading" and b.style == "roman" for b in blocks),
    )
    for block in blocks:
        tree.add(block)
    return tree.roots + tree.closings + tree.footnotes


@dataclass
class _Tree:
    """The tree as it grows, block by block: the open heading at each level, the
    last numbered item and the open bullet list decide where a block goes."""

    md_base: int
    roman_mode: bool
    roots: list[ParsedNode] = field(default_factory=list)
    footnotes: list[ParsedNode] = field(default_factory=list)
    closings: list[ParsedNode] = field(default_factory=list)
    sections: list[ParsedNode] = field(default_factory=list)  # the open heading at each level
    last_item: ParsedNode | None = None
    bullets: list[tuple[int, ParsedNode]] = field(default_factory=list)  # (indent, node)

    def add(self, block: Line) -> None:
        adders = {
            "footnote": self._add_footnote,
            "closing": self._add_closing,
            "heading": self._add_heading,
            "item": self._add_item,
            "bullet": self._add_bullet,
        }
        adders.get(block.kind, self._add_paragraph)(block)

    def _container(self) -> list[ParsedNode]:
        return self.sections[-1].children if self.sections else self.roots

    def _add_footnote(self, block: Line) -> None:
        self.footnotes.append(
            ParsedNode("footnote", block.text, block.label, line=block.number, joined=block.joined)
        )

    def _add_closing(self, block: Line) -> None:
        self.closings.append(ParsedNode("closing", block.text, line=block.number))

    def _add_heading(self, block: Line) -> None:
        level = _heading_level(block, self.md_base, bool(self.sections), self.roman_mode)
        node = ParsedNode("section", block.text, block.label, level, block.number)
        node.joined = block.joined
        while self.sections and self.sections[-1].level >= level:
            self.sections.pop()
        self._container().append(node)
        self.sections.append(node)
        self.last_item, self.bullets = None, []

    def _add_item(self, block: Line) -> None:
        node = ParsedNode("item", block.text, block.label, line=block.number, joined=block.joined)
        last_item = self.last_item
        if block.style == "lettered" and last_item is not None and last_item.number.isdigit():
            last_item.children.append(node)
        else:
            self._container().append(node)
            self.last_item = node
        self.bullets = []

    def _add_bullet(self, block: Line) -> None:
        node = ParsedNode("bullet", block.text, line=block.number, joined=block.joined)
        bullets = self.bullets
        while bullets and bullets[-1][0] > block.indent:
            bullets.pop()
        if bullets and bullets[-1][0] == block.indent:
            bullets.pop()
        if bullets:
            bullets[-1][1].children.append(node)
        elif self.last_item is not None:
            self.last_item.children.append(node)
        else:
            self._container().append(node)
        bullets.append((block.indent, node))

    def _add_paragraph(self, block: Line) -> None:
        node = ParsedNode("paragraph", block.text, line=block.number, joined=block.joined)
        self._container().append(node)
        self.last_item, self.bullets = None, []


def _flag_continuations(nodes: list[ParsedNode], warnings: list[ImportWarning]) -> None:
    """A paragraph between item n and item n+1 of one list is most often the end
    of item n, cut off by a page break where the next page began with a capital
    letter; it is kept as read, flagged, and the preview offers to join it."""
    for index, node in enumerate(nodes):
        _flag_continuations(node.children, warnings)
        if node.kind != "paragraph" or index == 0 or index + 1 >= len(nodes):
            continue
        before, after = nodes[index - 1], nodes[index + 1]
        if (
            before.kind == after.kind == "item"
            and before.number.isdigit()
            and after.number.isdigit()
            and int(after.number) == int(before.number) + 1
        ):
            params = {"previous": before.number, "next": after.number}
            warnings.append(ImportWarning(node.line, "continuation", params, fix="join"))
