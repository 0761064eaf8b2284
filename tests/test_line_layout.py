"""Line N holds the same words everywhere (issue 14): on the plan page, in the
HTML export and in the PDF as a PDF reader extracts it (pdftotext, from
Debian's poppler-utils), for the samples and for generated plans; and no
internal key ("p1", "b2", "fn1") is printed anywhere."""

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from consult.plans import documents, services
from consult.plans.import_lines import words
from consult.plans.layout import cited_ref, number_lines
from tests.conftest import IN_CI
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = {
    "bogota": ROOT / "consult" / "demo" / "bogota-2007-coaliciones-diversidad-cultural.es.txt",
    "structured": ROOT / "tests" / "data" / "plan-estructurado.es.txt",
    "regional-113": ROOT / "tests" / "data" / "plan-113-items.es.txt",
}
INTERNAL_KEY = re.compile(r"(?<![\w.])(?:[\d.]*\.)?(?:p|b|fn)\d+(?![\w.])")


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def having(element, *classes: str) -> list:
    """Descendants of ``element`` carrying every one of ``classes``."""
    tests = " and ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in classes
    )
    return element.xpath(f".//*[{tests}]")


def expected_lines(nodes) -> dict[int, list[str]]:
    return {number: words(text) for e in number_lines(nodes) for number, text in e.lines}


def page_lines(page: str) -> dict[int, list[str]]:
    """The plan page's numbered lines: number → words (the reference beside a
    node is outside its lines)."""
    root = lxml_html.fromstring(page)
    for marker in having(root, "untranslated"):  # "ES": the reader reads in English
        marker.drop_tree()
    found = {}
    for body in having(having(root, "plan-text")[0], "node-body"):
        if "translated" in body.get("class").split():
            continue
        for line in having(body, "line"):
            number = int(having(line, "ln")[0].text_content())
            found[number] = words(having(line, "lt")[0].text_content())
    return found


def export_lines(content: bytes) -> tuple[dict[int, list[str]], list[str]]:
    """The HTML export's numbered lines (number → words, without the printed
    reference) and every printed reference."""
    root = lxml_html.fromstring(content)
    found, refs = {}, []
    for line in having(root, "line"):
        number = int(re.sub(r"\D", "", having(line, "ln")[0].text_content()))
        refs += [ref.text_content() for ref in having(line, "ref")]
        text = "".join(
            part.text_content() if hasattr(part, "text_content") else part
            for part in line.xpath("node()[not(contains(@class,'ln') or contains(@class,'ref'))]")
        )
        found[number] = words(text)
    return found, refs


def pdf_text(content: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) is required when CI=true")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "plan.pdf"
    source.write_bytes(content)
    result = subprocess.run(  # nosec B603: a fixed tool on our own file
        [tool, "-layout", "-enc", "UTF-8", str(source), "-"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return result.stdout.decode("utf-8")


def import_sample(make, text: str):
    forum = make.forum()
    plan = services.import_plan(None, forum, text, language="es")
    return forum, plan, plan.current_version, services.version_nodes(plan.current_version)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_page_the_html_export_and_the_pdf_number_the_same_words_alike(
    app, client, make, session, backend, tmp_path, name
):
    forum, plan, version, nodes = import_sample(make, SAMPLES[name].read_text(encoding="utf-8"))
    session.commit()
    expected = expected_lines(nodes)
    reader = make.member(forum, locale="en").user
    sign_in(client, reader)
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/")
    assert page.status_code == 200
    assert page_lines(page.get_data(as_text=True)) == expected

    with app.test_request_context(), force_locale("es"):
        exported, _type, _name = documents.render("html", plan, version, nodes)
    lines, refs = export_lines(exported)
    assert lines == expected
    assert sorted(refs) == sorted(cited_ref(n) for n in nodes if cited_ref(n))
    assert not [ref for ref in refs if INTERNAL_KEY.fullmatch(ref)]

    if backend != "sqlite":
        return  # the PDF does not depend on the database: laid out once
    with app.test_request_context(), force_locale("es"):
        pdf, _type, _name = documents.render("pdf", plan, version, nodes)
    printed = defaultdict(list)  # line number → the words printed beside it
    rows = [row for row in map(words, pdf_text(pdf, tmp_path).splitlines()) if row]
    for index, row in enumerate(rows):
        if row[0].isdigit():
            # A heading's larger type puts its number a row above its words.
            beside = row[1:] or (rows[index + 1] if index + 1 < len(rows) else [])
            printed[int(row[0])].append(beside)
    cited = {
        number: words(cited_ref(e.node)) for e in number_lines(nodes) for number, _t in e.lines[:1]
    }
    for number, line in expected.items():
        ref = cited.get(number, [])
        assert line in printed[number] or ref + line in printed[number], (number, line)


def test_no_internal_key_is_printed_on_the_page(client, make, session):
    forum, plan, _version, nodes = import_sample(
        make, SAMPLES["structured"].read_text(encoding="utf-8")
    )
    session.commit()
    assert any(not cited_ref(n) for n in nodes)  # the sample has paragraphs and bullets
    sign_in(client, make.member(forum, locale="en").user)
    root = lxml_html.fromstring(client.get(f"/forums/{forum.slug}/plans/{plan.id}/").data)
    shown = [ref.text_content() for ref in having(having(root, "plan-text")[0], "node-ref")]
    assert [ref for ref in shown if ref] == [cited_ref(n) for n in nodes if cited_ref(n)]
    assert not [ref for ref in shown if INTERNAL_KEY.fullmatch(ref)]


_word = st.text(alphabet=st.sampled_from("abcdefghijñóé"), min_size=1, max_size=14)
_sentence = st.lists(_word, min_size=1, max_size=40).map(" ".join)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_sentence, min_size=1, max_size=12))
def test_generated_plans_number_the_same_words_on_the_page_and_in_the_export(
    app, client, make, session, sentences
):
    text = "PLAN GENERADO\n\nSECCIÓN\n\n" + "\n".join(
        f"{n}. {sentence.capitalize()}." for n, sentence in enumerate(sentences, 1)
    )
    forum, plan, version, nodes = import_sample(make, text)
    session.commit()
    expected = expected_lines(nodes)
    sign_in(client, make.member(forum, locale="en").user)
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/")
    assert page_lines(page.get_data(as_text=True)) == expected
    with app.test_request_context(), force_locale("es"):
        exported, _type, _name = documents.render("html", plan, version, nodes)
    assert export_lines(exported)[0] == expected


def office_lines(paragraph_texts: list[str]) -> dict[int, list[str]]:
    """Numbered lines of a word processor's paragraphs: "N<tab>[ref ]words",
    a heading's lines separated by line breaks."""
    found = {}
    for text in paragraph_texts:
        for line in text.split("\n"):
            number, tab, rest = line.partition("\t")
            if tab and number.isdigit():
                found[int(number)] = words(rest)
    return found


def odt_paragraph_texts(content: bytes) -> list[str]:
    """Each paragraph and heading of an ODT as text (tabs and line breaks kept)."""
    import io

    from odf import teletype
    from odf.opendocument import load
    from odf.text import H, P

    document = load(io.BytesIO(content))
    return [
        teletype.extractText(element)
        for kind in (P, H)
        for element in document.text.getElementsByType(kind)
    ]


@pytest.mark.parametrize("name", ["bogota", "structured"])
def test_the_word_processors_downloads_number_the_same_words_alike(app, make, session, name):
    """DOCX and ODT carry line N with the words the page and the PDF give it,
    the number in the margin, and the printed references once."""
    import io

    import docx

    _forum, plan, version, nodes = import_sample(make, SAMPLES[name].read_text(encoding="utf-8"))
    expected = expected_lines(nodes)
    cited = {
        number: words(cited_ref(e.node)) for e in number_lines(nodes) for number, _t in e.lines[:1]
    }

    def matches(found):
        return {
            number: line
            for number, line in found.items()
            if line == expected.get(number)
            or line == cited.get(number, []) + expected.get(number, [])
        }

    with app.test_request_context(), force_locale("es"):
        word, _type, _name = documents.render("docx", plan, version, nodes)
        odt, _type, _name = documents.render("odt", plan, version, nodes)
    texts = [p.text for p in docx.Document(io.BytesIO(word)).paragraphs]
    found = office_lines(texts)
    assert found.keys() == expected.keys()
    assert matches(found).keys() == expected.keys()
    found = office_lines(odt_paragraph_texts(odt))
    assert found.keys() == expected.keys()
    assert matches(found).keys() == expected.keys()
