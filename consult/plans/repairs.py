"""The repairs the import preview offers, made on the source by the server so
that a facilitator never edits the text by hand: join a block to the one
above (a page break cut it), read a line as a section heading, split a block
that the importer read as one (two items run together, a heading glued to
its paragraph). Each keeps every word where it was; a split and the join of
its second part give back the same text."""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .import_lines import (
    MD_HEADING,
    is_all_caps,
    normalise,
    read_blocks,
    starts_as_continuation,
)

FIXES = {
    "join": _l("Join to the text above"),
    "heading": _l("Read as a section heading"),
    "split": _l("Start a new paragraph here"),
}

# Inside a line, a new block may start after the end of a sentence (before a
# capital or an item number: items run together), at a bullet, or after a
# heading in capitals.
_SENTENCE_END = re.compile("[.!?:;…][\"'\u201d\u2019»)\\]]*$")
# An item's or a footnote's own label ("2.", "b)", "[3]:") is not a sentence's end.
_LABEL_END = re.compile(
    r"(?:^|\s)(?:#+\s+)?(?:\(?(?:\d{1,3}|[A-Za-z]|[ivxIVXL]{1,5})[.)]|\[\^?\d{1,3}\]:?)$"
)
_OPENING = "¿¡«“\"'(["
_BULLET_START = re.compile(r"^[•·▪●◦○]\s+\S")
_PREVIEW_WORDS = 6


@dataclass(frozen=True)
class SplitPoint:
    """A place where a block can be split: ``column`` characters into source
    ``line`` (0: the line itself starts the new block)."""

    line: int
    column: int
    start: str  # the first words of the new block, to recognise the place

    @property
    def fix(self) -> str:
        """The value of its button: ``split:16`` at a line's start, ``split@42:16``
        42 characters into line 16 (the form the other repairs take, kind:line)."""
        return f"split@{self.column}:{self.line}" if self.column else f"split:{self.line}"


def source_lines(text: str) -> list[str]:
    """The lines of a source as the warnings number them (from 1)."""
    return normalise(text).split("\n")


def apply_fix(text: str, fix: str, line: int, column: int = 0) -> str:
    """The source with one repair made at ``line`` (numbered as in the
    warnings), so that the facilitator never edits the text by hand:

    - ``join``: the block starting at that line continues the block above
      (the blank lines between them go; a line that would still start a block
      of its own, such as an item number, goes to the end of the line above);
    - ``heading``: that line becomes a section heading (a Markdown heading at
      the level of the document's own Markdown sections, if it has any);
    - ``split``: a new block starts ``column`` characters into that line, at
      one of the places ``split_points`` offers.

    Every word stays where it was. Raises ValueError for an unknown repair or a
    place that the text does not have (any more)."""
    fix, _at, place = fix.partition("@")
    if place:
        column = int(place) if place.isdigit() else -1
    lines = source_lines(text)
    if fix not in FIXES or not 1 <= line <= len(lines) or not lines[line - 1].strip():
        raise ValueError(f"no {fix!r} repair at line {line}")
    index = line - 1
    if fix == "join":
        return _join(lines, index)
    if fix == "split":
        return _split(lines, index, column)
    lines[index] = f"{_section_marker(lines)} {lines[index].strip()}"
    return "\n".join(lines)


def _join(lines: list[str], index: int) -> str:
    start = index
    while start > 0 and not lines[start - 1].strip():
        start -= 1
    if start == 0:
        raise ValueError(f"nothing above line {index + 1} to join it to")
    del lines[start:index]
    blocks, _warnings = read_blocks("\n".join(lines))
    if any(block.number == start + 1 for block in blocks):
        # Still a block of its own (an item number, a bullet, a heading after
        # text): it goes to the end of the line above.
        lines[start - 1] = f"{lines[start - 1].rstrip()} {lines[start].strip()}"
        del lines[start]
    return "\n".join(lines)


def _split(lines: list[str], index: int, column: int) -> str:
    text = "\n".join(lines)
    if not any(p.line == index + 1 and p.column == column for p in split_points(text)):
        raise ValueError(f"no split at line {index + 1}, column {column}")
    raw = lines[index]
    if column == 0:
        lines.insert(index, "")
    else:
        lines[index : index + 1] = [raw[:column].rstrip(), "", raw[column:]]
    return "\n".join(lines)


def split_points(text: str) -> list[SplitPoint]:
    """Every place where a block of the source can be split so that a new one
    starts there (the title's block included)."""
    lines = source_lines(text)
    blocks, _warnings = read_blocks(text)
    return [
        point for block in blocks for point in block_split_points(lines, block.number, block.joined)
    ]


# A block of hundreds of sentences (a whole document on one line) lists its
# first places; each split brings the next ones into view.
SPLIT_POINTS_SHOWN = 40


def preview_split_points(parsed, node) -> list[SplitPoint]:
    """Where the import preview can split ``node``'s block of ``parsed`` (a
    ``parsed.ParsedPlan``; the page asks here, as this module reads the
    importer's lines, which read ``parsed``)."""
    if not parsed.source or not node.line:
        return []
    return block_split_points(parsed.source, node.line, node.joined)[:SPLIT_POINTS_SHOWN]


def block_split_points(lines: list[str], first: int, joined: list[int]) -> list[SplitPoint]:
    """The places where the block read from source line ``first`` (and the
    ``joined`` lines after it) can be split: the start of a line read into it
    without a blank line (unless it starts in lower case: it would be joined
    back), and inside its lines, a sentence's end before a capital, an item
    number or a bullet, or the end of a heading in capitals."""
    points = []
    for number in (first, *joined):
        raw = lines[number - 1]
        if (
            number != first
            and lines[number - 2].strip()
            and not starts_as_continuation(raw.strip())
        ):
            points.append(SplitPoint(number, 0, _first_words(raw, 0)))
        points.extend(
            SplitPoint(number, column, _first_words(raw, column)) for column in _inline(raw)
        )
    return points


# What is read around a gap between words: enough for a sentence's end, a label
# or an item number, and bounded, so a very long line costs its length only.
_BEFORE, _AFTER = 24, 40


def _inline(raw: str) -> list[int]:
    text_start = len(raw) - len(raw.lstrip())
    caps_end = _caps_heading_end(raw, text_start)
    return [
        gap.end()
        for gap in re.finditer(r"\s+", raw)
        if text_start < gap.start()
        and gap.end() < len(raw)
        and (
            gap.end() == caps_end
            or _starts_a_block(
                raw[max(0, gap.start() - _BEFORE) : gap.start()],
                raw[gap.end() : gap.end() + _AFTER],
            )
        )
    ]


def _starts_a_block(before: str, after: str) -> bool:
    if _BULLET_START.match(after):
        return True
    first = after.lstrip(_OPENING)[:1]
    if _SENTENCE_END.search(before) and not _LABEL_END.search(before):
        return first.isupper() or first.isdigit()
    return False


def _caps_heading_end(raw: str, text_start: int) -> int | None:
    """Where a heading in capitals at the start of the line ends: before its
    first word with lower-case letters, if that word starts with a capital."""
    for word in re.finditer(r"\S+", raw):
        if any(c.islower() for c in word.group()):
            first = word.group().lstrip(_OPENING)[:1]
            heading = raw[text_start : word.start()]
            return word.start() if first.isupper() and is_all_caps(heading.strip()) else None
    return None


def _first_words(raw: str, column: int) -> str:
    found = raw[column : column + 160].split()
    more = len(found) > _PREVIEW_WORDS or len(raw) > column + 160
    shown = " ".join(found[:_PREVIEW_WORDS])
    return f"{shown}…" if more else shown


def _section_marker(lines: list[str]) -> str:
    """The Markdown heading marker of the document's sections: the shallowest
    level it uses apart from a ``#`` title on its first line, else ``##`` (a
    section under the title)."""
    levels = [
        len(match.group(1))
        for number, raw in enumerate(lines)
        if (match := MD_HEADING.match(raw.strip())) and not (number == 0 and match.group(1) == "#")
    ]
    return "#" * min(levels, default=2)
