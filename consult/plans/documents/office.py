"""The word processors' downloads: DOCX (python-docx) and ODT (odfpy)."""

import io

from .model import LIST_KINDS, Block, Export


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
        from docx.shared import Cm

        result = self.paragraph(style)
        if indent:
            result.paragraph_format.left_indent = Cm(0.75 * indent)
        runs = []
        if block.ref:
            runs.append(result.add_run(block.ref + " "))
            runs[0].bold = True
        runs.append(result.add_run(block.text))
        for run in runs if size is not None else ():
            run.font.size = size

    def body_block(self, block: Block) -> None:
        if block.kind == "section":
            self.write(block, f"Heading {min(block.section_level, 9)}")
        elif block.kind == "bullet":
            level = min(block.list_level, 2)
            self.write(block, "List Bullet" + (f" {level + 1}" if level else ""))
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
        _odt_write(document, styles, block, _odt_element(styles, block))
    if export.footnotes:
        document.text.addElement(
            H(outlinelevel=1, stylename=styles.heading(1), text=export.footnotes_label)
        )
        for block in export.footnotes:
            _odt_write(document, styles, block, P(stylename=styles.footnote))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


class _OdtStyles:
    """The document's named paragraph styles (so that a word processor shows
    "Heading 2", "List item 1"…), made once each."""

    def __init__(self, document):
        from odf.style import Style, TextProperties

        self.document = document
        self.title = self.paragraph("Title", "Title", size="20pt", bold=True, space_after="0.3cm")
        self.subtitle = self.paragraph(
            "Subtitle", "Subtitle", size="11pt", italic=True, space_after="0.6cm"
        )
        self.body = self.paragraph("Text_20_body", "Text body")
        self.footnote = self.paragraph("Footnote", "Footnote", size="9pt")
        self.closing = self.paragraph("Closing", "Closing", italic=True, space_before="0.5cm")
        self.small = self.paragraph("Plan_20_header", "Plan header", size="8pt", space_after="0cm")
        self.headings: dict[int, Style] = {}
        self.lists: dict[tuple[str, int], Style] = {}
        self.reference = Style(name="Reference", displayname="Reference", family="text")
        self.reference.addElement(TextProperties(fontweight="bold"))
        document.styles.addElement(self.reference)

    def paragraph(
        self,
        name,
        display,
        *,
        size=None,
        bold=False,
        italic=False,
        indent=None,
        outline=None,
        space_before="0cm",
        space_after="0.2cm",
    ):
        from odf.style import ParagraphProperties, Style, TextProperties

        attributes = {"name": name, "displayname": display, "family": "paragraph"}
        if outline:
            attributes["defaultoutlinelevel"] = str(outline)
        style = Style(**attributes)
        paragraph = {"margintop": space_before, "marginbottom": space_after}
        if indent:
            paragraph["marginleft"] = f"{indent:.2f}cm"
        style.addElement(ParagraphProperties(**paragraph))
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
                outline=level,
                space_before="0.4cm",
                space_after="0.2cm",
            )
        return self.headings[level]

    def list_item(self, kind: str, level: int):
        if (kind, level) not in self.lists:
            name = "List_20_item" if kind == "item" else "List_20_bullet"
            display = "List item" if kind == "item" else "List bullet"
            self.lists[(kind, level)] = self.paragraph(
                f"{name}_20_{level + 1}",
                f"{display} {level + 1}",
                indent=0.75 * level + (0.5 if kind == "bullet" else 0),
                space_after="0.1cm",
            )
        return self.lists[(kind, level)]


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


def _odt_element(styles: _OdtStyles, block: Block):
    from odf.text import H, P

    if block.kind == "section":
        level = block.section_level
        return H(outlinelevel=level, stylename=styles.heading(level))
    if block.kind in LIST_KINDS:
        return P(stylename=styles.list_item(block.kind, block.list_level))
    if block.kind == "closing":
        return P(stylename=styles.closing)
    return P(stylename=styles.body)


def _odt_write(document, styles: _OdtStyles, block: Block, element) -> None:
    from odf import teletype
    from odf.text import Span

    if block.ref:
        element.addElement(Span(stylename=styles.reference, text=block.ref + " "))
    marker = "• " if block.kind == "bullet" else ""
    teletype.addTextToElement(element, f"{marker}{block.text}")
    document.text.addElement(element)
