"""Downloadable documents of a plan version: HTML, PDF, DOCX and ODT.

Every format shows the same thing: the plan title, "Version N" and the date,
every node preceded by the reference people cite (``2.A.1``), sections as
headings by depth, items and bullets indented under their parents, and the
footnotes in a final section. The HTML and the PDF also carry the line numbers
of :mod:`.layout`, so that "line 112" is the same line on screen and on paper.

Labels come from the interface language of the person downloading (Babel's
current locale); the plan's own text keeps the plan's language. All the work is
linear in the number of nodes.
"""

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from markupsafe import escape

from ..config import DEFAULT_LOCALE
from .layout import NumberedNode, cited_ref, display_text, line_length, number_lines

FORMATS = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
LIST_KINDS = ("item", "bullet")
MAX_SLUG = 60

# Characters XML 1.0 does not allow (the importer already removes them; an
# export must never fail on text written some other way).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(fmt: str, plan, version, nodes) -> tuple[bytes, str, str]:
    """The version as a document: ``(content, mimetype, filename)``.

    ``nodes`` are the version's nodes in document order
    (:func:`.services.version_nodes`).
    """
    builders = {"html": _html_bytes, "pdf": _pdf, "docx": _docx, "odt": _odt}
    if fmt not in builders:
        raise ValueError(f"unknown document format: {fmt!r}")
    export = _Export.build(plan, version, nodes)
    return builders[fmt](export), FORMATS[fmt], export_filename(plan, version, fmt)


def slug(title: str) -> str:
    """ASCII, lower case, words joined by hyphens, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-") or "plan"


def export_filename(plan, version, fmt: str) -> str:
    """A download name safe for Content-Disposition: ``plan-title-v3.pdf``."""
    return f"{slug(plan.title)}-v{int(version.number)}.{fmt}"


def printed_lines(nodes, width: int = 80) -> int:
    """About how many numbered lines the document has (what a PDF's cost
    follows), without wrapping the text: each node's characters over the
    line length, rounded up."""
    return sum(len(display_text(node)) // width + 1 for node in nodes)


# --- what every format shows ----------------------------------------------------


@dataclass
class _Line:
    number: int
    text: str


@dataclass
class _Block:
    """One node as printed: its lines and its place in the tree."""

    node: object
    lines: list[_Line]
    section_level: int  # 1 for a top-level section (sections only)
    list_level: int  # how many items or bullets it sits under

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def ref(self) -> str:
        """The reference printed (sections and items, as on the page); other
        paragraphs are cited by their lines."""
        return _clean(cited_ref(self.node))

    @property
    def anchor_ref(self) -> str:
        """The node's own reference, printed nowhere, kept in the anchors."""
        return _clean(self.node.ref or "")

    @property
    def text(self) -> str:
        return _clean(display_text(self.node))


@dataclass
class _Export:
    title: str
    language: str
    version_label: str
    date: str
    iso_date: str
    body: list[_Block]
    footnotes: list[_Block]

    @classmethod
    def build(cls, plan, version, nodes) -> "_Export":
        nodes = list(nodes)
        section_levels, list_levels = _levels(nodes)
        body, footnotes = [], []
        for numbered in number_lines(nodes, line_length(plan.forum)):
            node = numbered.node
            block = _Block(
                node,
                _lines(numbered),
                section_levels.get(node.key, 0),
                list_levels.get(node.key, 0),
            )
            (footnotes if node.kind == "footnote" else body).append(block)
        created = version.created_at
        return cls(
            title=_clean(version.title or plan.title or ""),
            language=plan.language or DEFAULT_LOCALE,
            version_label=_("Version %(number)d", number=int(version.number)),
            date=format_date(created, "long") if created else "",
            iso_date=created.date().isoformat() if isinstance(created, datetime) else "",
            body=body,
            footnotes=footnotes,
        )

    @property
    def footnotes_label(self) -> str:
        return _("Footnotes")

    def page_label(self) -> list[tuple[str, str]]:
        """ "Page X of Y" in the interface language, as (kind, text) pieces:
        ``("text", "Page ")``, ``("page", "")``, ``("text", " of ")``, ``("pages", "")``,
        so that each format puts its own page counters where the words say."""
        label = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
        pieces = []
        for part in re.split(r"\x00(pages?)\x00", label):
            if part in ("page", "pages"):
                pieces.append((part, ""))
            elif part:
                pieces.append(("text", part))
        return pieces


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _lines(numbered: NumberedNode) -> list[_Line]:
    return [_Line(number, _clean(text)) for number, text in numbered.lines]


def _levels(nodes) -> tuple[dict[str, int], dict[str, int]]:
    """For every node: the sections it is in (itself included) and the items or
    bullets it is under. Each node is visited once (parents are memoised)."""
    by_key = {node.key: node for node in nodes}
    sections: dict[str, int] = {}
    lists: dict[str, int] = {}
    for node in nodes:
        chain, seen, current = [], set(), node
        while current is not None and current.key not in sections and current.key not in seen:
            seen.add(current.key)
            chain.append(current)
            current = by_key.get(current.parent_key) if current.parent_key else None
        for member in reversed(chain):
            parent = by_key.get(member.parent_key) if member.parent_key else None
            if parent is None or parent.key not in sections:  # a root (or a broken cycle)
                parent_sections, parent_list = 0, -1
            else:
                parent_sections = sections[parent.key]
                parent_list = lists[parent.key] if parent.kind in LIST_KINDS else -1
            sections[member.key] = parent_sections + (member.kind == "section")
            lists[member.key] = parent_list + 1
    return sections, lists


# --- HTML ---------------------------------------------------------------------

_SCREEN_CSS = """
:root { color-scheme: light; }
body { margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1a1a1a;
  background: #fff; font: 1rem/1.5 Georgia, "DejaVu Serif", "Times New Roman", serif; }
.doc-header { font: .875rem/1.4 "DejaVu Sans", Arial, sans-serif; color: #444;
  border-bottom: 1px solid #bbb; padding-bottom: .5rem; margin-bottom: 1.5rem; }
.doc-header p { margin: 0; }
main { position: relative; padding-left: 3.75rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1.25rem; }
h2 { font-size: 1.3rem; margin: 1.75rem 0 .75rem; }
h3 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
h4, h5, h6 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
p.node { margin: 0 0 .6rem; }
.line { display: block; }
.ln { position: absolute; left: 0; width: 2.75rem; text-align: right; color: #595959;
  font: .75rem/2 "DejaVu Sans", Arial, sans-serif; font-variant-numeric: tabular-nums; }
.ref { color: #595959; font: 600 .75rem "DejaVu Sans", Arial, sans-serif;
  text-decoration: none; margin-right: .4em; }
a.ref:hover, a.ref:focus { text-decoration: underline; }
.list { list-style: none; margin: 0 0 .6rem; padding: 0 0 0 1.75rem; }
article > .list { padding-left: 0; }
.list li > p.node { margin-bottom: .35rem; }
.marker { margin-right: .35em; }
.closing { margin-top: 1.5rem; font-style: italic; }
.footnotes { margin-top: 2rem; border-top: 1px solid #bbb; font-size: .9rem; }
.footnotes h2 { font-size: 1.1rem; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; white-space: nowrap; }
@media screen { .vh { clip-path: inset(50%); } }
"""


def _anchor(ref: str, used: set[str]) -> str:
    """``ref-2.A.1``: unique in the document and free of spaces."""
    base = "ref-" + (re.sub(r"\s+", "-", ref) or "node")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _node_html(block: _Block, tag: str, anchor: str, hidden: str, link: bool = True) -> str:
    """A node: its reference first, then its lines, each with its number.

    ``hidden`` is the "Line" word for screen readers, shown before every number;
    ``link`` makes the reference a link to the node (the PDF has no use for it)."""
    parts = [f'<{tag} class="node {block.kind}" id="{anchor}">']
    ref = ""
    if block.ref:
        ref = (
            f'<a class="ref" href="#{anchor}">{escape(block.ref)}</a>'
            if link
            else f'<span class="ref">{escape(block.ref)}</span>'
        )
    for index, line in enumerate(block.lines):
        parts.append(f'<span class="line"><span class="ln">{hidden}{line.number}</span>')
        if index == 0:
            parts.append(ref)
            if block.kind == "bullet":
                parts.append('<span class="marker" aria-hidden="true">•</span>')
        parts.append(f"{escape(line.text)}</span>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def _body_html(export: _Export, used: set[str], hidden: str, link: bool = True) -> list[str]:
    """The body with items and bullets nested in lists under their parents.

    One pass with a stack of open list items (no recursion, so no depth limit).
    The lists keep role="list": some screen readers drop it with list-style: none.
    """
    out: list[str] = []
    frames: list[list] = []  # [key of an open <li>, tag of its open child list or None]
    top_list: str | None = None  # a list open directly under a section

    def close_frame() -> None:
        _key, child_list = frames.pop()
        if child_list:
            out.append(f"</{child_list}>")
        out.append("</li>")

    for block in export.body:
        node = block.node
        while frames and frames[-1][0] != node.parent_key:
            close_frame()
        is_list = block.kind in LIST_KINDS
        tag = "ol" if block.kind == "item" else "ul"
        if frames:
            frame = frames[-1]
            if is_list and frame[1] is None:
                out.append(f'<{tag} class="list" role="list">')
                frame[1] = tag
            elif not is_list and frame[1] is not None:
                out.append(f"</{frame[1]}>")
                frame[1] = None
        elif is_list and top_list is None:
            out.append(f'<{tag} class="list" role="list">')
            top_list = tag
        elif not is_list and top_list is not None:
            out.append(f"</{top_list}>")
            top_list = None

        anchor = _anchor(block.anchor_ref, used)
        if is_list:
            out.append("<li>" + _node_html(block, "p", anchor, hidden, link))
            frames.append([node.key, None])
        elif block.kind == "section":
            level = min(block.section_level + 1, 6)
            out.append(_node_html(block, f"h{level}", anchor, hidden, link))
        else:
            out.append(_node_html(block, "p", anchor, hidden, link))
    while frames:
        close_frame()
    if top_list is not None:
        out.append(f"</{top_list}>")
    return out


def _html_document(export: _Export) -> str:
    """A complete, standalone HTML5 document (also well-formed XML)."""
    locale = str(get_locale() or DEFAULT_LOCALE).replace("_", "-")
    # The plan's text keeps its own language; the "Line" label inside it does not.
    label_lang = f' lang="{escape(locale)}"' if locale != export.language else ""
    line_word = _("Line")  # outside the f-string, where pybabel finds it
    hidden = f'<span class="vh"{label_lang}>{escape(line_word)} </span>'
    used: set[str] = set()
    date = (
        f'<time class="doc-date" datetime="{escape(export.iso_date)}">{escape(export.date)}</time>'
        if export.iso_date
        else f'<span class="doc-date">{escape(export.date)}</span>'
    )
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(locale)}">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{escape(export.title)} · {escape(export.version_label)}</title>",
        f"<style>{_SCREEN_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="doc-header"><p>',
        f'<span class="doc-plan" lang="{escape(export.language)}">{escape(export.title)}</span>',
        f' · <span class="doc-version">{escape(export.version_label)}</span> · {date}',
        "</p></header>",
        "<main>",
        f'<article lang="{escape(export.language)}">',
        f"<h1>{escape(export.title)}</h1>",
    ]
    out += _body_html(export, used, hidden)
    if export.footnotes:
        out.append('<section class="footnotes" role="doc-endnotes" aria-labelledby="footnotes">')
        out.append(f'<h2 id="footnotes"{label_lang}>{escape(export.footnotes_label)}</h2>')
        for block in export.footnotes:
            out.append(_node_html(block, "p", _anchor(block.anchor_ref, used), hidden))
        out.append("</section>")
    out += ["</article>", "</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _html_bytes(export: _Export) -> bytes:
    return _html_document(export).encode("utf-8")


# --- PDF ----------------------------------------------------------------------


def _css_string(text: str) -> str:
    """A CSS string literal; anything but letters, digits and spaces is escaped."""
    # The space after an escape ends it (and is not part of the string).
    escaped = (ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return '"' + "".join(escaped) + '"'


def _print_html(export: _Export) -> str:
    """The document WeasyPrint lays out: the HTML export's title, body and
    footnotes, without what only a screen needs. The page margins carry the
    plan, version and date (so page 1 has one header, like every page), and
    the references are not links to themselves."""
    locale = str(get_locale() or DEFAULT_LOCALE).replace("_", "-")
    label_lang = f' lang="{escape(locale)}"' if locale != export.language else ""
    used: set[str] = set()
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(locale)}">',
        '<head><meta charset="utf-8" />',
        f"<title>{escape(export.title)} · {escape(export.version_label)}</title>",
        "</head>",
        "<body>",
        f'<article lang="{escape(export.language)}">',
        f"<h1>{escape(export.title)}</h1>",
    ]
    out += _body_html(export, used, "", link=False)
    if export.footnotes:
        out.append('<section class="footnotes">')
        out.append(f"<h2{label_lang}>{escape(export.footnotes_label)}</h2>")
        for block in export.footnotes:
            out.append(_node_html(block, "p", _anchor(block.anchor_ref, used), "", link=False))
        out.append("</section>")
    out += ["</article>", "</body>", "</html>", ""]
    return "\n".join(out)


# One font family (the first of these the system has), in two faces: regular,
# and bold for the headings. Every face used is subset into the PDF, the
# largest single cost of a short PDF, so the line numbers, references and page
# margins use the regular face, smaller and grey, rather than a third face.
_PRINT_CSS = """
@page {
  size: A4;
  margin: 20mm 14mm 20mm 24mm;
  @top-left { content: @@header@@; font-size: 8pt; color: #555; }
  @bottom-left { content: @@date@@; font-size: 8pt; color: #555; }
  @bottom-right { content: @@pages@@; font-size: 8pt; color: #555; }
}
html { font: 9.5pt/1.45 "Liberation Serif", "Times New Roman", Times, "DejaVu Serif", serif;
  color: #1a1a1a; }
body { margin: 0; }
article { position: relative; }
h1, h2, h3, h4, h5, h6 { font-weight: bold; line-height: 1.25; break-after: avoid; }
/* Sizes chosen so that most numbered lines stay one printed line (a longer one
   wraps, and its number stays beside its first printed line). */
h1 { font-size: 15pt; margin: 0 0 1.25rem; }
h2 { font-size: 12pt; margin: 1.75rem 0 .75rem; }
h3 { font-size: 11pt; margin: 1.5rem 0 .5rem; }
h4, h5, h6 { font-size: 10pt; margin: 1.25rem 0 .5rem; }
p { margin: 0 0 .6rem; }
.line { display: block; }
.ln { position: absolute; left: -13mm; width: 10mm; text-align: right; color: #595959;
  font-size: 7.5pt; font-weight: normal; }
.ref { color: #595959; font-size: 7.5pt; font-weight: normal; margin-right: .4em; }
.list { list-style: none; margin: 0 0 .6rem; padding: 0 0 0 1.25rem; }
li > p { margin-bottom: .35rem; }
.marker { margin-right: .35em; }
.closing { margin-top: 1.5rem; }
.footnotes { margin-top: 2rem; border-top: 1px solid #bbb; font-size: .9rem; }
.footnotes h2 { font-size: 1.1rem; }
"""


def _print_css(export: _Export) -> str:
    """The print rules with this export's header, date and "Page X of Y" (in
    the interface language) in the page margins."""
    counters = {"page": "counter(page)", "pages": "counter(pages)"}
    page_content = " ".join(
        counters[kind] if kind in counters else _css_string(text)
        for kind, text in export.page_label()
    )
    header = _css_string(f"{export.title} · {export.version_label}")
    return (
        _PRINT_CSS.replace("@@header@@", header)
        .replace("@@date@@", _css_string(export.date) if export.date else '""')
        .replace("@@pages@@", page_content)
    )


def pdf_layout(plan, version, nodes):
    """The PDF's pages as WeasyPrint lays them out (a ``weasyprint.Document``,
    whose pages' boxes say what is printed where), before they are written."""
    return _pdf_layout(_Export.build(plan, version, nodes))


def _pdf_layout(export: _Export):
    from weasyprint import CSS, HTML  # slow to import: only when a PDF is asked for

    # WeasyPrint and fontTools report every step at INFO, the app's log level.
    for name in ("weasyprint.progress", "fontTools"):
        chatty = logging.getLogger(name)
        if chatty.level == logging.NOTSET:
            chatty.setLevel(logging.WARNING)

    try:
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=())  # the document needs nothing from outside
    except ImportError:  # pragma: no cover - older WeasyPrint

        def fetcher(url):
            raise ValueError(f"no external resources: {url}")

    html = HTML(string=_print_html(export), url_fetcher=fetcher)
    return html.render(stylesheets=[CSS(string=_print_css(export), url_fetcher=fetcher)])


def _pdf(export: _Export) -> bytes:
    return _pdf_layout(export).write_pdf()


# --- DOCX ---------------------------------------------------------------------


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


def _docx(export: _Export) -> bytes:
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

    def write(block: _Block, style: str | None = None, *, indent: int = 0, size=None) -> None:
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


# --- ODT ----------------------------------------------------------------------


def _odt(export: _Export) -> bytes:
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

    def write(block: _Block, element) -> None:
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
