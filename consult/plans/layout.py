"""Line numbering: the plan's text broken at a fixed line length, numbered
through the whole version, as parliamentary amendment tools do, so that
"line 112" means the same thing on screen, on paper and in the PDF."""

import re
import textwrap
from dataclasses import dataclass

from ..forums.models import DEFAULT_LINE_LENGTH, LINE_LENGTHS

LINE_LENGTH = DEFAULT_LINE_LENGTH


def line_length(forum) -> int:
    """The length of the numbered lines of ``forum``'s plans."""
    chosen = getattr(forum, "line_length", None)
    return chosen if chosen in LINE_LENGTHS else LINE_LENGTH


@dataclass
class NumberedNode:
    node: object
    lines: list[tuple[int, str]]

    @property
    def first_line(self) -> int:
        return self.lines[0][0] if self.lines else 0

    @property
    def last_line(self) -> int:
        return self.lines[-1][0] if self.lines else 0


# A bullet's reference is cited when its list is numbered by position
# ("1.3"); "b2", "p1", "1.p1", "end" and "fn1" are keys of the layout that
# nobody cites (the importer's ``assign_refs``).
_CITED_TAIL = re.compile(r"\d+(?:-\d+)?")


def cited_ref(node) -> str:
    """The reference printed beside ``node``: sections and items (and
    bullets numbered by position) show theirs (``4.7``, ``21.A.3``); other
    paragraphs are cited by their lines, so nothing ("")."""
    ref = node.ref or ""
    if node.kind in ("section", "item"):
        return ref
    if node.kind == "bullet" and _CITED_TAIL.fullmatch(ref.rpartition(".")[2]):
        return ref
    return ""


def label_in_ref(node) -> bool:
    """Whether the reference printed beside ``node`` ends with its own source
    label (item "3" of section 4 is ``4.3``), which then is not printed again.
    A label the reference does not hold ("I." of section ``1``) stays."""
    return bool(node.number) and cited_ref(node).rpartition(".")[2] == node.number


def display_text(node) -> str:
    """The text as laid out in numbered lines. An item's or a section's own
    source label ("1.", "a)") is shown once: not when the reference printed
    beside it already holds it. Footnotes keep their mark."""
    if node.kind == "section" and node.number and not label_in_ref(node):
        return f"{node.number}. {node.text}"
    if node.kind == "item" and node.number and not label_in_ref(node):
        separator = ")" if not node.number.isdigit() else "."
        return f"{node.number}{separator} {node.text}"
    if node.kind == "footnote":
        return f"{node.number} {node.text}"
    return node.text


def number_lines(nodes, width: int = LINE_LENGTH) -> list[NumberedNode]:
    """Wrap every node's text at ``width`` and number the lines consecutively."""
    numbered, counter = [], 0
    for node in nodes:
        wrapped = textwrap.wrap(
            display_text(node), width=width, break_long_words=True, break_on_hyphens=False
        ) or [""]
        lines = []
        for text in wrapped:
            counter += 1
            lines.append((counter, text))
        numbered.append(NumberedNode(node, lines))
    return numbered
