"""Downloadable documents of a plan version: HTML, PDF, DOCX and ODT."""

import io
import re
import zlib
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import docx
import docx.shared
import pytest
from flask_babel import force_locale, format_date, gettext
from markupsafe import escape
from odf import teletype
from odf import text as odf_text
from odf.opendocument import load as load_odf
from weasyprint.formatting_structure.boxes import TextBox

from consult.plans import documents, services
from consult.plans.documents.model import Export
from consult.plans.layout import cited_ref, display_text, number_lines
from consult.plans.models import Plan, PlanNode, PlanVersion

# WeasyPrint asks for the system's HarfBuzz-Subset library, and works without it.
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")

SAMPLE = Path(__file__).parent / "data" / "plan-estructurado.es.txt"
# 113 items in nine thematic sections (lettered sub-headings, bullets, footnotes),
# the size of the plan whose PDF issue 15 measured; its sentences are those of
# the two real samples in consult/demo.
SAMPLE_113 = Path(__file__).parent / "data" / "plan-113-items.es.txt"


# --- helpers ------------------------------------------------------------------


def import_text(make, text, title="Plan"):
    forum = make.forum()
    plan = services.import_plan(None, forum, text, title=title, language="es")
    version = plan.current_version
    return plan, version, services.version_nodes(version)


@pytest.fixture
def sample(make, session):
    return import_text(make, SAMPLE.read_text(encoding="utf-8"))


def render(app, fmt, plan, version, nodes, locale="pt"):
    with app.test_request_context(), force_locale(locale):
        return documents.render(fmt, plan, version, nodes)


def labels(app, version, locale):
    """The labels the documents must show, as the catalog says them."""
    with app.test_request_context(), force_locale(locale):
        return {
            "version": gettext("Version %(number)d", number=version.number),
            "footnotes": gettext("Footnotes"),
            "line": gettext("Line"),
            "date": format_date(version.created_at, "long"),
        }


def parse_html(content: bytes) -> ElementTree.Element:
    """The HTML export is also well-formed XML: a parse error fails the test."""
    return ElementTree.fromstring(content.decode("utf-8"))  # noqa: S314 (our own output)


def by_id(root) -> dict[str, ElementTree.Element]:
    return {element.get("id"): element for element in root.iter() if element.get("id")}


def html_lines(element) -> list[tuple[int, str]]:
    """The numbered lines of one node element: (number, text without the gutter)."""
    lines = []
    for line in element.iter():
        if line.get("class") != "line":
            continue
        number, parts = None, [line.text or ""]
        for child in line:
            if child.get("class") == "ln":
                number = int(child[-1].tail if len(child) else child.text)
            elif child.get("class") not in ("ref", "marker"):
                parts.append("".join(child.itertext()))
            parts.append(child.tail or "")
        lines.append((number, "".join(parts)))
    return lines


def pdf_page_count(content: bytes) -> int:
    """Pages of a PDF, looking into WeasyPrint's compressed object streams."""
    chunks = [content]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", content, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", b"\n".join(chunks)))


def synthetic_text(items: int) -> str:
    """A plan with ``items`` numbered items, twenty per section."""
    lines = ["PLAN SINTÉTICO DE PRUEBA", ""]
    for number in range(items):
        if number % 20 == 0:
            lines += ["", f"## {number // 20 + 1}. Sección {number // 20 + 1}", ""]
        lines.append(f"{number % 20 + 1}. Punto {number + 1} del plan.")
    return "\n".join(lines) + "\n"


def synthetic_nodes(items: int) -> list[PlanNode]:
    """The same shape without the database: sections, items and one bullet each."""
    nodes, position = [], 0

    def add(**values):
        nonlocal position
        nodes.append(PlanNode(position=position, **values))
        position += 1

    for number in range(items):
        section = f"s{number // 20}"
        if number % 20 == 0:
            add(
                key=section,
                parent_key=None,
                depth=0,
                kind="section",
                number="",
                ref=str(number // 20 + 1),
                text=f"Sección {number // 20 + 1}",
            )
        item = f"i{number}"
        add(
            key=item,
            parent_key=section,
            depth=1,
            kind="item",
            number=str(number % 20 + 1),
            ref=f"{number // 20 + 1}.{number % 20 + 1}",
            text=f"Punto {number} " + "texto " * 15,
        )
        add(
            key=f"b{number}",
            parent_key=item,
            depth=2,
            kind="bullet",
            number="",
            ref=f"{number // 20 + 1}.{number % 20 + 1}.1",
            text="una viñeta;",
        )
    return nodes


def transient_plan(title="Plan sintético"):
    plan = Plan(title=title, language="es")
    version = PlanVersion(number=1, title=title, created_at=datetime(2026, 5, 3, 12, 0))
    return plan, version


# --- render() -------------------------------------------------------------------


def test_unknown_formats_are_refused(app, sample):
    plan, version, nodes = sample
    for fmt in ("txt", "PDF", "", "../html"):
        with pytest.raises(ValueError):
            render(app, fmt, plan, version, nodes)


@pytest.mark.parametrize(
    ("fmt", "mimetype"),
    [
        ("html", "text/html"),
        ("pdf", "application/pdf"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("odt", "application/vnd.oasis.opendocument.text"),
    ],
)
def test_every_format_has_its_mimetype_and_filename(app, sample, fmt, mimetype):
    plan, version, nodes = sample
    content, got_mimetype, filename = render(app, fmt, plan, version, nodes)
    assert content
    assert got_mimetype == mimetype
    assert filename == f"plan-de-accion-de-la-red-de-coaliciones-2026-v1.{fmt}"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("PLAN DE ACCIÓN 2026", "plan-de-accion-2026"),
        ("Plano de ação: Cultura & Energia", "plano-de-acao-cultura-energia"),
        ('Evil"\r\nContent-Type: x; name=a.exe', "evil-content-type-x-name-a-exe"),
        ("", "plan"),
        ("¡¿ — ?!", "plan"),
        ("日本語の計画", "plan"),
        ("palabra " * 20, ("palabra-" * 8)[:60].rstrip("-")),
    ],
)
def test_filenames_are_ascii_slugs(title, expected):
    plan, version = transient_plan(title)
    version.number = 12
    name = documents.export_filename(plan, version, "pdf")
    assert name == f"{expected}-v12.pdf"
    assert re.fullmatch(r"[a-z0-9-]{1,60}-v12\.pdf", name)
    assert not documents.slug(title).endswith("-")


# --- HTML -----------------------------------------------------------------------


def test_html_is_a_complete_document_with_every_node(app, sample):
    plan, version, nodes = sample
    content, _mimetype, _filename = render(app, "html", plan, version, nodes)
    html = content.decode("utf-8")
    root = parse_html(content)
    assert html.startswith("<!DOCTYPE html>")
    assert root.tag == "html"
    assert root.find("head/meta").get("charset") == "utf-8"
    assert root.find("head/title").text == f"{plan.title} · {labels(app, version, 'pt')['version']}"
    assert "".join(root.find(".//h1").itertext()) == plan.title

    elements = by_id(root)
    numbered = number_lines(nodes)
    assert [line.get("class") for line in root.iter("span")].count("ln") == sum(
        len(entry.lines) for entry in numbered
    )
    for entry in numbered:
        node = entry.node
        element = elements[f"ref-{node.ref}"]
        # The reference people cite comes first (sections and items only: the
        # other paragraphs' keys stay in the anchors), then the numbered lines.
        references = [child for child in element.iter() if child.get("class") == "ref"]
        if cited_ref(node):
            assert [r.text for r in references] == [node.ref]
            assert references[0].get("href") == f"#ref-{node.ref}"
        else:
            assert references == []
        assert html_lines(element) == entry.lines
        for _number, line in entry.lines:
            assert str(escape(line)) in html
    # Line numbers run through the whole version, once each.
    numbers = [number for entry in numbered for number, _text in entry.lines]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_html_headings_lists_and_footnotes_follow_the_tree(app, sample):
    plan, version, nodes = sample
    content, _mimetype, _filename = render(app, "html", plan, version, nodes)
    root = parse_html(content)
    elements = by_id(root)
    assert elements["ref-1"].tag == "h2"  # I. ENERGÍA
    assert elements["ref-2"].tag == "h2"  # II. CULTURA
    assert elements["ref-2.A"].tag == "h3"  # A. TEMAS GLOBALES
    assert elements["ref-3"].tag == "h2"  # Seguimiento
    headings = [e.tag for e in root.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert headings[0] == "h1"
    assert headings.count("h1") == 1

    parents = {child: parent for parent in root.iter() for child in parent}

    def list_ancestors(element):
        chain = []
        while element in parents:
            element = parents[element]
            if element.tag == "li":
                chain.append(element)
        return chain

    assert len(list_ancestors(elements["ref-2.A.2"])) == 1
    assert len(list_ancestors(elements["ref-2.A.2.1"])) == 2  # a bullet of item 2.A.2
    assert len(list_ancestors(elements["ref-2.A.2.2.1"])) == 3  # a sub-bullet
    # Both bullets sit in the list item of 2.A.2; the sub-bullet also in that of 2.A.2.2.
    outer = list_ancestors(elements["ref-2.A.2"])[0]
    assert list_ancestors(elements["ref-2.A.2.1"])[-1] is outer
    assert list_ancestors(elements["ref-2.A.2.2.1"])[-1] is outer
    assert (
        list_ancestors(elements["ref-2.A.2.2.1"])[1] is list_ancestors(elements["ref-2.A.2.2"])[0]
    )
    assert parents[parents[elements["ref-2.A.2.1"]]].tag == "ul"
    assert parents[parents[elements["ref-2.A.1"]]].tag == "ol"
    assert not list_ancestors(elements["ref-1.p1"])

    # Footnotes close the document, in their own labelled section.
    footnotes = root.find(".//section[@class='footnotes']")
    assert footnotes is not None
    assert "".join(footnotes.find("h2").itertext()) == labels(app, version, "pt")["footnotes"]
    assert {e.get("id") for e in footnotes.iter() if e.get("id", "").startswith("ref-")} == {
        "ref-fn1",
        "ref-fn2",
    }
    last_ids = [e.get("id") for e in root.iter() if e.get("id", "").startswith("ref-")][-2:]
    assert last_ids == ["ref-fn1", "ref-fn2"]


@pytest.mark.parametrize("locale", ["pt", "en", "es"])
def test_html_labels_follow_the_interface_language(app, sample, locale):
    plan, version, nodes = sample
    content, _mimetype, _filename = render(app, "html", plan, version, nodes, locale=locale)
    html = content.decode("utf-8")
    expected = labels(app, version, locale)
    assert f'<html lang="{locale}">' in html
    root = parse_html(content)
    header = "".join(root.find(".//header").itertext())
    assert plan.title in header
    assert expected["version"] in header
    assert expected["date"] in header
    assert expected["footnotes"] in html
    assert f"{expected['line']} " in html
    # The plan's text keeps its own language.
    assert root.find(".//article").get("lang") == "es"
    if locale == "pt":
        assert "Linha" in html  # already in the Portuguese catalog


def test_html_escapes_every_text(app, make):
    plan, version, nodes = import_text(
        make,
        'Plan <b>"uno"</b> & dos\n\n'
        "1. Texto con <script>alert(1)</script> & más.\n"
        '2. Un enlace <a href="javascript:alert(2)">aquí</a>.\n',
    )
    content, _mimetype, filename = render(app, "html", plan, version, nodes)
    html = content.decode("utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="javascript' not in html
    assert "<b>" not in html
    assert f"<h1>{escape(plan.title)}</h1>" in html
    parse_html(content)
    assert filename == "plan-b-uno-b-dos-v1.html"


# --- PDF ------------------------------------------------------------------------


def test_pdf_is_produced_by_weasyprint(app, sample):
    plan, version, nodes = sample
    content, mimetype, filename = render(app, "pdf", plan, version, nodes)
    assert content.startswith(b"%PDF")
    assert content.rstrip().endswith(b"%%EOF")
    assert mimetype == "application/pdf"
    assert filename.endswith("-v1.pdf")
    assert pdf_page_count(content) >= 1


def test_a_long_plan_makes_a_pdf_of_many_pages(app, backend, make):
    if backend != "sqlite":
        pytest.skip("the PDF does not depend on the database; rendered once, on SQLite")
    plan, version, nodes = import_text(make, synthetic_text(2000))
    assert sum(node.kind == "item" for node in nodes) == 2000
    content, _mimetype, _filename = render(app, "pdf", plan, version, nodes)
    assert content.startswith(b"%PDF")
    assert pdf_page_count(content) > 1


def printed(page) -> list[tuple[str, float, float, str]]:
    """What a laid-out PDF page prints: (class of the element, y, x, text) of
    every piece of text, top to bottom, left to right."""
    pieces = []

    def walk(box, css_class):
        element = getattr(box, "element", None)
        if element is not None and element.get("class"):
            css_class = element.get("class")
        if isinstance(box, TextBox):
            pieces.append((css_class, round(box.position_y), round(box.position_x), box.text))
        for child in getattr(box, "children", ()):
            walk(child, css_class)

    walk(page._page_box, "")
    return sorted(pieces, key=lambda piece: (piece[1], piece[2]))


def rows(page) -> list[str]:
    """The page's text, one string per printed row."""
    by_y: dict[float, list[str]] = {}
    for _class, y, _x, text in printed(page):
        by_y.setdefault(y, []).append(text)
    return [" ".join(texts) for _y, texts in sorted(by_y.items())]


def test_every_page_of_the_pdf_has_one_header_and_page_one_too(app, backend, make):
    if backend != "sqlite":
        pytest.skip("the PDF does not depend on the database; rendered once, on SQLite")
    plan, version, nodes = import_text(make, SAMPLE_113.read_text(encoding="utf-8"))
    assert sum(node.kind == "item" for node in nodes) == 113
    with app.test_request_context(), force_locale("en"):
        document = documents.pdf_layout(plan, version, nodes)
        date = format_date(version.created_at, "long")
    pages = len(document.pages)
    assert pages > 1
    for number, page in enumerate(document.pages, 1):
        page_rows = rows(page)
        # The header, once, first; the title again only as page 1's heading.
        assert page_rows[0] == f"{version.title or plan.title} · Version 1"
        assert sum("Version 1" in row for row in page_rows) == 1
        assert page_rows[-1] == f"{date} Page {number} of {pages}"
        assert sum(date in row for row in page_rows) == 1


def test_the_pdf_prints_every_line_number_beside_its_line(app, backend, make):
    if backend != "sqlite":
        pytest.skip("the PDF does not depend on the database; rendered once, on SQLite")
    plan, version, nodes = import_text(make, SAMPLE_113.read_text(encoding="utf-8"))
    with app.test_request_context(), force_locale("es"):
        document = documents.pdf_layout(plan, version, nodes)
    expected = [line for entry in number_lines(nodes) for line in entry.lines]
    found = []
    for page in document.pages:
        pieces = printed(page)
        texts = [piece for piece in pieces if piece[0] not in ("ln", "ref", "marker")]
        for css_class, y, x, text in pieces:
            if css_class != "ln":
                continue
            # The number is in the left margin, on the same row as the start of its line.
            beside = [t for t in texts if abs(t[1] - y) <= 3 and t[2] > x]
            assert beside, f"line {text} has nothing beside it"
            found.append((int(text), beside[0][3]))
    assert [number for number, _text in found] == [number for number, _text in expected]
    for (number, start), (_same, line) in zip(found, expected, strict=True):
        assert line.startswith(start), (number, start, line)


# --- DOCX -----------------------------------------------------------------------


def numbered_blocks(paragraphs):
    """A word processor's paragraphs as the plan's blocks: each numbered line is
    a paragraph ("N<tab>words"; a heading's lines joined by line breaks) and
    a block's lines but its last have no space after. Yields (style, text
    without the line numbers, first paragraph)."""
    blocks, current = [], None
    for paragraph in paragraphs:
        lines = [line.partition("\t") for line in paragraph.text.split("\n")]
        numbered = all(tab and number.isdigit() for number, tab, _rest in lines)
        text = " ".join(rest for _number, _tab, rest in lines) if numbered else paragraph.text
        if current is not None:
            current[1] += " " + text
        else:
            current = [paragraph.style.name, text, paragraph]
        if not numbered or paragraph.paragraph_format.space_after != docx.shared.Pt(0):
            blocks.append(tuple(current))
            current = None
    return blocks


def test_docx_has_headings_paragraphs_lists_and_footnotes(app, sample):
    plan, version, nodes = sample
    content, _mimetype, _filename = render(app, "docx", plan, version, nodes)
    expected = labels(app, version, "pt")
    document = docx.Document(io.BytesIO(content))
    blocks = numbered_blocks(document.paragraphs)
    paragraphs = [(style, text) for style, text, _p in blocks]
    by_text = {text: (style, first) for style, text, first in blocks}

    assert paragraphs[0] == ("Title", plan.title)
    assert expected["version"] in paragraphs[1][1]
    assert document.core_properties.title == plan.title
    section = document.sections[0]
    assert plan.title in section.header.paragraphs[0].text
    assert expected["version"] in section.header.paragraphs[0].text
    assert expected["date"] in "\n".join(p.text for p in section.footer.paragraphs)

    def printed(node) -> str:
        marker = "• " if node.kind == "bullet" else ""
        return f"{cited_ref(node)} {marker}{display_text(node)}".strip()

    for node in nodes:
        assert printed(node) in by_text, printed(node)
        paragraph = by_text[printed(node)][1]
        number = paragraph.runs[0]  # the line number, in the margin
        assert number.text.rstrip("\t").isdigit() and not number.bold
        if cited_ref(node):
            assert paragraph.runs[1].text.strip() == node.ref
            assert paragraph.runs[1].bold
        else:
            assert not paragraph.runs[1].bold  # no key printed in its place

    def style_of(ref):
        return by_text[printed(next(n for n in nodes if n.ref == ref))][0]

    assert style_of("1") == "Heading 1"
    assert style_of("2.A") == "Heading 2"
    assert style_of("2.A.2.1") == "List Bullet 2"
    assert style_of("2.A.2.2.1") == "List Bullet 3"
    assert style_of("1.3") == "Normal"  # an item: its label after the reference
    assert (
        by_text[f"1.3 {display_text(nodes[6])}"][1]
        .text.partition("\t")[2]
        .startswith(
            "1.3 Elaborar"  # the item's label once, in its reference
        )
    )

    # Footnotes last, under their heading.
    heading = paragraphs.index(("Heading 1", expected["footnotes"]))
    footnotes = [n for n in nodes if n.kind == "footnote"]
    assert [text for _style, text in paragraphs[heading + 1 :]] == [
        display_text(n) for n in footnotes
    ]
    assert not any(re.match(r"(fn\d|[\d.]*[pb]\d+ )", text) for _style, text in paragraphs)


# --- ODT ------------------------------------------------------------------------


def unnumbered(text: str) -> str:
    """A paragraph's words without its line numbers ("N<tab>" at each line)."""
    lines = [line.partition("\t") for line in text.split("\n")]
    if all(tab and number.isdigit() for number, tab, _rest in lines):
        return " ".join(rest for _number, _tab, rest in lines)
    return text


def test_odt_has_headings_paragraphs_and_footnotes(app, sample):
    plan, version, nodes = sample
    content, _mimetype, _filename = render(app, "odt", plan, version, nodes)
    expected = labels(app, version, "pt")
    document = load_odf(io.BytesIO(content))
    headings = {
        unnumbered(teletype.extractText(h)): int(h.getAttribute("outlinelevel"))
        for h in document.getElementsByType(odf_text.H)
    }
    paragraphs = [teletype.extractText(p) for p in document.getElementsByType(odf_text.P)]
    # A block's lines are paragraphs of its own; the words, joined, are the node's.
    joined = " ".join(unnumbered(text) for text in paragraphs)
    texts = set(headings)

    assert plan.title in paragraphs
    assert any(expected["version"] in text and expected["date"] in text for text in paragraphs)
    for node in nodes:
        marker = "• " if node.kind == "bullet" else ""
        text = f"{cited_ref(node)} {marker}{display_text(node)}".strip()
        assert text in texts or text in joined, text
    assert headings["1 I. ENERGÍA"] == 1
    assert headings["2.A TEMAS GLOBALES"] == 2
    assert headings[expected["footnotes"]] == 1
    references = [
        teletype.extractText(span)
        for span in document.getElementsByType(odf_text.Span)
        if span.getAttribute("stylename") == "Reference"
    ]
    assert [r.strip() for r in references] == [cited_ref(n) for n in nodes if cited_ref(n)]
    assert document.getElementsByType(odf_text.PageNumber)


# --- size -----------------------------------------------------------------------


def test_two_thousand_items_render_in_every_editable_format(app, make):
    plan, version, nodes = import_text(make, synthetic_text(2000))
    html, _mimetype, _filename = render(app, "html", plan, version, nodes)
    root = parse_html(html)
    assert len(by_id(root)) == len(nodes)
    document = docx.Document(io.BytesIO(render(app, "docx", plan, version, nodes)[0]))
    numbered = [p for p in document.paragraphs if p.text.partition("\t")[0].isdigit()]
    lines = sum(len(block.lines) for block in Export.build(plan, version, nodes).body)
    assert len(numbered) == lines  # a paragraph per numbered line (2,000 items: no heading wraps)
    odt = load_odf(io.BytesIO(render(app, "odt", plan, version, nodes)[0]))
    assert len(odt.getElementsByType(odf_text.H)) == sum(n.kind == "section" for n in nodes)
