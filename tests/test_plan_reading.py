"""Reading the plan page: references only where people cite them, an item's
label once, and a translated reading that keeps the original's line numbers,
marks what is still in the original inline and translates the navigation and
the item page."""

from pathlib import Path

import lxml.html
import pytest
from flask_babel import force_locale

from consult.plan_translations import services as translations
from consult.plans import layout
from consult.plans import services as plans

DEMO = Path(__file__).resolve().parent.parent / "consult" / "demo"
# The demo's plans and the test samples (the 113-item regional plan pasted
# from a PDF, a structured plan, a Portuguese one).
SAMPLES = sorted(DEMO.glob("*.txt")) + sorted((Path(__file__).parent / "data").glob("*.txt"))

LONG_ITEM = (
    "Promover la ratificación de la Convención en todos los países y en todas las regiones,"
    " con los gobiernos locales y con las organizaciones de la sociedad civil."
)
PLAN_TEXT = f"""Plan de acción

Preámbulo del plan, que nadie cita por una referencia.

1. POLÍTICAS CULTURALES

1. {LONG_ITEM}

2. Crear observatorios nacionales de la diversidad cultural.

2. COMUNICACIÓN

1. Publicar un boletín trimestral.
"""


# The interface in English (the reading language is chosen per page).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def forum(make):
    return make.forum(public=True)


def page(client, plan, query="") -> lxml.html.HtmlElement:
    response = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/{query}")
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def node_div(doc, ref):
    (div,) = doc.xpath(f'//article[contains(@class, "plan-text")]/div[@id="ref-{ref}"]')
    return div


def classed(element, name):
    return element.xpath(f'.//*[contains(concat(" ", @class, " "), " {name} ")]')


def printed_words(doc) -> set[str]:
    """Every word a reader sees or hears in the page's main part (text, not
    attributes), so an internal key in the margin, a heading or a screen
    reader's label would show."""
    (main,) = doc.xpath("//main")
    return {word.strip("():·,") for word in main.text_content().split()}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_the_samples_print_references_only_where_people_cite_them(client, session, forum, sample):
    plan = plans.import_plan(None, forum, sample.read_text())
    session.commit()
    nodes = plans.version_nodes(plans.get_version(plan))
    doc = page(client, plan, "?lang=source")
    words = printed_words(doc)

    uncited = [node for node in nodes if not layout.cited_ref(node)]
    assert uncited, "the sample has paragraphs without a reference"
    for node in uncited:
        assert node.ref not in words, f"{node.kind} {node.ref!r} printed"
        assert node_div(doc, node.ref) is not None  # still the anchor
        assert classed(node_div(doc, node.ref), "node-ref")[0].text_content() == ""
    cited = [node for node in nodes if node.kind in ("section", "item")]
    assert cited
    for node in cited:
        assert classed(node_div(doc, node.ref), "node-ref")[0].text_content() == node.ref


def test_an_items_label_is_printed_once(client, session, forum):
    sample = DEMO / "mercociudades-plan-de-trabajo-2006-2007.es.txt"
    plan = plans.import_plan(None, forum, sample.read_text())
    session.commit()
    nodes = plans.version_nodes(plans.get_version(plan))
    doc = page(client, plan, "?lang=source")
    items = [node for node in nodes if node.kind == "item" and node.number]
    assert len(items) > 5
    for node in items:
        div = node_div(doc, node.ref)
        first_line = classed(div, "lt")[0].text_content()
        assert classed(div, "node-ref")[0].text_content() == node.ref
        assert not first_line.startswith((f"{node.number}.", f"{node.number})")), first_line
        assert first_line.startswith(node.text.split()[0])


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, PLAN_TEXT, open_for_input=False)


@pytest.fixture
def translated(session, make, forum, plan):
    """Section 1 and item 1.1 in Portuguese; the rest still in Spanish."""
    translator = make.facilitator(forum, locale="en")
    version = plans.get_version(plan)
    entries = {}
    for ref, text in {
        "1": "POLÍTICAS CULTURAIS",
        "1.1": "Promover a ratificação da Convenção em todos os países.",
    }.items():
        node = plans.find_node(version, ref)
        entries[node.key] = (text, node.text)
    translations.save(translator, plan, "pt", entries)
    session.commit()
    return plan


def lines_of(plan):
    return {
        entry.node.ref: entry
        for entry in layout.number_lines(plans.version_nodes(plans.get_version(plan)))
    }


def test_a_translated_item_shows_the_originals_line_range(client, translated):
    numbered = lines_of(translated)["1.1"]
    assert numbered.first_line < numbered.last_line  # a range, not one line
    doc = page(client, translated, "?lang=pt")
    div = node_div(doc, "1.1")
    (body,) = classed(div, "translated")
    assert body.get("lang") == "pt"
    assert body.text_content().strip().endswith("em todos os países.")
    (margin,) = classed(div, "range")
    assert margin.text_content() == f"l. {numbered.first_line}\u2013{numbered.last_line}"
    assert classed(div, "node-ref")[0].text_content() == "1.1"
    assert not classed(div, "untranslated")


def test_an_untranslated_item_is_marked_inline_not_on_a_line_of_its_own(client, translated):
    numbered = lines_of(translated)["1.2"]
    doc = page(client, translated, "?lang=pt")
    div = node_div(doc, "1.2")
    lines = classed(div, "line")
    assert len(lines) == len(numbered.lines)  # no extra line for the marker
    assert [classed(line, "ln")[0].text_content() for line in lines] == [
        str(number) for number, _text in numbered.lines
    ]
    (marker,) = classed(div, "untranslated")
    last_text = classed(lines[-1], "lt")[0]
    assert marker in last_text.iterdescendants()  # at the end of the item's last line
    assert "ES" in marker.text_content()
    assert "original text, not yet translated" in marker.text_content()
    # The original reading has neither markers nor ranges.
    original = page(client, translated, "?lang=source")
    assert not classed(original, "untranslated") and not classed(original, "range")


def test_navigation_headings_and_item_page_follow_the_reading_language(client, translated):
    doc = page(client, translated, "?lang=pt")
    for nav in doc.xpath(
        '//nav[contains(@class, "plan-outline") or contains(@class, "plan-jump")]'
    ):
        entries = [" ".join(li.text_content().split()) for li in nav.xpath(".//li")]
        assert entries[0] == "1 POLÍTICAS CULTURAIS"
        assert entries[1] == "2 COMUNICACIÓN"  # not translated yet: the original
    heading = node_div(doc, "1").xpath(".//h2")[0]
    assert heading.get("lang") == "pt" and "POLÍTICAS CULTURAIS" in heading.text_content()

    # The item page is read in the same language as the plan page it was reached from.
    (link,) = node_div(doc, "1.1").xpath('.//span[@class="node-activity"]/a')
    assert "lang=pt" in link.get("href")
    item = lxml.html.fromstring(client.get(link.get("href")).get_data(as_text=True))
    quote = item.xpath('//blockquote[@class="item-text"]')[0]
    assert quote.get("lang") == "pt"
    assert quote.text_content() == "Promover a ratificação da Convenção em todos os países."
    # Without ?lang= an English reader of a plan with no English text gets the original.
    plain = client.get(link.get("href").partition("?")[0]).get_data(as_text=True)
    assert "Promover a ratificação" not in plain
    # An item still in the original is marked as such on its page too.
    (other,) = node_div(doc, "1.2").xpath('.//span[@class="node-activity"]/a')
    item = lxml.html.fromstring(client.get(other.get("href")).get_data(as_text=True))
    assert classed(item, "untranslated")


def test_an_uncited_paragraphs_item_page_names_its_lines(client, translated):
    preamble = next(
        entry for entry in lines_of(translated).values() if entry.node.kind == "paragraph"
    )
    doc = page(client, translated, "?lang=source")
    (link,) = node_div(doc, preamble.node.ref).xpath('.//span[@class="node-activity"]/a')
    item = lxml.html.fromstring(client.get(link.get("href")).get_data(as_text=True))
    assert item.xpath("//h1")[0].text_content() == f"Paragraph at line {preamble.first_line}"
    assert preamble.node.ref not in printed_words(item)


def test_item_links_carry_the_reading_only_when_it_is_not_the_interface_language(
    client, translated
):
    def item_href(query):
        doc = page(client, translated, query)
        return node_div(doc, "1.2").xpath('.//span[@class="node-activity"]/a')[0].get("href")

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert item_href("?lang=source").endswith("/?lang=source")  # not the interface's
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt"
    with force_locale("pt"):
        assert "lang=" not in item_href("")  # the item page reads in pt by default


def test_the_stylesheet_sizes_the_text_for_the_layouts_line_length():
    import re

    css = (Path(layout.__file__).resolve().parents[1] / "static" / "css" / "app.css").read_text()
    assert re.search(r"\.plan-layout \{ --line-length: (\d+); \}", css).group(1) == str(
        layout.LINE_LENGTH
    )
