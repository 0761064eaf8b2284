"""Line numbering: the plan's text broken at a fixed line length, numbered
through the whole version, as parliamentary amendment tools do, so that
"line 112" means the same thing on screen, on paper and in the PDF."""

import textwrap
from dataclasses import dataclass

LINE_LENGTH = 80


@dataclass
class NumberedNode:
    node: object
    lines: list[tuple[int, str]]

    @property
    def first_line(self) -> int:
        return self.lines[0][0] if self.lines else 0


def display_text(node) -> str:
    """The text as shown: headings and items carry their source label."""
    if node.kind == "section" and node.number:
        return f"{node.number}. {node.text}"
    if node.kind == "item" and node.number:
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
