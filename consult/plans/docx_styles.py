"""The paragraph styles of a Word document (``word/styles.xml``), for
:mod:`consult.plans.docx_reader`: which style is the title, which are headings
(by their name in several languages, or by an outline level, following the
styles they are based on), how deep a built-in list style is, and the
numbering a style carries."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from .docx_package import WordXml, to_int

TITLE_NAMES = {"title", "título", "titulo", "titre", "titel", "titolo", "ttulo", "tytuł"}
HEADING_NAME = re.compile(
    r"^(?:heading|título|titulo|ttulo|encabezado|titre|überschrift|berschrift|titolo|kop|"
    r"nagłówek|rubrik|otsikko|overskrift|заголовок)\s*([1-9])$"
)
# "List Bullet 2", "List Number 3": Word's built-in single-level lists, one per depth.
LIST_STYLE_DEPTH = re.compile(r"^list\s+(?:bullet|number)\s*([2-9])$")


@dataclass
class Style:
    name: str = ""
    based_on: str | None = None
    outline: int | None = None
    num_id: str | None = None
    ilvl: int | None = None


@dataclass
class Styles(WordXml):
    """The document's paragraph and numbering styles, by style id."""

    styles: dict[str, Style] = field(default_factory=dict)
    default_style: str | None = None

    def load(self, root: etree._Element | None) -> None:
        if root is None:
            return
        for element in root.iter(self.q("style")):
            # Paragraph styles, and numbering styles (which list styles link to).
            if self.val(element, "type") not in (None, "paragraph", "numbering"):
                continue
            style_id = self.val(element, "styleId")
            if not style_id:
                continue
            self.styles[style_id] = self._read_style(element)
            if self.val(element, "default") in ("1", "true", "on"):
                self.default_style = style_id

    def _read_style(self, element: etree._Element) -> Style:
        style = Style(
            name=(self.val(element.find(self.q("name"))) or "").strip(),
            based_on=self.val(element.find(self.q("basedOn"))),
        )
        ppr = element.find(self.q("pPr"))
        if ppr is not None:
            style.outline = to_int(self.val(ppr.find(self.q("outlineLvl"))))
            numpr = ppr.find(self.q("numPr"))
            if numpr is not None:
                style.num_id = self.val(numpr.find(self.q("numId")))
                style.ilvl = to_int(self.val(numpr.find(self.q("ilvl"))))
        return style

    def get(self, style_id: str | None) -> Style | None:
        return self.styles.get(style_id or "")

    def chain(self, style_id: str | None) -> Iterable[tuple[str, Style]]:
        """The style and the styles it is based on, nearest first (no loops)."""
        seen: set[str] = set()
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style_id, style
            style_id = style.based_on

    def kind(self, style_id: str | None) -> tuple[str, int]:
        """("title", 0), ("heading", level) or ("paragraph", 0) for a paragraph style."""
        for chain_id, style in self.chain(style_id):
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

    def list_depth(self, style_id: str | None) -> int:
        style = self.get(style_id)
        if style is None:
            return 0
        match = LIST_STYLE_DEPTH.match(style.name.casefold())
        return int(match.group(1)) - 1 if match else 0
