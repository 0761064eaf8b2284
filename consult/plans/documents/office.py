"""The word processors' downloads: DOCX (python-docx) and ODT (odfpy).

Both carry the plan's numbered lines as the page, the HTML and the PDF do
(line N holds the same words): each printed line is a paragraph of its own,
its number in the margin (a hanging indent) and in small grey type, so that a
word processor never re-breaks one line into another's number. A section
heading stays one paragraph (one entry in the document's outline), its lines
separated by line breaks."""

import io

from .model import LIST_KINDS, Block, Export

NUMBER_ROOM_CM = 1.0  # the margin that the line numbers sit in
INDENT_CM = 0.75  # per level of a list


def _docx_field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) at the end of ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)  # python-docx has no API for fields


def docx_bytes(export: Export) -> bytes:
    from docx import Document

    document = Document()
    properties = document.core_properties
    properties.title = export.title
    properties.language = export.language
    properties.subject = export.version_label
    _docx_page(document, export)
    writer = _DocxWriter(document)
    writer.paragraph("Title").add_run(export.title)
    writer.paragraph("Subtitle").add_run(f"{export.version_label} · {export.date}")
    for block in export.body:
        writer.body_block(block)
    if export.footnotes:
        writer.paragraph("Heading 1").add_run(export.footnotes_label)
        for block in export.footnotes:
            writer.footnote(block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_page(document, export: Export) -> None:
    """A4, the title and version in the header, the date and "Page X of Y" below."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Mm

    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Cm(2.2)
    section.header.paragraphs[0].text = f"{export.title} · {export.version_label}"
    section.footer.paragraphs[0].text = export.date
    pages = section.footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for kind, text in export.page_label():
        if kind == "text":
            pages.add_run(text)
        else:
            _docx_field(pages, "PAGE" if kind == "page" else "NUMPAGES")


def _without_numbering(paragraph) -> None:
    """A list style's own bullet off (numId 0): the line number is in the margin."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    numbering = OxmlElement("w:numPr")
    number_id = OxmlElement("w:numId")
    number_id.set(qn("w:val"), "0")
    numbering.append(number_id)
    paragraph._p.get_or_add_pPr().append(numbering)  # python-docx has no API for it


class _DocxWriter:
    """Appends paragraphs straight before the final section properties:
    Document.add_paragraph() searches the whole body for them every time,
    which makes a long plan quadratic."""

    def __init__(self, document):
        self.document = document
        self.end = document.element.body.sectPr
        self.style_ids: dict[str, str] = {}

    def paragraph(self, style: str | None = None):
        from docx.oxml import OxmlElement
        from docx.text.paragraph import Paragraph

        element = OxmlElement("w:p")
        self.end.addprevious(element)
        if style is not None:
            if style not in self.style_ids:
                self.style_ids[style] = self.document.styles[style].style_id
            element.style = self.style_ids[style]
        return Paragraph(element, self.document)

    def write(self, block: Block, style: str | None = None, *, indent: int = 0, size=None):
        """The block's numbered lines: a paragraph each (a heading: one paragraph)."""
        from docx.shared import Pt

        size = size or Pt(10)
        heading = block.kind == "section"
        lines = block.lines or [None]
        result = None
        for index, line in enumerate(lines):
            if result is None or not heading:
                last = heading or index == len(lines) - 1
                result = self._numbered_paragraph(style, indent, last=last)
            elif heading:
                result.add_run().add_break()
            if line is not None:
                self._number(result, line.number)
            if index == 0 and block.ref:
                reference = result.add_run(block.ref + " ")
                reference.bold = True
                reference.font.size = size
            marker = "• " if index == 0 and block.kind == "bullet" else ""
            text = result.add_run(marker + (line.text if line is not None else block.text))
            text.font.size = None if heading else size

    def _numbered_paragraph(self, style, indent: int, *, last: bool):
        from docx.shared import Cm, Pt

        paragraph = self.paragraph(style)
        if style and style.startswith("List"):
            _without_numbering(paragraph)  # the style's name, the line's own "• "
        layout = paragraph.paragraph_format
        layout.left_indent = Cm(NUMBER_ROOM_CM + INDENT_CM * indent)
        layout.first_line_indent = Cm(-NUMBER_ROOM_CM)
        layout.tab_stops.add_tab_stop(Cm(NUMBER_ROOM_CM + INDENT_CM * indent))
        if not last:
            layout.space_after = Pt(0)
            layout.keep_with_next = True
        return paragraph

    @staticmethod
    def _number(paragraph, number: int) -> None:
        from docx.shared import Pt, RGBColor

        run = paragraph.add_run(f"{number}\t")
        run.font.size = Pt(8)
        run.font.color.rgb = RGBColor(0x5F, 0x63, 0x68)

    def body_block(self, block: Block) -> None:
        if block.kind == "section":
            self.write(block, f"Heading {min(block.section_level, 9)}")
        elif block.kind == "bullet":
            level = min(block.list_level, 2)
            self.write(block, "List Bullet" + (f" {level + 1}" if level else ""), indent=level)
        elif block.kind == "item":
            self.write(block, indent=block.list_level)
        else:
            self.write(block)

    def footnote(self, block: Block) -> None:
        from docx.shared import Pt

        self.write(block, size=Pt(9))


def odt_bytes(export: Export) -> bytes:
    from odf import dc
    from odf.opendocument import OpenDocumentText
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text=export.title))
    document.meta.addElement(dc.Language(text=export.language))
    styles = _OdtStyles(document)
    _odt_page(document, export, styles)
    document.text.addElement(P(stylename=styles.title, text=export.title))
    document.text.addElement(
        P(stylename=styles.subtitle, text=f"{export.version_label} · {export.date}")
    )
    for block in export.body:
        _odt_write(document, styles, block)
    if export.footnotes:
        document.text.addElement(
            H(outlinelevel=1, stylename=styles.heading(1), text=export.footnotes_label)
        )
        for block in export.footnotes:
            _odt_write(document, styles, block, footnote=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _OdtStyles:
    """The document's named paragraph styles (so that a word processor shows
    "Heading 2", "List item 1"…), made once each. The plan's paragraphs hang
    their line numbers in a margin of NUMBER_ROOM_CM; a "… line" style is the
    same without the space after, for the lines of a paragraph but its last."""

    def __init__(self, document):
        from odf.style import Style, TextProperties

        self.document = document
        self.title = self.paragraph("Title", "Title", size="20pt", bold=True, space_after="0.3cm")
        self.subtitle = self.paragraph(
            "Subtitle", "Subtitle", size="11pt", italic=True, space_after="0.6cm"
        )
        self.body = self.paragraph("Text_20_body", "Text body", size="10pt", hanging=0)
        self.body_line = self.paragraph(
            "Text_20_body_20_line", "Text body line", size="10pt", hanging=0, space_after="0cm"
        )
        self.footnote = self.paragraph("Footnote", "Footnote", size="9pt", hanging=0)
        self.footnote_line = self.paragraph(
            "Footnote_20_line", "Footnote line", size="9pt", hanging=0, space_after="0cm"
        )
        self.closing = self.paragraph("Closing", "Closing", italic=True, space_before="0.5cm")
        self.small = self.paragraph("Plan_20_header", "Plan header", size="8pt", space_after="0cm")
        self.headings: dict[int, Style] = {}
        self.lists: dict[tuple[str, int, bool], Style] = {}
        self.reference = Style(name="Reference", displayname="Reference", family="text")
        self.reference.addElement(TextProperties(fontweight="bold"))
        document.styles.addElement(self.reference)
        self.line_number = Style(name="Line_20_number", displayname="Line number", family="text")
        self.line_number.addElement(TextProperties(fontsize="8pt", color="#5f6368"))
        document.styles.addElement(self.line_number)

    def paragraph(
        self,
        name,
        display,
        *,
        size=None,
        bold=False,
        italic=False,
        hanging=None,
        outline=None,
        space_before="0cm",
        space_after="0.2cm",
    ):
        """``hanging``: the paragraph's indent (cm) after the line numbers' margin."""
        from odf.style import ParagraphProperties, Style, TabStop, TabStops, TextProperties

        attributes = {"name": name, "displayname": display, "family": "paragraph"}
        if outline:
            attributes["defaultoutlinelevel"] = str(outline)
        style = Style(**attributes)
        paragraph = {"margintop": space_before, "marginbottom": space_after}
        if hanging is not None:
            paragraph["marginleft"] = f"{NUMBER_ROOM_CM + hanging:.2f}cm"
            paragraph["textindent"] = f"-{NUMBER_ROOM_CM:.2f}cm"
        properties = ParagraphProperties(**paragraph)
        if hanging is not None:
            stops = TabStops()
            stops.addElement(TabStop(position="0cm"))  # the text's own left edge
            properties.addElement(stops)
        style.addElement(properties)
        text = {
            "fontsize": size,
            "fontweight": "bold" if bold else None,
            "fontstyle": "italic" if italic else None,
        }
        text = {key: value for key, value in text.items() if value}
        if text:
            style.addElement(TextProperties(**text))
        self.document.styles.addElement(style)
        return style

    def heading(self, level: int):
        if level not in self.headings:
            size = {1: "16pt", 2: "14pt", 3: "12pt"}.get(level, "11pt")
            self.headings[level] = self.paragraph(
                f"Heading_20_{level}",
                f"Heading {level}",
                size=size,
                bold=True,
                hanging=0,
                outline=level,
                space_before="0.4cm",
                space_after="0.2cm",
            )
        return self.headings[level]

    def list_item(self, kind: str, level: int, *, last: bool = True):
        if (kind, level, last) not in self.lists:
            name = "List_20_item" if kind == "item" else "List_20_bullet"
            display = "List item" if kind == "item" else "List bullet"
            suffix = ("", "") if last else ("_20_line", " line")
            self.lists[(kind, level, last)] = self.paragraph(
                f"{name}_20_{level + 1}{suffix[0]}",
                f"{display} {level + 1}{suffix[1]}",
                size="10pt",
                hanging=INDENT_CM * level,
                space_after="0.1cm" if last else "0cm",
            )
        return self.lists[(kind, level, last)]


def _odt_page(document, export: Export, styles: _OdtStyles) -> None:
    """A4, the title and version in the header, the date and "Page X of Y" below."""
    from odf.style import Footer, Header, MasterPage, PageLayout, PageLayoutProperties
    from odf.text import P, PageCount, PageNumber

    layout = PageLayout(name="PlanPage")
    layout.addElement(
        PageLayoutProperties(
            pagewidth="21cm",
            pageheight="29.7cm",
            printorientation="portrait",
            margintop="1.5cm",
            marginbottom="1.5cm",
            marginleft="2.2cm",
            marginright="2cm",
        )
    )
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(stylename=styles.small, text=f"{export.title} · {export.version_label}"))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(stylename=styles.small, text=export.date))
    pages = P(stylename=styles.small)
    for kind, text in export.page_label():
        if kind == "text":
            pages.addText(text)
        elif kind == "page":
            pages.addElement(PageNumber(selectpage="current", text="1"))
        else:
            pages.addElement(PageCount(text="1"))
    footer.addElement(pages)
    master.addElement(footer)
    document.masterstyles.addElement(master)


def _odt_element(styles: _OdtStyles, block: Block, last: bool, footnote: bool):
    from odf.text import H, P

    if footnote:
        return P(stylename=styles.footnote if last else styles.footnote_line)
    if block.kind == "section":
        level = block.section_level
        return H(outlinelevel=level, stylename=styles.heading(level))
    if block.kind in LIST_KINDS:
        return P(stylename=styles.list_item(block.kind, block.list_level, last=last))
    if block.kind == "closing":
        return P(stylename=styles.closing)
    return P(stylename=styles.body if last else styles.body_line)


def _odt_write(document, styles: _OdtStyles, block: Block, *, footnote: bool = False) -> None:
    """The block's numbered lines: a paragraph each (a heading: one, with line
    breaks), the number in the margin before a tab."""
    from odf import teletype
    from odf.text import LineBreak, Span, Tab

    lines = block.lines or [None]
    element = None
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if element is None:
            element = _odt_element(styles, block, last, footnote)
        elif block.kind == "section":
            element.addElement(LineBreak())
        if line is not None:
            element.addElement(Span(stylename=styles.line_number, text=str(line.number)))
            element.addElement(Tab())
        if index == 0 and block.ref:
            element.addElement(Span(stylename=styles.reference, text=block.ref + " "))
        marker = "• " if index == 0 and block.kind == "bullet" else ""
        teletype.addTextToElement(element, marker + (line.text if line is not None else block.text))
        if block.kind != "section" or last:
            document.text.addElement(element)
            element = None
