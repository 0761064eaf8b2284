"""The importer: real samples, PDF artefacts, and properties over generated text."""

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.plans.import_lines import words
from consult.plans.importer import parse
from consult.plans.markdown import to_markdown

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "consult" / "demo"
BOGOTA = (SAMPLES / "bogota-2007-coaliciones-diversidad-cultural.es.txt").read_text()
MERCOCIUDADES = (SAMPLES / "mercociudades-plan-de-trabajo-2006-2007.es.txt").read_text()
STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
SAMPLE_IDS = ["bogota", "mercociudades", "structured"]


def imported_words(plan) -> Counter:
    found = Counter(words(plan.title or ""))
    for node, _parent, _depth in plan.walk():
        found.update(words(node.number))
        found.update(words(node.text))
    return found


def source_words(source: str, plan) -> Counter:
    """The input's words, with the words the importer rejoined across a
    hyphenated line break counted as one (each join is reported)."""
    expected = Counter(words(source))
    for warning in plan.warnings:
        if warning.code == "dehyphenated":
            expected -= Counter([warning.params["first"], warning.params["second"]])
            expected[warning.params["first"] + warning.params["second"]] += 1
    return expected


def shape(plan):
    return [(n.kind, n.number, n.text, n.ref, depth) for n, _parent, depth in plan.walk()]


def as_rows(plan):
    """Parsed nodes in the shape the Markdown export reads (as PlanNode rows)."""
    keys, rows = {}, []
    for index, (node, parent, depth) in enumerate(plan.walk()):
        keys[id(node)] = f"k{index}"
        rows.append(
            SimpleNamespace(
                key=f"k{index}",
                parent_key=keys[id(parent)] if parent else None,
                kind=node.kind,
                number=node.number,
                text=node.text,
                ref=node.ref,
                depth=depth,
            )
        )
    return rows


@pytest.mark.parametrize(
    ("source", "title", "sections", "items", "bullets", "footnotes"),
    [
        (BOGOTA, None, 2, 0, 20, 0),
        (MERCOCIUDADES, "PLAN DE TRABAJO 2006-2007", 2, 10, 0, 0),
        (STRUCTURED, "PLAN DE ACCIÓN DE LA RED DE COALICIONES 2026", 5, 8, 3, 2),
    ],
    ids=["bogota", "mercociudades", "structured"],
)
def test_samples_yield_their_structure(source, title, sections, items, bullets, footnotes):
    plan = parse(source)
    assert plan.title == title
    assert (plan.sections, plan.items, plan.count("bullet"), plan.footnotes) == (
        sections,
        items,
        bullets,
        footnotes,
    )


@pytest.mark.parametrize(
    "source", [BOGOTA, MERCOCIUDADES, STRUCTURED], ids=["bogota", "mercociudades", "structured"]
)
def test_no_word_of_a_sample_is_lost(source):
    plan = parse(source)
    assert imported_words(plan) == source_words(source, plan)


@pytest.mark.parametrize(
    "source", [BOGOTA, MERCOCIUDADES, STRUCTURED], ids=["bogota", "mercociudades", "structured"]
)
def test_markdown_export_of_a_sample_imports_to_the_same_tree(source):
    plan = parse(source, "Título")
    again = parse(to_markdown(plan.title, as_rows(plan)))
    assert again.title == plan.title
    assert shape(again) == shape(plan)


@pytest.mark.parametrize("source", [BOGOTA, MERCOCIUDADES, STRUCTURED], ids=SAMPLE_IDS)
def test_markdown_round_trip_gives_the_same_markdown(source):
    plan = parse(source, "Título")
    markdown = to_markdown(plan.title, as_rows(plan))
    again = parse(markdown)
    assert to_markdown(again.title, as_rows(again)) == markdown


def test_mercociudades_items_lose_their_stray_emphasis_markers():
    plan = parse(MERCOCIUDADES)
    items = [node for node, _p, _d in plan.walk() if node.kind == "item"]
    assert [item.number for item in items] == [str(n) for n in range(1, 11)]
    assert all("**" not in item.text for item in items)
    assert items[0].text.startswith("Trabajar fuertemente en el proyecto")
    assert [item.ref for item in items][:2] == ["2.1", "2.2"]


def test_bogota_sub_bullets_and_closing_line():
    plan = parse(BOGOTA)
    nodes = {node.ref: node for node, _p, _d in plan.walk()}
    assert nodes["2.4"].text.startswith("Definir mecanismos de funcionamiento")
    assert [child.text[:10] for child in nodes["2.4"].children] == [
        "En diciemb",
        "En marzo, ",
        "En abril g",
        "Programar,",
    ]
    assert nodes["end"].kind == "closing" and nodes["end"].text == "Bogota, 22 de noviembre 2007"


def test_structured_document_references_and_repairs():
    plan = parse(STRUCTURED)
    nodes = {node.ref: node for node, _p, _d in plan.walk()}
    assert (
        nodes["2.A.1"].text
        == "Defender la Convención de la UNESCO de 2005 en los foros internacionales."
    )
    assert nodes["1.3"].text == (
        "Elaborar un diagnóstico regional de las necesidades energéticas "
        "de las instituciones culturales."
    )
    assert nodes["2.A.3"].text.endswith("diversidad cultural² que publique un informe anual.")
    assert nodes["fn2"].text == "Con sede rotativa entre los países miembros."
    assert [child.ref for child in nodes["2.A.2"].children] == ["2.A.2.1", "2.A.2.2"]
    assert nodes["2.A.2.2.1"].text == "en particular con las comisiones de cultura."
    codes = {warning.code for warning in plan.warnings}
    assert {"joined", "dehyphenated", "page_number", "numbering_gap"} <= codes


def test_lettered_items_are_children_of_the_numbered_item():
    plan = parse(
        "TÍTULO\n\nACCIONES\n\n1. Promover:\na) la cultura;\nb) la educación.\n2. Evaluar.\n"
    )
    nodes = {node.ref: node for node, _p, _d in plan.walk()}
    assert [child.ref for child in nodes["1.1"].children] == ["1.1.a", "1.1.b"]
    assert nodes["1.2"].text == "Evaluar."


def test_markdown_headings_and_footnotes():
    plan = parse(
        "# Plano de ação\n\n## Energia\n\n1. Promover[^1].\n\n"
        "### A. Subtema\n\n- Ponto\n\n[^1]: Nota.\n"
    )
    assert plan.title == "Plano de ação"
    assert [(n.kind, n.ref) for n, _p, _d in plan.walk()] == [
        ("section", "1"),
        ("item", "1.1"),
        ("section", "1.A"),
        ("bullet", "1.A.1"),
        ("footnote", "fn1"),
    ]


def test_control_characters_and_decomposed_accents_are_normalised():
    plan = parse("Título\n\nAc\u0327a\u0303o\u0000 com \u202eparticipac\u0327a\u0303o\u200b.\n")
    [paragraph] = [node for node, _p, _d in plan.walk()]
    assert paragraph.text == "Ação com participação."


# --- properties -------------------------------------------------------------

word = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzáéíóúñç"), min_size=1, max_size=10
)
sentence = st.lists(word, min_size=1, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
heading = st.lists(word, min_size=1, max_size=5).map(lambda ws: " ".join(ws).upper())


@st.composite
def outlines(draw):
    """A Markdown plan in the documented form: title, preamble, sections with an
    introduction, numbered items with bullets, sub-sections, footnotes."""
    lines = [f"# {draw(heading)}", ""]
    for _ in range(draw(st.integers(0, 2))):
        lines += [draw(sentence), ""]
    for _section in range(draw(st.integers(0, 4))):
        lines += [f"## {draw(heading)}", ""]
        if draw(st.booleans()):
            lines += [draw(sentence), ""]
        for number in range(1, draw(st.integers(0, 4)) + 1):
            lines.append(f"{number}. {draw(sentence)}")
            for _bullet in range(draw(st.integers(0, 2))):
                lines.append(f"  - {draw(sentence)}")
        lines.append("")
        for letter in "AB"[: draw(st.integers(0, 2))]:
            lines += [f"### {letter}. {draw(heading)}", ""]
            for number in range(1, draw(st.integers(1, 3)) + 1):
                lines.append(f"{number}. {draw(sentence)}")
            lines.append("")
    for number in range(1, draw(st.integers(0, 2)) + 1):
        lines.append(f"[^{number}]: {draw(sentence)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outlines())
def test_any_outline_survives_export_and_import(source):
    plan = parse(source)
    again = parse(to_markdown(plan.title, as_rows(plan)))
    assert again.title == plan.title
    assert shape(again) == shape(plan)
    assert imported_words(plan) == Counter(words(source))


printable = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Cf", "Co"), blacklist_characters="\r"
    ),
    max_size=400,
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            printable, st.sampled_from(["", "- ", "1. ", "  - ", "A. TEMA", "¹ ", "**", "a) "])
        ),
        max_size=25,
    ).map("\n".join)
)
def test_the_importer_never_loses_a_word_of_arbitrary_text(source):
    plan = parse(source, "Título de respaldo")
    expected = source_words(source, plan)
    found = imported_words(plan)
    if plan.title == "Título de respaldo":
        found -= Counter(words("Título de respaldo"))
    assert found == expected
