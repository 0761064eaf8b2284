"""Splitting a block that the importer read as one (issue 14): two items run
together on a line, a heading glued to its paragraph. The preview lists the
places where a block can be split; the server splits the source there, and
the join of the new block gives back the same text."""

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consult.plans import import_lines, importer, repairs
from consult.plans.models import Plan, PlanNode
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

# Line 5: two items run together (a PDF lost the line break); lines 7 and 8: a
# heading without capitals glued to the paragraph under it.
RUN_TOGETHER = """PLAN DE ACCIÓN

SECCIÓN UNO

1. Celebrar reuniones periódicas. 2. Promover la participación de los Estados.

Otros temas
Fortalecer las redes regionales.
"""
ITEM_TWO = 34  # the column of "2. Promover" in line 5


def tree(text: str) -> list[tuple[str, str, str]]:
    parsed = importer.parse(text)
    return [(parsed.title or "", n.kind, n.text) for n, _p, _d in parsed.walk()]


def points(text: str) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.start) for p in repairs.split_points(text)]


# --- the places offered -----------------------------------------------------------


def test_the_places_are_an_item_number_a_sentence_and_a_glued_line(app):
    with app.test_request_context():
        assert points(RUN_TOGETHER) == [
            (5, ITEM_TWO, "2. Promover la participación de los…"),
            (8, 0, "Fortalecer las redes regionales."),
        ]


def test_two_items_run_together_become_two_items(app):
    with app.test_request_context():
        fixed = repairs.apply_fix(RUN_TOGETHER, "split", 5, ITEM_TWO)
        assert fixed.split("\n")[4:7] == [
            "1. Celebrar reuniones periódicas.",
            "",
            "2. Promover la participación de los Estados.",
        ]
        items = [(n.ref, n.text) for n, _p, _d in importer.parse(fixed).walk() if n.kind == "item"]
        assert items == [
            ("1.1", "Celebrar reuniones periódicas."),
            ("1.2", "Promover la participación de los Estados."),
        ]


def test_a_glued_heading_is_split_off_and_can_then_be_read_as_a_heading(app):
    with app.test_request_context():
        fixed = repairs.apply_fix(RUN_TOGETHER, "split", 8)
        paragraphs = [n for n, _p, _d in importer.parse(fixed).walk() if n.kind == "paragraph"]
        assert [(n.line, n.text) for n in paragraphs] == [
            (7, "Otros temas"),
            (9, "Fortalecer las redes regionales."),
        ]
        headed = importer.parse(repairs.apply_fix(fixed, "heading", 7))
        sections = [(n.text, [c.text for c in n.children]) for n in headed.nodes]
        assert sections[-1] == ("Otros temas", ["Fortalecer las redes regionales."])


def test_a_heading_in_capitals_on_the_line_of_its_paragraph_is_split_at_its_end(app):
    text = "PLAN\n\nOBJETIVOS GENERALES Promover la cooperación. Y la paz.\n"
    with app.test_request_context():
        assert points(text) == [(3, 20, "Promover la cooperación. Y la paz."), (3, 45, "Y la paz.")]
        split = importer.parse(repairs.apply_fix(text, "split", 3, 20))
        assert [(n.kind, n.text) for n in split.nodes] == [
            ("section", "OBJETIVOS GENERALES"),
        ]
        assert [n.text for n in split.nodes[0].children] == ["Promover la cooperación. Y la paz."]


@pytest.mark.parametrize(
    "line",
    [
        "1. Celebrar reuniones.",  # after an item's own number
        "a) Celebrar reuniones.",  # after a letter
        "Véase el punto 2. Promover la red.",  # a number inside a sentence is no item
        "Una frase. otra en minúscula.",  # a lower-case start would be joined back
        "[1]: Una nota.",  # a footnote's label
    ],
)
def test_a_label_or_a_lower_case_start_is_not_a_place(app, line):
    with app.test_request_context():
        found = points(f"PLAN\n\n{line}\n")
        assert all(
            not start.startswith(("Celebrar", "Promover", "otra", "Una nota"))
            for *_x, start in found
        )


def test_a_glued_line_in_lower_case_is_not_offered(app):
    with app.test_request_context():
        assert points("PLAN\n\nUna frase que sigue\nen la línea siguiente.\n") == []


@pytest.mark.parametrize(("line", "column"), [(5, 3), (5, 33), (7, 0), (8, 5), (99, 0), (5, -1)])
def test_a_place_that_is_not_offered_is_refused(line, column):
    with pytest.raises(ValueError):
        repairs.apply_fix(RUN_TOGETHER, "split", line, column)


def test_the_buttons_value_carries_the_place():
    assert repairs.SplitPoint(5, ITEM_TWO, "").fix == f"split@{ITEM_TWO}:5"
    assert repairs.SplitPoint(8, 0, "").fix == "split:8"


# --- properties --------------------------------------------------------------------

_word = st.text(alphabet=st.sampled_from("abcñé"), min_size=1, max_size=6)
_sentence = st.builds(
    lambda first, rest, end: " ".join([first.capitalize(), *rest]) + end,
    _word,
    st.lists(_word, max_size=4),
    st.sampled_from([".", "", ":", "?"]),
)
_line = st.builds(
    lambda prefix, sentences: prefix + " ".join(sentences),
    st.sampled_from(["", "", "1. ", "2. ", "- ", "CAPS "]),
    st.lists(
        st.one_of(_sentence, _word, st.sampled_from(["3. Dos", "TÍTULO"])), min_size=1, max_size=4
    ),
)
_source = st.lists(st.one_of(_line, st.just("")), min_size=1, max_size=12).map("\n".join)


@settings(max_examples=200, deadline=None)
@given(_source, st.data())
def test_splitting_then_joining_gives_back_the_same_text(app, text, data):
    with app.test_request_context():
        offered = repairs.split_points(text)
        if not offered:
            return
        point = data.draw(st.sampled_from(offered))
        split = repairs.apply_fix(text, "split", point.line, point.column)
        assert Counter(import_lines.words(split)) == Counter(import_lines.words(text))
        new_line = point.line + (2 if point.column else 1)
        blocks, _w = import_lines.read_blocks(split)
        assert new_line in [block.number for block in blocks]  # a new block starts there
        assert tree(repairs.apply_fix(split, "join", new_line)) == tree(text)


# --- the page ------------------------------------------------------------------------


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en").user


def import_url(forum):
    return f"/forums/{forum.slug}/plans/import"


def textarea(html: str) -> str:
    return re.search(r'<textarea[^>]*name="text"[^>]*>\n?(.*?)</textarea>', html, re.S).group(1)


def test_the_preview_lists_the_places_of_a_block_that_can_be_split(client, forum, facilitator):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum), data={"text": RUN_TOGETHER, "language": "es", "action": "preview"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Split in two…" in html
    assert f'name="fix" value="split@{ITEM_TWO}:5"' in html
    assert 'name="fix" value="split:8"' in html
    assert "“2. Promover la participación de los…”" in html


def test_splitting_keeps_the_title_and_options_and_previews_again(
    client, session, forum, facilitator
):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum),
        data={
            "text": RUN_TOGETHER,
            "title": "Mi plan",
            "language": "pt",
            "fix": f"split@{ITEM_TWO}:5",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "periódicas.\n\n2. Promover" in textarea(html)
    assert 'value="Mi plan"' in html
    assert re.search(r'<option selected value="pt">|<option value="pt" selected>', html)
    assert "2 numbered items" in re.sub(r"<[^>]+>", "", html)
    assert session.scalar(select(Plan.id)) is None  # a repair saves nothing


def test_a_stale_split_is_refused_with_everything_kept(client, forum, facilitator):
    sign_in(client, facilitator)
    response = client.post(
        import_url(forum),
        data={"text": RUN_TOGETHER, "title": "Mi plan", "language": "es", "fix": "split@7:5"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "That repair no longer fits the text" in html
    assert "2. Promover la participación de los Estados." in textarea(html)
    assert 'value="Mi plan"' in html


def test_the_split_text_is_what_is_saved(client, session, forum, facilitator):
    sign_in(client, facilitator)
    split = client.post(
        import_url(forum),
        data={"text": RUN_TOGETHER, "language": "es", "fix": f"split@{ITEM_TWO}:5"},
    )
    text = textarea(split.get_data(as_text=True))
    saved = client.post(import_url(forum), data={"text": text, "language": "es", "action": "save"})
    assert saved.status_code == 302
    plan = session.scalar(select(Plan))
    items = session.scalars(
        select(PlanNode.text)
        .where(PlanNode.version_id == plan.current_version_id, PlanNode.kind == "item")
        .order_by(PlanNode.position)
    ).all()
    assert items == ["Celebrar reuniones periódicas.", "Promover la participación de los Estados."]


def test_a_block_of_many_sentences_lists_its_first_places_and_any_can_be_split(app):
    text = "PLAN\n\n" + " ".join(f"Frase {n} del plan." for n in range(1, 101)) + "\n"
    with app.test_request_context():
        parsed = importer.parse(text)
        shown = repairs.preview_split_points(parsed, parsed.nodes[0])
        assert len(shown) == 40
        assert shown[0].start == "Frase 2 del plan. Frase 3…"
        last = repairs.split_points(text)[-1]  # not listed yet, still a place of the text
        assert repairs.apply_fix(text, "split", last.line, last.column).endswith(
            "\n\nFrase 100 del plan.\n"
        )
