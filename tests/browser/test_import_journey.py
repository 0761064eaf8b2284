"""A facilitator imports plans from files in the browser (issue 14): choose a
file, preview, repair a paragraph cut off by a page break with one click, and
save; on a laptop and on a phone, in Portuguese."""

import re
from io import BytesIO

import docx

from consult.extensions import db
from consult.forums import services as forums

from . import world as w

CUT_ITEM = """PLANO DE AÇÃO

SEÇÃO UM

1. Realizar reuniões periódicas da rede.
2. Promover a participação dos

Estados membros da CELAC nos contatos regionais.

3. Fortalecer as redes.
"""
SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def docx_file() -> bytes:
    document = docx.Document()
    document.add_paragraph("PLANO DE TRABALHO")
    document.add_paragraph("1. Primeiro ponto do plano.")
    document.add_paragraph("2. Segundo ponto do plano.")
    data = BytesIO()
    document.save(data)
    return data.getvalue()


def test_a_facilitator_imports_a_text_file_and_a_docx_repairing_a_cut_item(journey, tmp_path):
    journey.name = "import-pt"
    with journey.app_context():
        slug = f"importar-{next(w._numbers)}"
        forum = forums.create_forum(None, slug, "Rede de importação", default_locale="pt")
        facilitator = w.person(forum, "facilitator", name="Facilitadora Lia", locale="pt")
        db.session.commit()
        email = facilitator.email
    text_file = tmp_path / "plano.txt"
    text_file.write_text(CUT_ITEM)
    word_file = tmp_path / "plano.docx"
    word_file.write_bytes(docx_file())

    person = journey.person("pt", "facilitator")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width, source in ((1280, text_file), (390, word_file)):
        page.set_viewport_size({"width": width, "height": 900})
        person.go(f"/forums/{slug}/plans/import", f"import-{width}")
        page.set_input_files("input[name='file']", str(source))
        person.click("button[name='action'][value='preview']", f"preview-{width}")
        assert not page.evaluate(SIDEWAYS_JS), f"sideways at {width} px"
        # The text box now holds the file's text: saving sends it.
        assert "ponto" in page.locator("textarea[name='text']").input_value() or (
            "Estados membros" in page.locator("textarea[name='text']").input_value()
        )
        if source is text_file:
            warning = page.locator(".warnings li", has_text="2 e 3")
            warning.locator("a").click()  # points at the visible source line
            assert page.locator("#source-8").inner_text().startswith("Estados membros")
            person.click(".warnings li:has-text('2 e 3') button[name='fix']", f"repaired-{width}")
            assert page.locator(".warnings li", has_text="2 e 3").count() == 0
            assert "dos\nEstados" in page.locator("textarea[name='text']").input_value()
        person.click("button[name='action'][value='save']", f"saved-{width}")
        assert re.search(r"/plans/\d+/", page.url), page.url  # the new plan's page
        body = page.locator("main").inner_text()
        if source is text_file:
            assert "Promover a participação dos Estados membros da CELAC" in body
        else:
            assert "Segundo ponto do plano." in body


RUN_TOGETHER = """PLAN DE ACCIÓN

SECCIÓN UNO

1. Celebrar reuniones periódicas. 2. Promover la participación de los Estados.

Otros temas
Fortalecer las redes regionales.
"""


def test_a_facilitator_splits_two_items_run_together_and_saves(journey):
    """On a phone, in Spanish: the two items that a PDF ran into one line are
    split with two clicks, the title typed before stays, and the plan is saved
    with both items."""
    journey.name = "import-split-es"
    with journey.app_context():
        slug = f"dividir-{next(w._numbers)}"
        forum = forums.create_forum(None, slug, "Red de importación", default_locale="es")
        facilitator = w.person(forum, "facilitator", name="Facilitadora Ana", locale="es")
        db.session.commit()
        email = facilitator.email
    person = journey.person("es", "facilitator")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    person.go(f"/forums/{slug}/plans/import", "import")
    page.fill("input[name='title']", "Plan de la red")
    page.fill("textarea[name='text']", RUN_TOGETHER)
    person.click("button[name='action'][value='preview']", "preview")
    item = page.locator(".tree-node.kind-item", has_text="Celebrar reuniones")
    assert "2. Promover" in item.inner_text()  # one item holds both
    item.locator("details.split-points summary").click()
    place = item.locator("details.split-points button[name='fix']", has_text="2. Promover")
    assert place.is_visible()
    person.check("split-places")
    assert not page.evaluate(SIDEWAYS_JS), "sideways at 390 px"
    with page.expect_navigation():
        place.click()
    person.check("split")
    items = page.locator(".tree-node.kind-item .text").all_inner_texts()
    assert items == ["Celebrar reuniones periódicas.", "Promover la participación de los Estados."]
    assert page.locator("input[name='title']").input_value() == "Plan de la red"
    assert "periódicas.\n\n2. Promover" in page.locator("textarea[name='text']").input_value()
    # The glued heading: split off its line, then read it as a heading.
    paragraph = page.locator(".tree-node.kind-paragraph", has_text="Otros temas")
    paragraph.locator("details.split-points summary").click()
    person.click(".tree-node.kind-paragraph details.split-points button[name='fix']", "split-line")
    person.click(
        ".tree-node.kind-paragraph:has-text('Otros temas') button[name='fix'][value^='heading:']",
        "heading",
    )
    sections = page.locator(".tree-node.kind-section .text").all_inner_texts()
    assert sections == ["SECCIÓN UNO", "Otros temas"]
    person.click("button[name='action'][value='save']", "saved")
    assert re.search(r"/plans/\d+/", page.url), page.url
    body = page.locator("main").inner_text()
    assert "Promover la participación de los Estados." in body
    assert "Celebrar reuniones periódicas. 2." not in body
