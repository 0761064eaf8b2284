"""Read an uploaded Word document (.docx) into the plain-text format of the
plan importer (:mod:`consult.plans.importer`).

The package is checked with :mod:`zipfile` before anything is parsed (entry
count, declared sizes, compression ratios, macros), and every XML part is
parsed here with a hardened lxml parser: no entities, no network, no DTD, no
huge trees. python-docx is not used for reading.

What comes out, block by block in body order, separated by blank lines:

* a "Title" paragraph → ``# text``; "Heading N" (or a localised name, or any
  style or paragraph with an outline level) → N + 1 ``#``, or N ``#``
  when the document has no Title paragraph;
* Word's automatic numbering → ``1.``, ``a)``, ``A.``, ``i)``, ``I.`` or
  ``-``, indented two spaces per level;
* footnote and endnote references → superscript markers (``¹``) in the text,
  and the notes themselves as ``¹ text`` lines at the end;
* table rows → cells joined by `` | ``.
"""

import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from ..errors import InvalidInput
from . import docx_package
from .importer import MAX_TEXT_LENGTH

log = logging.getLogger(__name__)

W_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # ISO "strict" documents
)
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
MATH_TEXT = "{http://schemas.openxmlformats.org/officeDocument/2006/math}t"

_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

TITLE_NAMES = {"title", "título", "titulo", "titre", "titel", "titolo", "ttulo", "tytuł"}
HEADING_NAME = re.compile(
    r"^(?:heading|título|titulo|ttulo|encabezado|titre|überschrift|berschrift|titolo|kop|"
    r"nagłówek|rubrik|otsikko|overskrift|заголовок)\s*([1-9])$"
)
# "List Bullet 2", "List Number 3": Word's built-in single-level lists, one per depth.
LIST_STYLE_DEPTH = re.compile(r"^list\s+(?:bullet|number)\s*([2-9])$")
# A paragraph that already starts with a typed number or bullet keeps it.
TYPED_LABEL = re.compile(
    r"^(?:\(?(?:\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,6})[.)]\s"
    "|[-\u2013\u2014\u2022\u00b7\u25aa\u25e6\u25cf\u25cb*]\\s"
    "|[\u2022\u00b7\u25aa\u25e6\u25cf\u25cb])"
)


# --- styles and numbering ---------------------------------------------------------


@dataclass
class _Style:
    name: str = ""
    based_on: str | None = None
    outline: int | None = None
    num_id: str | None = None
    ilvl: int | None = None


@dataclass
class _Level:
    fmt: str = "decimal"
    start: int = 1


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _superscript(number: int) -> str:
    return str(number).translate(_SUPERSCRIPT_DIGITS)


def _letters(number: int) -> str:
    """1 → a, 26 → z, 27 → aa (as Word counts)."""
    if number < 1:
        return str(number)
    return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)


def _roman(number: int) -> str:
    if not 0 < number < 4000:
        return str(number)
    result = ""
    for value, digits in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while number >= value:
            result += digits
            number -= value
    return result


def _label(fmt: str, number: int) -> str:
    if fmt == "bullet":
        return "-"
    if fmt == "none":
        return ""
    if fmt == "lowerLetter":
        return f"{_letters(number)})"
    if fmt == "upperLetter":
        return f"{_letters(number).upper()}."
    if fmt == "lowerRoman":
        return f"{_roman(number).lower()})"
    if fmt == "upperRoman":
        return f"{_roman(number)}."
    return f"{number}."


@dataclass
class _Block:
    kind: str  # title, heading, paragraph, row
    text: str
    level: int = 0


@dataclass
class _Reader:
    ns: str
    styles: dict[str, _Style] = field(default_factory=dict)
    default_style: str | None = None
    abstract: dict[str, dict[int, _Level]] = field(default_factory=dict)
    style_links: dict[str, str] = field(default_factory=dict)  # abstractNum → style id
    nums: dict[str, tuple[str, dict[int, _Level]]] = field(default_factory=dict)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    note_markers: dict[tuple[str, str], int] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def val(self, element: etree._Element | None, name: str = "val") -> str | None:
        return None if element is None else element.get(self.q(name))

    # styles

    def load_styles(self, root: etree._Element | None) -> None:
        if root is None:
            return
        for element in root.iter(self.q("style")):
            # Paragraph styles, and numbering styles (which list styles link to).
            if self.val(element, "type") not in (None, "paragraph", "numbering"):
                continue
            style_id = self.val(element, "styleId")
            if not style_id:
                continue
            style = _Style(
                name=(self.val(element.find(self.q("name"))) or "").strip(),
                based_on=self.val(element.find(self.q("basedOn"))),
            )
            ppr = element.find(self.q("pPr"))
            if ppr is not None:
                style.outline = _int(self.val(ppr.find(self.q("outlineLvl"))))
                numpr = ppr.find(self.q("numPr"))
                if numpr is not None:
                    style.num_id = self.val(numpr.find(self.q("numId")))
                    style.ilvl = _int(self.val(numpr.find(self.q("ilvl"))))
            self.styles[style_id] = style
            if self.val(element, "default") in ("1", "true", "on"):
                self.default_style = style_id

    def style_chain(self, style_id: str | None) -> Iterable[tuple[str, _Style]]:
        seen: set[str] = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style_id, style
            style_id = style.based_on

    def style_kind(self, style_id: str | None) -> tuple[str, int]:
        """("title", 0), ("heading", level) or ("paragraph", 0) for a paragraph style."""
        for chain_id, style in self.style_chain(style_id):
            for name in (style.name.casefold(), chain_id.casefold()):
                if name in TITLE_NAMES:
                    return "title", 0
                if match := HEADING_NAME.match(name):
                    return "heading", int(match.group(1))
            if style.outline is not None:
                if 0 <= style.outline <= 8:
                    return "heading", style.outline + 1
                return "paragraph", 0
        return "paragraph", 0

    def style_list_depth(self, style_id: str | None) -> int:
        style = self.styles.get(style_id or "")
        if style is None:
            return 0
        match = LIST_STYLE_DEPTH.match(style.name.casefold())
        return int(match.group(1)) - 1 if match else 0

    # numbering

    def read_level(self, lvl: etree._Element) -> tuple[int, _Level]:
        level = _Level(
            fmt=self.val(lvl.find(self.q("numFmt"))) or "decimal",
            start=_int(self.val(lvl.find(self.q("start"))), 1),
        )
        lvl_text = lvl.find(self.q("lvlText"))
        if lvl_text is not None and not self.val(lvl_text) and level.fmt != "bullet":
            level.fmt = "none"
        return _int(self.val(lvl, "ilvl"), 0), level

    def load_numbering(self, root: etree._Element | None) -> None:
        if root is None:
            return
        for element in root.iter(self.q("abstractNum")):
            abstract_id = self.val(element, "abstractNumId")
            if abstract_id is None:
                continue
            self.abstract[abstract_id] = dict(
                self.read_level(lvl) for lvl in element.findall(self.q("lvl"))
            )
            if link := self.val(element.find(self.q("numStyleLink"))):
                self.style_links[abstract_id] = link
        for element in root.iter(self.q("num")):
            num_id = self.val(element, "numId")
            abstract_id = self.val(element.find(self.q("abstractNumId")))
            if num_id is None or abstract_id is None:
                continue
            overrides: dict[int, _Level] = {}
            for override in element.findall(self.q("lvlOverride")):
                ilvl = _int(self.val(override, "ilvl"), 0)
                start = _int(self.val(override.find(self.q("startOverride"))))
                if (lvl := override.find(self.q("lvl"))) is not None:
                    overrides[ilvl] = self.read_level(lvl)[1]
                    if start is not None:
                        overrides[ilvl].start = start
                elif start is not None:
                    overrides[ilvl] = _Level(fmt="", start=start)  # a new start only
            self.nums[num_id] = (abstract_id, overrides)

    def level(self, num_id: str, ilvl: int, depth: int = 0) -> _Level | None:
        if num_id not in self.nums or depth > 5:
            return None
        abstract_id, overrides = self.nums[num_id]
        levels = self.abstract.get(abstract_id, {})
        if not levels and abstract_id in self.style_links:
            # A list style: its numbering lives in the num the style points at.
            style = self.styles.get(self.style_links[abstract_id])
            if style is not None and style.num_id and style.num_id != num_id:
                base = self.level(style.num_id, ilvl, depth + 1)
                levels = {ilvl: base} if base else {}
        base = levels.get(ilvl)
        override = overrides.get(ilvl)
        if override is None:
            return base
        if not override.fmt:  # only a new start
            return _Level(base.fmt if base else "decimal", override.start)
        return override

    def numbering_of(self, ppr: etree._Element | None, style_id: str | None):
        """(numId, ilvl) of a paragraph, or None."""
        num_id: str | None = None
        ilvl: int | None = None
        if ppr is not None and (numpr := ppr.find(self.q("numPr"))) is not None:
            num_id = self.val(numpr.find(self.q("numId")))
            ilvl = _int(self.val(numpr.find(self.q("ilvl"))))
        for _chain_id, style in self.style_chain(style_id):
            if num_id is None and style.num_id is not None:
                num_id = style.num_id
            if ilvl is None and style.ilvl is not None:
                ilvl = style.ilvl
        if num_id is None or num_id == "0":
            return None
        return num_id, ilvl or 0

    def next_label(self, num_id: str, ilvl: int) -> str:
        level = self.level(num_id, ilvl)
        if level is None:
            return ""
        counters = self.counters.setdefault(num_id, {})
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else level.start
        for deeper in [key for key in counters if key > ilvl]:
            del counters[deeper]
        return _label(level.fmt, counters[ilvl])

    # text

    def inline_text(self, paragraph: etree._Element, floating: list) -> str:
        parts: list[str] = []
        self._walk_inline(paragraph, parts, floating)
        return " ".join("".join(parts).split())

    def _walk_inline(self, element, parts: list[str], floating: list) -> None:
        q = self.q
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag in (q("t"), MATH_TEXT):
                parts.append(child.text or "")
            elif tag in (q("tab"), q("ptab"), q("br"), q("cr")):
                parts.append(" ")
            elif tag == q("noBreakHyphen"):
                parts.append("-")
            elif tag in (q("footnoteReference"), q("endnoteReference")):
                kind = "footnote" if tag == q("footnoteReference") else "endnote"
                marker = self.note_markers.get((kind, self.val(child, "id") or ""))
                if marker is not None:
                    parts.append(_superscript(marker))
            elif tag == q("txbxContent"):
                floating.append(child)
            elif tag in self._skipped_inline:
                continue
            else:
                self._walk_inline(child, parts, floating)

    def __post_init__(self) -> None:
        q = self.q
        self._skipped_inline = {
            q("pPr"),
            q("rPr"),
            q("del"),
            q("moveFrom"),
            q("delText"),
            q("instrText"),
            q("softHyphen"),
            q("commentReference"),
            f"{{{MC_NS}}}Fallback",
        }

    # blocks

    def read_blocks(self, container: etree._Element, in_table: bool = False) -> list[str]:
        """Append the body's blocks; returns the plain texts (for table cells)."""
        texts: list[str] = []
        q = self.q
        for child in container:
            tag = child.tag
            if tag == q("p"):
                texts.extend(self.read_paragraph(child, in_table))
            elif tag == q("tbl"):
                texts.extend(self.read_table(child, in_table))
            elif tag in (q("sdt"), q("customXml")):
                content = child.find(q("sdtContent")) if tag == q("sdt") else child
                if content is not None:
                    texts.extend(self.read_blocks(content, in_table))
            elif tag == f"{{{MC_NS}}}AlternateContent":
                choice = child.find(f"{{{MC_NS}}}Choice")
                if choice is not None:
                    texts.extend(self.read_blocks(choice, in_table))
        return texts

    def read_paragraph(self, paragraph: etree._Element, in_table: bool) -> list[str]:
        q = self.q
        ppr = paragraph.find(q("pPr"))
        style_id = self.val(ppr.find(q("pStyle"))) if ppr is not None else None
        style_id = style_id or self.default_style
        floating: list[etree._Element] = []
        text = self.inline_text(paragraph, floating)
        kind, level = self.style_kind(style_id)
        direct_outline = _int(self.val(ppr.find(q("outlineLvl")))) if ppr is not None else None
        if direct_outline is not None and kind != "title":
            kind, level = (
                ("heading", direct_outline + 1) if direct_outline <= 8 else ("paragraph", 0)
            )
        numbering = self.numbering_of(ppr, style_id)
        label = self.next_label(*numbering) if numbering and kind != "title" else ""
        texts: list[str] = []
        if text and in_table:
            texts.append(text)
        elif text:
            if label and not TYPED_LABEL.match(text):
                if kind == "heading":
                    text = f"{label} {text}" if label != "-" else text
                else:
                    depth = numbering[1] or self.style_list_depth(style_id)
                    text = f"{'  ' * depth}{label} {text}"
            self.blocks.append(_Block(kind, text, level))
        for box in floating:
            texts.extend(self.read_blocks(box, in_table))
        return texts

    def read_table(self, table: etree._Element, in_table: bool) -> list[str]:
        q = self.q
        texts: list[str] = []
        for row in table.iter(q("tr")):
            if _nearest_table(row, q("tbl")) is not table:
                continue  # rows of nested tables are read with their cell
            cells = []
            for cell in row.iter(q("tc")):
                if _nearest_table(cell, q("tbl")) is not table:
                    continue
                cell_text = " ".join(t for t in self.read_blocks(cell, in_table=True) if t)
                if cell_text:
                    cells.append(cell_text)
            if not cells:
                continue
            line = " | ".join(cells)
            if in_table:
                texts.append(line)
            else:
                self.blocks.append(_Block("row", line))
        return texts

    # notes

    def number_notes(self, roots: list[tuple[str, etree._Element | None]]):
        """Give every real note a marker (id order, footnotes first); returns the notes."""
        notes: list[tuple[str, etree._Element]] = []
        for kind, root in roots:
            if root is None:
                continue
            found = [
                (note_id, element)
                for element in root.iter(self.q(kind))
                if self.val(element, "type") in (None, "normal")
                and (note_id := _int(self.val(element, "id"))) is not None
            ]
            for note_id, element in sorted(found, key=lambda pair: pair[0]):
                notes.append((kind, element))
                self.note_markers[(kind, str(note_id))] = len(notes)
        return notes

    def note_lines(self, notes: list[tuple[str, etree._Element]]) -> list[str]:
        lines = []
        saved = self.blocks
        for number, (_kind, element) in enumerate(notes, start=1):
            self.blocks = []
            texts = self.read_blocks(element, in_table=True)
            text = " ".join(t for t in texts if t)
            if text:
                lines.append(f"{_superscript(number)} {text}")
        self.blocks = saved
        return lines

    # output

    def render(self, note_lines: list[str]) -> str:
        has_title = any(block.kind == "title" for block in self.blocks)
        seen_title = False
        out = []
        for block in self.blocks:
            if block.kind == "title" and not seen_title:
                out.append(f"# {block.text}")
                seen_title = True
            elif block.kind in ("title", "heading"):
                level = max(block.level, 1)
                hashes = min(level + 1 if has_title else level, 6)
                out.append(f"{'#' * hashes} {block.text}")
            else:
                out.append(block.text)
        text = "\n\n".join(out)
        if note_lines:
            text = f"{text}\n\n" + "\n".join(note_lines) if text else "\n".join(note_lines)
        return text + "\n" if text else ""


def _nearest_table(element: etree._Element, table_tag: str):
    parent = element.getparent()
    while parent is not None and parent.tag != table_tag:
        parent = parent.getparent()
    return parent


# --- entry point ------------------------------------------------------------------


def read_docx(data: bytes) -> str:
    """The text of a .docx upload, in the importer's format.

    Raises InvalidInput for anything that is not a safe, readable Word document.
    """
    try:
        archive = docx_package.open_package(data)
        with archive:
            docx_package.check_content_types(archive)
            document = docx_package.parse_xml(
                docx_package.read_part(archive, docx_package.DOCUMENT_PART) or b""
            )
            name = etree.QName(document)
            if name.namespace not in W_NAMESPACES or name.localname != "document":
                raise docx_package.not_a_docx()
            reader = _Reader(name.namespace)
            parts = docx_package.related_parts(archive)

            def optional(kind: str) -> etree._Element | None:
                content = docx_package.read_part(archive, parts[kind])
                return docx_package.parse_xml(content) if content else None

            reader.load_styles(optional("styles"))
            reader.load_numbering(optional("numbering"))
            notes = reader.number_notes(
                [("footnote", optional("footnotes")), ("endnote", optional("endnotes"))]
            )
            body = document.find(reader.q("body"))
            if body is not None:
                reader.read_blocks(body)
            text = reader.render(reader.note_lines(notes))
    except InvalidInput:
        raise
    except zipfile.LargeZipFile as error:
        raise docx_package.too_large() from error
    except (zipfile.BadZipFile, etree.LxmlError) as error:
        log.info("Unreadable .docx upload: %s", error)
        raise docx_package.unreadable() from error
    except Exception as error:  # anything else a hostile file provokes is still bad input
        log.warning("Unexpected error reading a .docx upload", exc_info=True)
        raise docx_package.unreadable() from error
    if len(text) > MAX_TEXT_LENGTH:
        raise docx_package.too_large()
    return text
