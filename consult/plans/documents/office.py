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
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Cm, Mm, Pt
    from docx.text.paragraph import Paragraph

    document = Document()
    properties = document.core_properties
    properties.title = export.title
    properties.language = export.language
    properties.subject = export.version_label

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

    # New paragraphs go straight before the final section properties:
    # Document.add_paragraph() searches the whole body for them every time,
    # which makes a long plan quadratic.
    end = document.element.body.sectPr
    style_ids: dict[str, str] = {}

    def paragraph(style: str | None = None) -> Paragraph:
        element = OxmlElement("w:p")
        end.addprevious(element)
        if style is not None:
            if style not in style_ids:
                style_ids[style] = document.styles[style].style_id
            element.style = style_ids[style]
        return Paragraph(element, document)

    def write(block: Block, style: str | None = None, *, indent: int = 0, size=None) -> None:
        result = paragraph(style)
        if indent:
            result.paragraph_format.left_indent = Cm(0.75 * indent)
        runs = []
        if block.ref:
            runs.append(result.add_run(block.ref + " "))
            runs[0].bold = True
        runs.append(result.add_run(block.text))
        if size is not None:
            for run in runs:
                run.font.size = size

    paragraph("Title").add_run(export.title)
    paragraph("Subtitle").add_run(f"{export.version_label} · {export.date}")
    for block in export.body:
        if block.kind == "section":
            write(block, f"Heading {min(block.section_level, 9)}")
        elif block.kind == "bullet":
            level = min(block.list_level, 2)
            write(block, "List Bullet" + (f" {level + 1}" if level else ""))
        elif block.kind == "item":
            write(block, indent=block.list_level)
        else:
            write(block)
    if export.footnotes:
        paragraph("Heading 1").add_run(export.footnotes_label)
        for block in export.footnotes:
            write(block, size=Pt(9))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def odt_bytes(export: Export) -> bytes:
    from odf import dc, teletype
    from odf.opendocument import OpenDocumentText
    from odf.style import (
        Footer,
        Header,
        MasterPage,
        PageLayout,
        PageLayoutProperties,
        ParagraphProperties,
        Style,
        TextProperties,
    )
    from odf.text import H, P, PageCount, PageNumber, Span

    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text=export.title))
    document.meta.addElement(dc.Language(text=export.language))

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

    def paragraph_style(
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
        attributes = {"name": name, "displayname": display, "family": "paragraph"}
        if outline:
            attributes["defaultoutlinelevel"] = str(outline)
        style = Style(**attributes)
        paragraph = {"margintop": space_before, "marginbottom": space_after}
        if indent:
            paragraph["marginleft"] = f"{indent:.2f}cm"
        style.addElement(ParagraphProperties(**paragraph))
        text = {}
        if size:
            text["fontsize"] = size
        if bold:
            text["fontweight"] = "bold"
        if italic:
            text["fontstyle"] = "italic"
        if text:
            style.addElement(TextProperties(**text))
        document.styles.addElement(style)
        return style

    title_style = paragraph_style("Title", "Title", size="20pt", bold=True, space_after="0.3cm")
    subtitle_style = paragraph_style(
        "Subtitle", "Subtitle", size="11pt", italic=True, space_after="0.6cm"
    )
    body_style = paragraph_style("Text_20_body", "Text body")
    footnote_style = paragraph_style("Footnote", "Footnote", size="9pt")
    closing_style = paragraph_style("Closing", "Closing", italic=True, space_before="0.5cm")
    small_style = paragraph_style("Plan_20_header", "Plan header", size="8pt", space_after="0cm")
    heading_styles: dict[int, Style] = {}
    indent_styles: dict[tuple[str, int], Style] = {}
    bold = Style(name="Reference", displayname="Reference", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.styles.addElement(bold)

    def heading_style(level: int) -> Style:
        if level not in heading_styles:
            size = {1: "16pt", 2: "14pt", 3: "12pt"}.get(level, "11pt")
            heading_styles[level] = paragraph_style(
                f"Heading_20_{level}",
                f"Heading {level}",
                size=size,
                bold=True,
                outline=level,
                space_before="0.4cm",
                space_after="0.2cm",
            )
        return heading_styles[level]

    def list_style(kind: str, level: int) -> Style:
        if (kind, level) not in indent_styles:
            name = "List_20_item" if kind == "item" else "List_20_bullet"
            display = "List item" if kind == "item" else "List bullet"
            indent_styles[(kind, level)] = paragraph_style(
                f"{name}_20_{level + 1}",
                f"{display} {level + 1}",
                indent=0.75 * level + (0.5 if kind == "bullet" else 0),
                space_after="0.1cm",
            )
        return indent_styles[(kind, level)]

    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(stylename=small_style, text=f"{export.title} · {export.version_label}"))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(stylename=small_style, text=export.date))
    pages = P(stylename=small_style)
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

    def write(block: Block, element) -> None:
        if block.ref:
            element.addElement(Span(stylename=bold, text=block.ref + " "))
        marker = "• " if block.kind == "bullet" else ""
        teletype.addTextToElement(element, f"{marker}{block.text}")
        document.text.addElement(element)

    document.text.addElement(P(stylename=title_style, text=export.title))
    document.text.addElement(
        P(stylename=subtitle_style, text=f"{export.version_label} · {export.date}")
    )
    for block in export.body:
        if block.kind == "section":
            level = block.section_level
            write(block, H(outlinelevel=level, stylename=heading_style(level)))
        elif block.kind in LIST_KINDS:
            write(block, P(stylename=list_style(block.kind, block.list_level)))
        elif block.kind == "closing":
            write(block, P(stylename=closing_style))
        else:
            write(block, P(stylename=body_style))
    if export.footnotes:
        document.text.addElement(
            H(outlinelevel=1, stylename=heading_style(1), text=export.footnotes_label)
        )
        for block in export.footnotes:
            write(block, P(stylename=footnote_style))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
