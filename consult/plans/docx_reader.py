"""Read an uploaded Word document (.docx) into the plain-text format of the
plan importer (:mod:`consult.plans.importer`).

The package is checked and its XML parts parsed safely by
:mod:`.docx_package`; the styles are read by :mod:`.docx_styles`, the
automatic numbering by :mod:`.docx_numbering`, and the body and the notes
here. python-docx is not used for reading.

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
from dataclasses import dataclass, field

from lxml import etree

from ..errors import InvalidInput
from . import docx_package
from .docx_numbering import Numbering
from .docx_package import W_NAMESPACES, WordXml, to_int
from .docx_styles import Styles
from .import_lines import MAX_TEXT_LENGTH

log = logging.getLogger(__name__)

MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
MATH_TEXT = "{http://schemas.openxmlformats.org/officeDocument/2006/math}t"

_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(number: int) -> str:
    return str(number).translate(_SUPERSCRIPT_DIGITS)


# A paragraph that already starts with a typed number or bullet keeps it.
TYPED_LABEL = re.compile(
    r"^(?:\(?(?:\d{1,3}|[A-Za-z]|[ivxlcIVXLC]{1,6})[.)]\s"
    "|[-\u2013\u2014\u2022\u00b7\u25aa\u25e6\u25cf\u25cb*]\\s"
    "|[\u2022\u00b7\u25aa\u25e6\u25cf\u25cb])"
)


@dataclass
class _Block:
    kind: str  # title, heading, paragraph, row
    text: str
    level: int = 0


@dataclass
class _Reader(WordXml):
    """The body of the document, read into blocks with the styles and the
    numbering of :mod:`.docx_styles` and :mod:`.docx_numbering`."""

    styles: Styles
    numbering: Numbering
    note_markers: dict[tuple[str, str], int] = field(default_factory=dict)
    blocks: list[_Block] = field(default_factory=list)

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
        style_id = style_id or self.styles.default_style
        floating: list[etree._Element] = []
        text = self.inline_text(paragraph, floating)
        kind, level = self.styles.kind(style_id)
        direct_outline = to_int(self.val(ppr.find(q("outlineLvl")))) if ppr is not None else None
        if direct_outline is not None and kind != "title":
            kind, level = (
                ("heading", direct_outline + 1) if direct_outline <= 8 else ("paragraph", 0)
            )
        numbering = self.numbering.numbering_of(ppr, style_id)
        label = self.numbering.next_label(*numbering) if numbering and kind != "title" else ""
        texts: list[str] = []
        if text and in_table:
            texts.append(text)
        elif text:
            if label and not TYPED_LABEL.match(text):
                if kind == "heading":
                    text = f"{label} {text}" if label != "-" else text
                else:
                    depth = numbering[1] or self.styles.list_depth(style_id)
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
                and (note_id := to_int(self.val(element, "id"))) is not None
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
            styles = Styles(name.namespace)
            reader = _Reader(name.namespace, styles, Numbering(name.namespace, styles))
            parts = docx_package.related_parts(archive)

            def optional(kind: str) -> etree._Element | None:
                content = docx_package.read_part(archive, parts[kind])
                return docx_package.parse_xml(content) if content else None

            styles.load(optional("styles"))
            reader.numbering.load(optional("numbering"))
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
