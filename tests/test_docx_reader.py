"""Word (.docx) uploads read into the importer's text format: real documents
built with python-docx (and by hand where python-docx has no API), then the
hostile ones: zip bombs, macros, renamed files, external entities."""

import io
import random
import re
import struct
import time
import zipfile
from collections import Counter

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from flask_babel import force_locale

from consult.errors import InvalidInput
from consult.plans import import_lines, importer
from consult.plans.docx_reader import read_docx
from consult.plans.parsed import ParsedPlan

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NOT_DOCX = "This file is not a Word document (.docx)."
TOO_LARGE = "This Word document is too large or damaged to be read."
MACROS = "Documents with macros (.docm) are not accepted. Save it as a .docx without macros."
UNREADABLE = (
    "This Word document could not be read. It may be damaged: open it in your "
    "word processor and save it again as .docx."
)
OLD_FORMAT = (
    "This is an old Word document (.doc) or a password-protected one. Save it as a "
    ".docx without a password and try again."
)
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


@pytest.fixture
def ctx(app):
    with app.app_context(), force_locale("en"):
        yield


# --- helpers ----------------------------------------------------------------------


def saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rewrite(data: bytes, replace: dict | None = None, drop: tuple = ()) -> bytes:
    """The package with some parts replaced or added (``replace``) and some dropped."""
    replace = dict(replace or {})
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            if entry.filename in drop:
                continue
            content = replace.pop(entry.filename, None)
            target.writestr(entry.filename, content or source.read(entry.filename))
        for name, content in replace.items():
            target.writestr(name, content)
    return out.getvalue()


def part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name).decode("utf-8")


def minimal_docx(body_xml: str, prolog: str = "") -> bytes:
    """A package written by hand: content types, one relationship, the document."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body_xml}</w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def set_numbering(paragraph, num_id: int, ilvl: int = 0) -> None:
    """Number a paragraph (or give a style's pPr a numbering)."""
    ppr = paragraph._p.get_or_add_pPr() if hasattr(paragraph, "_p") else paragraph
    numpr = OxmlElement("w:numPr")
    level = OxmlElement("w:ilvl")
    level.set(qn("w:val"), str(ilvl))
    number = OxmlElement("w:numId")
    number.set(qn("w:val"), str(num_id))
    numpr.append(level)
    numpr.append(number)
    ppr.append(numpr)


def add_footnote_reference(paragraph, note_id: int) -> None:
    run = OxmlElement("w:r")
    reference = OxmlElement("w:footnoteReference")
    reference.set(qn("w:id"), str(note_id))
    run.append(reference)
    paragraph._p.append(run)


def with_footnotes(data: bytes, notes: dict[int, list[str]]) -> bytes:
    """Add word/footnotes.xml (with Word's separator notes), its relationship and
    its content type to a python-docx package."""
    paragraphs = "".join(
        f'<w:footnote w:id="{note_id}"><w:p><w:r><w:footnoteRef/></w:r>'
        + "".join(f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r>' for text in texts[:1])
        + "</w:p>"
        + "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in texts[1:])
        + "</w:footnote>"
        for note_id, texts in notes.items()
    )
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W_NS}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
        "</w:footnote>"
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r>'
        "<w:continuationSeparator/></w:r></w:p></w:footnote>"
        f"{paragraphs}</w:footnotes>"
    )
    rels = part(data, "word/_rels/document.xml.rels").replace(
        "</Relationships>",
        '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/footnotes" Target="footnotes.xml"/></Relationships>',
    )
    types = part(data, "[Content_Types].xml").replace(
        "</Types>",
        '<Override PartName="/word/footnotes.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.footnotes+xml"/></Types>',
    )
    return rewrite(
        data,
        {
            "word/footnotes.xml": footnotes,
            "word/_rels/document.xml.rels": rels,
            "[Content_Types].xml": types,
        },
    )


def patch_central_directory(
    data: bytes, name: str, file_size: int, compress_size: int | None = None
) -> bytes:
    """The archive with other sizes declared for ``name`` in its central directory."""
    patched = bytearray(data)
    start = patched.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", patched, start + 28)[0]
        if bytes(patched[start + 46 : start + 46 + name_length]) == name.encode():
            break
        start = patched.index(b"PK\x01\x02", start + 4)
    if compress_size is not None:
        struct.pack_into("<I", patched, start + 20, compress_size)
    struct.pack_into("<I", patched, start + 24, file_size)
    return bytes(patched)


def words_of(*texts: str) -> Counter:
    text = " ".join(texts)
    return Counter(import_lines.words(re.sub(f"[{SUPERSCRIPTS}]", " ", text)))


def plan_words(plan: ParsedPlan) -> Counter:
    return words_of(plan.title or "", *(node.text for node, _p, _d in plan.walk()))


def rejected(data: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        read_docx(data)
    return str(caught.value.message)


# --- documents --------------------------------------------------------------------

PLAN_SOURCE = [
    "Plan de acción de la red 2026",
    "Las coaliciones acuerdan el siguiente plan.",
    "Energía",
    "Promover la cooperación regional.",
    "Intercambiar experiencias",
    "sobre políticas",
    "públicas.",
    "campañas de comunicación;",
    "en particular con las comisiones de cultura.",
    "Temas globales",
    "Crear un observatorio regional.",
    "País",
    "Sede",
    "Uruguay",
    "Montevideo",
    "Montevideo, 3 de mayo de 2026",
]


def plan_document():
    document = docx.Document()
    document.add_paragraph("Plan de acción de la red 2026", style="Title")
    document.add_paragraph("Las coaliciones acuerdan el siguiente plan.")
    document.add_heading("Energía", 1)
    document.add_paragraph("Promover la cooperación regional.", style="List Number")
    paragraph = document.add_paragraph("", style="List Number")
    paragraph.add_run("Intercambiar experiencias").bold = True
    paragraph.add_run().add_break()
    paragraph.add_run("sobre políticas\tpúblicas.").italic = True
    document.add_paragraph("campañas de comunicación;", style="List Bullet")
    document.add_paragraph("en particular con las comisiones de cultura.", style="List Bullet 2")
    document.add_heading("Temas globales", 2)
    document.add_paragraph("Crear un observatorio regional.", style="List Number")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, (("País", "Sede"), ("Uruguay", "Montevideo")), strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("")  # empty paragraphs are skipped
    document.add_paragraph("Montevideo, 3 de mayo de 2026")
    return document


def test_title_headings_lists_table_and_closing(ctx):
    text = read_docx(saved(plan_document()))
    assert text == (
        "# Plan de acción de la red 2026\n\n"
        "Las coaliciones acuerdan el siguiente plan.\n\n"
        "## Energía\n\n"
        "1. Promover la cooperación regional.\n\n"
        "2. Intercambiar experiencias sobre políticas públicas.\n\n"
        "- campañas de comunicación;\n\n"
        "  - en particular con las comisiones de cultura.\n\n"
        "### Temas globales\n\n"
        # Word continues a "List Number" list across headings; so does the reader.
        "3. Crear un observatorio regional.\n\n"
        "País | Sede\n\n"
        "Uruguay | Montevideo\n\n"
        "Montevideo, 3 de mayo de 2026\n"
    )
    plan = importer.parse(text)
    assert plan.title == "Plan de acción de la red 2026"
    assert plan.warnings == []
    assert (plan.sections, plan.items, plan.footnotes) == (2, 3, 0)
    shape = [(node.kind, node.ref, depth) for node, _parent, depth in plan.walk()]
    assert shape == [
        ("paragraph", "p1", 0),
        ("section", "1", 0),
        ("item", "1.1", 1),
        ("item", "1.2", 1),
        ("bullet", "1.2.1", 2),
        ("bullet", "1.2.1.1", 3),
        ("section", "1.A", 1),
        ("item", "1.A.3", 2),
        ("paragraph", "1.A.p1", 2),
        ("paragraph", "1.A.p2", 2),
        ("closing", "end", 0),
    ]
    assert words_of(text) == words_of(*PLAN_SOURCE, "1 2 3")  # plus the list numbers
    assert plan_words(plan) == words_of(*PLAN_SOURCE)


def test_without_a_title_heading_1_is_the_top_level(ctx):
    document = docx.Document()
    document.add_heading("Plan regional", 1)
    document.add_paragraph("Preámbulo del plan.")
    document.add_heading("Cultura", 2)
    document.add_paragraph("Defender la Convención.", style="List Number")
    document.add_heading("Seguimiento", 2)
    document.add_heading("Informes", 3)
    text = read_docx(saved(document))
    assert text == (
        "# Plan regional\n\nPreámbulo del plan.\n\n## Cultura\n\n"
        "1. Defender la Convención.\n\n## Seguimiento\n\n### Informes\n"
    )
    plan = importer.parse(text)
    assert plan.title == "Plan regional"
    assert [n.text for n, _p, _d in plan.walk() if n.kind == "section"] == [
        "Cultura",
        "Seguimiento",
        "Informes",
    ]
    assert plan.sections == 3 and plan.items == 1


def test_localised_heading_names_and_outline_levels(ctx):
    document = docx.Document()
    styles = document.styles
    styles.add_style("Título 1", WD_STYLE_TYPE.PARAGRAPH)
    styles.add_style("Encabezado 2", WD_STYLE_TYPE.PARAGRAPH)
    chapter = styles.add_style("Capítulo", WD_STYLE_TYPE.PARAGRAPH)
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "0")
    chapter.element.get_or_add_pPr().append(outline)
    based = styles.add_style("Mi subtítulo", WD_STYLE_TYPE.PARAGRAPH)
    based.base_style = styles["Encabezado 2"]
    body = styles.add_style("Cuerpo", WD_STYLE_TYPE.PARAGRAPH)
    body_outline = OxmlElement("w:outlineLvl")
    body_outline.set(qn("w:val"), "9")  # "body text": not a heading
    body.element.get_or_add_pPr().append(body_outline)

    document.add_paragraph("Plan 2026", style="Title")
    document.add_paragraph("Energía", style="Título 1")
    document.add_paragraph("Temas globales", style="Encabezado 2")
    document.add_paragraph("Cultura", style="Capítulo")
    document.add_paragraph("Temas regionales", style="Mi subtítulo")
    document.add_paragraph("Texto normal.", style="Cuerpo")
    direct = document.add_paragraph("Seguimiento")
    direct_outline = OxmlElement("w:outlineLvl")
    direct_outline.set(qn("w:val"), "0")
    direct._p.get_or_add_pPr().append(direct_outline)

    text = read_docx(saved(document))
    assert text == (
        "# Plan 2026\n\n## Energía\n\n### Temas globales\n\n## Cultura\n\n"
        "### Temas regionales\n\nTexto normal.\n\n## Seguimiento\n"
    )
    plan = importer.parse(text)
    assert plan.title == "Plan 2026"
    assert [(n.text, n.ref) for n, _p, _d in plan.walk() if n.kind == "section"] == [
        ("Energía", "1"),
        ("Temas globales", "1.A"),
        ("Cultura", "2"),
        ("Temas regionales", "2.A"),
        ("Seguimiento", "3"),
    ]


NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="{W_NS}">
  <w:abstractNum w:abstractNumId="10">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
      <w:lvlText w:val="%1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>
      <w:lvlText w:val="%2)"/></w:lvl>
    <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="bullet"/>
      <w:lvlText w:val="o"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="11">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/>
      <w:lvlText w:val="%1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/>
      <w:lvlText w:val="%2."/></w:lvl>
    <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/>
      <w:lvlText w:val="%3)"/></w:lvl>
  </w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="11"/></w:num>
  <w:num w:numId="3"><w:abstractNumId w:val="10"/>
    <w:lvlOverride w:ilvl="0"><w:startOverride w:val="7"/></w:lvlOverride></w:num>
</w:numbering>"""


def test_automatic_numbering_formats_levels_restarts_and_start(ctx):
    document = docx.Document()
    document.add_paragraph("Plan 2026", style="Title")
    for text, num_id, ilvl in [
        ("ENERGÍA", 2, 0),
        ("Promover la cooperación.", 1, 0),
        ("mediante campañas;", 1, 1),
        ("con parlamentarios;", 1, 1),
        ("en particular de cultura.", 1, 2),
        ("Intercambiar experiencias.", 1, 0),
        ("mediante encuentros.", 1, 1),  # restarts at a) under the new item
        ("CULTURA", 2, 0),
        ("TEMAS GLOBALES", 2, 1),
        ("segundo nivel romano", 2, 2),
        ("Fortalecer el Foro.", 3, 0),  # its own list, starting at 7
        ("Realizar un encuentro.", 3, 0),
        ("4. Número escrito a mano.", 1, 0),  # typed number: left as it is
    ]:
        set_numbering(document.add_paragraph(text), num_id, ilvl)
    data = rewrite(saved(document), {"word/numbering.xml": NUMBERING})
    text = read_docx(data)
    assert text == (
        "# Plan 2026\n\n"
        "I. ENERGÍA\n\n"
        "1. Promover la cooperación.\n\n"
        "  a) mediante campañas;\n\n"
        "  b) con parlamentarios;\n\n"
        "    - en particular de cultura.\n\n"
        "2. Intercambiar experiencias.\n\n"
        "  a) mediante encuentros.\n\n"
        "II. CULTURA\n\n"
        "  A. TEMAS GLOBALES\n\n"
        "    i) segundo nivel romano\n\n"
        "7. Fortalecer el Foro.\n\n"
        "8. Realizar un encuentro.\n\n"
        "4. Número escrito a mano.\n"
    )
    plan = importer.parse(text)
    sections = [(n.text, n.number, n.ref) for n, _p, _d in plan.walk() if n.kind == "section"]
    assert sections == [
        ("ENERGÍA", "I", "1"),
        ("CULTURA", "II", "2"),
        ("TEMAS GLOBALES", "A", "2.A"),
    ]
    energy = plan.nodes[0]
    assert [(n.kind, n.number) for n in energy.children] == [("item", "1"), ("item", "2")]
    # The importer hangs a bullet under the numbered item, not under its lettered one.
    assert [(n.kind, n.number, n.text) for n in energy.children[0].children] == [
        ("item", "a", "mediante campañas;"),
        ("item", "b", "con parlamentarios;"),
        ("bullet", "", "en particular de cultura."),
    ]
    source = [
        "Plan 2026 ENERGÍA Promover la cooperación. mediante campañas; con parlamentarios;",
        "en particular de cultura. Intercambiar experiencias. mediante encuentros. CULTURA",
        "TEMAS GLOBALES segundo nivel romano Fortalecer el Foro. Realizar un encuentro.",
        "4. Número escrito a mano.",
    ]
    labels = "I 1 a b 2 a II A i 7 8"
    assert words_of(text) == words_of(*source) + words_of(labels)


def test_numbered_headings_keep_their_number(ctx):
    document = docx.Document()
    document.add_paragraph("Plan 2026", style="Title")
    for text in ("Energía", "Cultura"):
        set_numbering(document.add_heading(text, 1), 1)
    text = read_docx(rewrite(saved(document), {"word/numbering.xml": NUMBERING}))
    assert text == "# Plan 2026\n\n## 1. Energía\n\n## 2. Cultura\n"
    plan = importer.parse(text)
    assert [(n.number, n.text, n.ref) for n in plan.nodes] == [
        ("1", "Energía", "1"),
        ("2", "Cultura", "2"),
    ]


def test_numbering_through_a_list_style(ctx):
    """Lists defined by a list style: the abstract numbering only links to a
    numbering style, whose own num carries the levels."""
    numbering = f"""<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{W_NS}">
      <w:abstractNum w:abstractNumId="20"><w:styleLink w:val="MiLista"/>
        <w:lvl w:ilvl="0"><w:start w:val="3"/><w:numFmt w:val="lowerLetter"/>
          <w:lvlText w:val="%1)"/></w:lvl></w:abstractNum>
      <w:abstractNum w:abstractNumId="21"><w:numStyleLink w:val="MiLista"/></w:abstractNum>
      <w:num w:numId="5"><w:abstractNumId w:val="20"/></w:num>
      <w:num w:numId="4"><w:abstractNumId w:val="21"/></w:num>
    </w:numbering>"""
    document = docx.Document()
    style = document.styles.add_style("Mi lista", WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:type"), "numbering")
    style.element.set(qn("w:styleId"), "MiLista")
    set_numbering(style.element.get_or_add_pPr(), 5)
    set_numbering(document.add_paragraph("primero"), 4)
    set_numbering(document.add_paragraph("segundo"), 4)
    text = read_docx(rewrite(saved(document), {"word/numbering.xml": numbering}))
    assert text == "c) primero\n\nd) segundo\n"


def test_footnotes_become_markers_and_lines_at_the_end(ctx):
    document = docx.Document()
    document.add_paragraph("Plan de acción 2026", style="Title")
    preamble = document.add_paragraph("Las coaliciones acuerdan el siguiente plan de acción")
    add_footnote_reference(preamble, 1)
    preamble.add_run(" para el período 2026-2027.")
    document.add_heading("Cultura", 1)
    item = document.add_paragraph("Crear un observatorio regional.", style="List Number")
    add_footnote_reference(item, 2)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Sede"
    add_footnote_reference(table.cell(0, 1).paragraphs[0], 3)
    data = with_footnotes(
        saved(document),
        {
            1: ["El plan fue aprobado por consenso."],
            2: ["Con sede rotativa", "entre los países miembros."],
            3: ["Por definir."],
        },
    )
    text = read_docx(data)
    assert text == (
        "# Plan de acción 2026\n\n"
        "Las coaliciones acuerdan el siguiente plan de acción¹ para el período 2026-2027.\n\n"
        "## Cultura\n\n"
        "1. Crear un observatorio regional.²\n\n"
        "Sede | ³\n\n"
        "¹ El plan fue aprobado por consenso.\n"
        "² Con sede rotativa entre los países miembros.\n"
        "³ Por definir.\n"
    )
    plan = importer.parse(text)
    assert (plan.sections, plan.items, plan.footnotes) == (1, 1, 3)
    footnotes = [(n.ref, n.text) for n in plan.nodes if n.kind == "footnote"]
    assert footnotes == [
        ("fn1", "El plan fue aprobado por consenso."),
        ("fn2", "Con sede rotativa entre los países miembros."),
        ("fn3", "Por definir."),
    ]
    assert plan_words(plan) == words_of(
        "Plan de acción 2026",
        "Las coaliciones acuerdan el siguiente plan de acción para el período 2026-2027.",
        "Cultura Crear un observatorio regional. Sede",
        "El plan fue aprobado por consenso. Con sede rotativa entre los países miembros.",
        "Por definir.",
    )


def test_footnote_markers_follow_the_footnote_id_order(ctx):
    document = docx.Document()
    paragraph = document.add_paragraph("Primero")
    add_footnote_reference(paragraph, 4)
    paragraph.add_run(" y segundo")
    add_footnote_reference(paragraph, 9)
    data = with_footnotes(saved(document), {9: ["Nota nueve."], 4: ["Nota cuatro."]})
    assert read_docx(data) == "Primero¹ y segundo²\n\n¹ Nota cuatro.\n² Nota nueve.\n"


def test_text_boxes_tracked_changes_and_content_controls(ctx):
    body = (
        "<w:p><w:r><w:t>Plan 2026</w:t></w:r></w:p>"
        '<w:sdt><w:sdtContent><w:p><w:r><w:t xml:space="preserve">Texto </w:t></w:r>'
        "<w:ins><w:r><w:t>insertado</w:t></w:r></w:ins>"
        "<w:del><w:r><w:delText>borrado</w:delText></w:r></w:del>"
        '<w:hyperlink><w:r><w:t xml:space="preserve"> con enlace</w:t></w:r></w:hyperlink>'
        "</w:p></w:sdtContent></w:sdt>"
        "<w:p><w:r><w:pict><v:shape xmlns:v='urn:schemas-microsoft-com:vml'><v:textbox>"
        "<w:txbxContent><w:p><w:r><w:t>Dentro del cuadro.</w:t></w:r></w:p></w:txbxContent>"
        "</v:textbox></v:shape></w:pict></w:r><w:r><w:t>Fuera del cuadro.</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>a</w:t></w:r><w:r><w:cr/><w:t>b</w:t><w:noBreakHyphen/>"
        "<w:t>c</w:t></w:r></w:p>"
        "<w:p><w:r><w:t xml:space='preserve'>Meta: </w:t></w:r><m:oMath "
        "xmlns:m='http://schemas.openxmlformats.org/officeDocument/2006/math'><m:r>"
        "<m:t>x=2</m:t></m:r></m:oMath></w:p>"
        "<w:sectPr/>"
    )
    text = read_docx(minimal_docx(body))
    assert text == (
        "Plan 2026\n\nTexto insertado con enlace\n\nFuera del cuadro.\n\n"
        "Dentro del cuadro.\n\na b-c\n\nMeta: x=2\n"
    )


def test_empty_document_gives_empty_text(ctx):
    assert read_docx(saved(docx.Document())) == ""


# --- hostile and wrong files ------------------------------------------------------


def test_zip_bomb_is_rejected_before_decompression(ctx):
    started = time.monotonic()
    out = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", minimal_part())
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as stream:
            for _ in range(200):
                stream.write(chunk)
    data = out.getvalue()
    assert len(data) < 1024 * 1024  # 200 MB of zeros compress to a few hundred kB
    assert rejected(data) == TOO_LARGE
    assert time.monotonic() - started < 10


def test_highly_compressed_entry_is_rejected(ctx):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", minimal_part() + b" " * (20 * 1024 * 1024))
    assert rejected(out.getvalue()) == TOO_LARGE


def test_total_declared_size_is_limited(ctx):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", minimal_part())
        for index in range(3):
            archive.writestr(f"word/media/image{index}.png", b"tiny")
    # Three stored entries that declare 40 MB each: 120 MB in all, none above the
    # per-entry limit, no suspicious ratio; nothing is decompressed to find out.
    data = out.getvalue()
    for index in range(3):
        data = patch_central_directory(data, f"word/media/image{index}.png", 40 << 20, 40 << 20)
    assert rejected(data) == TOO_LARGE


def test_too_many_entries_are_rejected(ctx):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", minimal_part())
        for index in range(3_000):
            archive.writestr(f"word/media/{index}.txt", b"x")
    assert rejected(out.getvalue()) == TOO_LARGE


def test_an_entry_larger_than_declared_is_not_read_past_its_size(ctx):
    data = minimal_docx("<w:p><w:r><w:t>" + "palabra " * 2000 + "</w:t></w:r></w:p>")
    data = patch_central_directory(data, "word/document.xml", file_size=100)
    assert rejected(data) == UNREADABLE


def test_macro_enabled_documents_are_rejected(ctx):
    data = saved(plan_document())
    types = part(data, "[Content_Types].xml").replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    assert rejected(rewrite(data, {"[Content_Types].xml": types})) == MACROS

    types = part(data, "[Content_Types].xml").replace(
        "</Types>",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    assert rejected(rewrite(data, {"[Content_Types].xml": types})) == MACROS
    assert rejected(rewrite(data, {"word/vbaProject.bin": b"\x00" * 64})) == MACROS


def test_files_that_are_not_word_documents(ctx):
    assert rejected(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n") == NOT_DOCX
    assert rejected(random.Random(7).randbytes(4096)) == NOT_DOCX
    assert rejected(b"") == NOT_DOCX
    assert rejected(b"PK\x03\x04 truncated") == NOT_DOCX
    assert rejected(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)) == OLD_FORMAT
    without_document = rewrite(saved(plan_document()), drop=("word/document.xml",))
    assert rejected(without_document) == NOT_DOCX
    spreadsheet = io.BytesIO()
    with zipfile.ZipFile(spreadsheet, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert rejected(spreadsheet.getvalue()) == NOT_DOCX
    other_root = rewrite(saved(plan_document()), {"word/document.xml": "<html><body/></html>"})
    assert rejected(other_root) == NOT_DOCX


def test_damaged_xml_is_bad_input(ctx):
    data = saved(plan_document())
    assert rejected(rewrite(data, {"word/document.xml": "<w:document><w:body>"})) == UNREADABLE
    assert rejected(rewrite(data, {"word/styles.xml": "not xml at all"})) == UNREADABLE
    deep = "<a>" * 5_000 + "</a>" * 5_000
    assert rejected(rewrite(data, {"word/numbering.xml": deep})) == UNREADABLE


def test_external_entities_are_never_expanded(ctx):
    prolog = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    data = minimal_docx("<w:p><w:r><w:t>Antes &e; después</w:t></w:r></w:p>", prolog)
    try:
        text = read_docx(data)
    except InvalidInput as error:
        assert str(error.message) == UNREADABLE
    else:
        assert "root:" not in text


def test_entity_expansion_bomb_is_not_expanded(ctx):
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    data = minimal_docx("<w:p><w:r><w:t>&i;</w:t></w:r></w:p>", f"<!DOCTYPE x [{entities}]>")
    try:
        text = read_docx(data)
    except InvalidInput:
        return
    assert "aaaaaaaaaa" not in text


def minimal_part() -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'
        "<w:p><w:r><w:t>Plan</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
