"""The repairs the import preview offers, made on the source by the server so
that a facilitator never edits the text by hand: join a block to the one
above (a page break cut it), read a line as a section heading. Each keeps
every word where it was."""

from flask_babel import lazy_gettext as _l

from .importer import MD_HEADING, normalise

FIXES = {
    "join": _l("Join to the text above"),
    "heading": _l("Read as a section heading"),
}


def source_lines(text: str) -> list[str]:
    """The lines of a source as the warnings number them (from 1)."""
    return normalise(text).split("\n")


def apply_fix(text: str, fix: str, line: int) -> str:
    """The source with one repair made at ``line`` (numbered as in the
    warnings), so that the facilitator never edits the text by hand:

    - ``join``: the block starting at that line continues the block above
      (the blank lines between them go);
    - ``heading``: that line becomes a section heading (a Markdown heading at
      the level of the document's own Markdown sections, if it has any).

    Every word stays where it was. Raises ValueError for an unknown repair or a
    line that has no text."""
    lines = source_lines(text)
    if fix not in FIXES or not 1 <= line <= len(lines) or not lines[line - 1].strip():
        raise ValueError(f"no {fix!r} repair at line {line}")
    index = line - 1
    if fix == "join":
        start = index
        while start > 0 and not lines[start - 1].strip():
            start -= 1
        if start == 0:
            raise ValueError(f"nothing above line {line} to join it to")
        del lines[start:index]
    else:
        lines[index] = f"{_section_marker(lines)} {lines[index].strip()}"
    return "\n".join(lines)


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
