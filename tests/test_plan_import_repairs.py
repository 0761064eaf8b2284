"""The import preview a facilitator can finish (issue 14): every warning points
at a visible source line, a paragraph cut off between two numbered items by a
page break is flagged, and the preview joins it (or reads a line as a heading)
without the facilitator editing the source by hand."""

import re
from collections import Counter
from io import BytesIO

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consult.plans import import_lines, importer, repairs
from consult.plans.models import Plan
from tests.factories import sign_in

# A page break cut item 2; the next page began with a capital letter.
CUT_ITEM = """PLAN DE ACCIÓN

SECCIÓN UNO

1. Celebrar reuniones periódicas de la red.
2. Promover la participación de los

Estados miembros de la CELAC en los contactos regionales.

3. Fortalecer las redes.
"""
CUT_LINE = 8  # "Estados miembros…"


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en").user


def items(parsed) -> list[tuple[str, str]]:
    return [(n.ref, n.text) for n, _p, _d in parsed.walk() if n.kind == "item"]


# --- the importer ---------------------------------------------------------------


def test_a_capitalised_paragraph_between_consecutive_items_is_flagged_with_a_join(app):
    with app.test_request_context():
        parsed = importer.parse(CUT_ITEM)
        flagged = [w for w in parsed.warnings if w.code == "continuation"]
        assert [(w.line, w.fix, w.params) for w in flagged] == [
            (CUT_LINE, "join", {"previous": "2", "next": "3"})
        ]
        assert "between items 2 and 3" in flagged[0].message


@pytest.mark.parametrize(
    "text",
    [
        # Items 1 and 3 are not consecutive: the paragraph may be real.
        "TÍTULO\n\n1. Uno.\n\nUn párrafo.\n\n3. Tres.\n",
        # Before the first item, a paragraph is a preamble.
        "TÍTULO\n\nUn preámbulo.\n\n1. Uno.\n2. Dos.\n",
        # After the last item.
        "TÍTULO\n\n1. Uno.\n2. Dos.\n\nUn cierre.\n",
    ],
)
def test_a_paragraph_elsewhere_is_not_flagged(app, text):
    with app.test_request_context():
        assert not [w for w in importer.parse(text).warnings if w.code == "continuation"]


def test_joining_makes_the_paragraph_the_end_of_the_item_above(app):
    with app.test_request_context():
        joined = importer.parse(repairs.apply_fix(CUT_ITEM, "join", CUT_LINE))
        assert items(joined) == [
            ("1.1", "Celebrar reuniones periódicas de la red."),
            (
                "1.2",
                "Promover la participación de los Estados miembros de la CELAC en los "
                "contactos regionales.",
            ),
            ("1.3", "Fortalecer las redes."),
        ]
        assert not [w for w in joined.warnings if w.code == "continuation"]


def test_a_line_read_as_a_heading_opens_a_section(app):
    text = "PLAN\n\nSECCIÓN UNO\n\n1. Uno.\n\nOtros temas\n\n2. Dos.\n"
    with app.test_request_context():
        parsed = importer.parse(repairs.apply_fix(text, "heading", 7))
        sections = [n.text for n, _p, _d in parsed.walk() if n.kind == "section"]
        assert sections == ["SECCIÓN UNO", "Otros temas"]


def test_a_heading_takes_the_level_of_the_documents_markdown_sections(app):
    text = "# Plan\n\n## Primera\n\n1. Uno.\n\nSegunda\n\n2. Dos.\n"
    with app.test_request_context():
        fixed = repairs.apply_fix(text, "heading", 7)
        assert fixed.splitlines()[6] == "## Segunda"
        parsed = importer.parse(fixed)
        depths = {n.text: d for n, _p, d in parsed.walk() if n.kind == "section"}
        assert depths == {"Primera": 0, "Segunda": 0}


@pytest.mark.parametrize(
    ("fix", "line"), [("join", 2), ("join", 1), ("join", 999), ("heading", 0), ("split", 8)]
)
def test_a_repair_that_does_not_fit_the_text_is_refused(fix, line):
    with pytest.raises(ValueError):
        repairs.apply_fix(CUT_ITEM, fix, line)


_line = st.text(alphabet=st.sampled_from("abcdeñ ABCÉ.,"), min_size=1, max_size=30).filter(
    lambda s: s.strip()
)
_source = st.lists(st.one_of(_line, st.just(""), _line.map(lambda s: f"1. {s}")), max_size=25)


@settings(max_examples=150, deadline=None)
@given(_source, st.sampled_from(sorted(repairs.FIXES)), st.integers(1, 25))
def test_a_repair_never_loses_or_adds_a_word(lines, fix, line):
    text = "\n".join(lines)
    try:
        fixed = repairs.apply_fix(text, fix, line)
    except ValueError:
        return
    assert Counter(import_lines.words(fixed)) == Counter(import_lines.words(text))


# --- the page -------------------------------------------------------------------


def import_url(forum):
    return f"/forums/{forum.slug}/plans/import"


def test_the_preview_shows_the_source_by_line_and_every_warning_points_at_it(
    client, forum, facilitator
):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum), data={"text": CUT_ITEM, "language": "es", "action": "preview"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="source-{CUT_LINE}"' in html
    assert f'href="#source-{CUT_LINE}"' in html  # the warning and the tree's node
    assert f'name="fix" value="join:{CUT_LINE}"' in html
    for line in re.findall(r'href="#source-(\d+)"', html):
        assert f'id="source-{line}"' in html
    # Only what people cite is shown as a reference (no "1.p1").
    assert ".p1<" not in html


def test_the_join_button_repairs_the_text_in_the_form_and_previews_again(
    client, session, forum, facilitator
):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum),
        data={"text": CUT_ITEM, "language": "es", "fix": f"join:{CUT_LINE}"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "de los\nEstados miembros" in html  # the textarea holds the repaired source
    assert "between items 2 and 3" not in html
    assert session.scalar(select(Plan.id)) is None  # a repair saves nothing


def test_a_stale_repair_is_refused_with_the_text_kept(client, forum, facilitator):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum), data={"text": CUT_ITEM, "language": "es", "fix": "join:999"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That repair no longer fits the text" in html
    assert "Estados miembros de la CELAC" in html


def test_a_chosen_file_fills_the_text_that_saving_then_sends(client, session, forum, facilitator):
    """What the browser does: the file is sent with Preview; the page returns
    its text in the text box; Save sends that text (and no file)."""
    document = docx.Document()
    document.add_paragraph("PLAN DE TRABAJO")
    document.add_paragraph("1. Primer punto del plan.")
    document.add_paragraph("2. Segundo punto del plan.")
    data = BytesIO()
    document.save(data)
    sign_in(client, facilitator)
    preview = client.post(
        import_url(forum),
        data={
            "file": (BytesIO(data.getvalue()), "plan.docx"),
            "language": "es",
            "action": "preview",
        },
        content_type="multipart/form-data",
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    text = re.search(r'<textarea[^>]*name="text"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1)
    assert "Segundo punto del plan." in text
    saved = client.post(
        import_url(forum),
        data={"text": text.replace("&#34;", '"'), "language": "es", "action": "save"},
    )
    assert saved.status_code == 302
    plan = session.scalar(select(Plan))
    assert plan.title == "PLAN DE TRABAJO"
