"""The plan in three languages: readers get current translations or the marked
original, translations go outdated when a consolidated draft changes their
source, completeness per language, translated exports, and PO files for offline
translators that come back validated."""

import io
import re
from datetime import timedelta

import pytest
from babel.messages.pofile import read_po, write_po
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consult.amendments import lifecycle, proposing, translations
from consult.consolidation import services as consolidation
from consult.database import utcnow
from consult.errors import Conflict, InvalidInput, PermissionDenied
from consult.plan_translations import po_files, services
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.factories import sign_in

PLAN_TEXT = """Plan de acción

1. POLÍTICAS CULTURALES

1. Promover la ratificación de la Convención en todos los países.

2. Crear observatorios nacionales de la diversidad cultural.

2. COMUNICACIÓN

1. Publicar un boletín trimestral.
"""


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def forum(make):
    return make.forum(public=True)


@pytest.fixture
def translator(make, forum, session):
    membership = make.member(forum, locale="en")  # the interface; translates into pt
    membership.is_translator = True
    session.commit()
    return membership.user


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, PLAN_TEXT, open_for_input=False)


def node(plan, ref):
    return plans.find_node(plans.get_version(plan), ref)


def translate(actor, plan, language, **by_ref):
    entries = {
        node(plan, ref.replace("_", ".")).key: (text, node(plan, ref.replace("_", ".")).text)
        for ref, text in by_ref.items()
    }
    return services.save(actor, plan, language, entries)


def page_text(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", html[html.find("<main") : html.find("</main>")])


# --- reading ------------------------------------------------------------------------------


def test_readers_get_current_translations_and_the_marked_original_elsewhere(
    client, session, plan, translator
):
    translate(
        translator, plan, "pt", **{"1_1": "Promover a ratificação da Convenção em todos os países."}
    )
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt"
    page = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert 'lang="pt"><span class="line">' in page
    assert '<span class="lt">Promover a ratificação da Convenção em todos os países.</span>' in page
    # Not translated: the original, with its language marked.
    assert "Crear observatorios nacionales" in page
    assert 'class="untranslated"' in page
    original = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/?lang=source")
    assert "Promover a ratificação" not in original.get_data(as_text=True)
    assert "Promover la ratificación" in original.get_data(as_text=True)


def test_the_original_language_reads_without_translations(client, plan, translator, session):
    translate(translator, plan, "pt", **{"1_1": "Texto em português."})
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert "Texto em português." not in page and 'class="untranslated"' not in page


def test_completeness_counts_current_and_outdated_translations(session, plan, translator):
    version = plans.get_version(plan)
    total = len(plans.version_nodes(version))
    translate(translator, plan, "pt", **{"1_1": "Um.", "1_2": "Dois."})
    translate(translator, plan, "en", **{"1_1": "One."})
    figures = services.completeness(plan, version)
    assert (figures["pt"].current, figures["pt"].total) == (2, total)
    assert figures["en"].current == 1 and set(figures) == {"en", "pt"}
    assert figures["pt"].percent == int(2 / total * 100)


# --- outdated after a consolidated draft --------------------------------------------------


def test_a_consolidated_change_makes_translations_outdated_with_the_diff(
    client, session, make, forum, plan, facilitator, translator
):
    translate(translator, plan, "pt", **{"1_1": "Promover a ratificação da Convenção."})
    author = make.member(forum).user
    plan.open_for_input = True
    amendment = proposing.propose(
        author,
        plan,
        target=node(plan, "1.1").key,
        operation="replace",
        text="Promover la ratificación de la Convención en cada país.",
        submit=True,
    )
    lifecycle.decide(facilitator, amendment, "admitted")
    lifecycle.decide(facilitator, amendment, "accepted")
    consolidation.request(facilitator, plan)
    session.commit()
    session.expire_all()
    version = plans.get_version(plan)
    assert version.number == 2
    state = next(
        s for s in services.states(plan, plans.version_nodes(version), "pt") if s.node.ref == "1.1"
    )
    assert state.status == "outdated"
    assert state.translation.text == "Promover a ratificação da Convenção."  # kept
    assert services.completeness(plan, version)["pt"].current == 0
    assert services.reading_texts(plan, version, plans.version_nodes(version), "pt") == {}

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, translator)
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/translations/pt?show=outdated")
    text = page.get_data(as_text=True)
    assert "Outdated: the source changed" in text
    assert "<del>todos los países</del>" in text and "<ins>cada país</ins>" in text
    # Updating it makes it current again.
    translate(
        translator, plan, "pt", **{"1_1": "Promover a ratificação da Convenção em cada país."}
    )
    assert services.completeness(plan, plans.get_version(plan))["pt"].current == 1


# --- saving -------------------------------------------------------------------------------


def test_only_translators_and_facilitators_translate(make, forum, plan, facilitator, translator):
    member = make.member(forum).user
    with pytest.raises(PermissionDenied):
        translate(member, plan, "pt", **{"1_1": "Um."})
    assert translate(facilitator, plan, "en", **{"1_1": "One."}).saved == 1
    with pytest.raises(InvalidInput):
        translate(translator, plan, "es", **{"1_1": "Uno."})  # the original language


def test_a_source_that_changed_meanwhile_is_not_saved_and_empty_removes(session, plan, translator):
    key = node(plan, "1.1").key
    result = services.save(translator, plan, "pt", {key: ("Um.", "an older source text")})
    assert result.stale == [key] and result.saved == 0
    translate(translator, plan, "pt", **{"1_1": "Um."})
    assert translate(translator, plan, "pt", **{"1_1": "  "}).removed == 1
    assert services.translations_of(plan, "pt") == {}


def test_the_workspace_saves_a_page_and_keeps_stale_text(client, session, plan, translator):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, translator)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/translations/pt"
    one, two = node(plan, "1.1"), node(plan, "1.2")
    saved = client.post(url, data={f"t-{one.key}": "Um.", f"s-{one.key}": one.text})
    assert saved.status_code == 302
    stale = client.post(url, data={f"t-{two.key}": "Dois, digitado.", f"s-{two.key}": "old"})
    assert stale.status_code == 409
    assert "Dois, digitado." in stale.get_data(as_text=True)
    session.expire_all()
    assert set(services.translations_of(plan, "pt")) == {one.key}


def test_a_language_is_named_in_the_readers_language_in_sentences(
    client, session, make, forum, plan
):
    """ "Traducir al inglés", not "Traducir al English"; the language menu of the
    plan keeps each language's own name, marked with its ``lang``."""
    membership = make.member(forum, locale="es")
    membership.is_translator = True
    session.commit()
    sign_in(client, membership.user)
    base = f"/forums/{plan.forum.slug}/plans/{plan.id}"
    workspace = client.get(f"{base}/translations/en").get_data(as_text=True)
    assert "Traducir al inglés" in workspace and "English" not in workspace.split("<main")[1]
    plan_page = client.get(f"{base}/").get_data(as_text=True)
    assert 'lang="en">English</a>' in plan_page


# --- exports -----------------------------------------------------------------------------


def test_exports_in_a_language_use_translations_and_mark_the_rest(
    client, session, plan, translator
):
    translate(translator, plan, "pt", **{"1_1": "Promover a ratificação."})
    session.commit()
    response = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/export/md?lang=pt")
    text = response.get_data(as_text=True)
    assert "Promover a ratificação." in text
    assert "[es] Crear observatorios nacionales" in text
    assert "-pt.md" in response.headers["Content-Disposition"]
    docx = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/export/docx?lang=pt")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"


# --- PO files -----------------------------------------------------------------------------


def po_catalog(data: bytes):
    return read_po(io.BytesIO(data))


def po_bytes(catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    return buffer.getvalue()


def test_a_po_file_goes_out_and_comes_back(session, plan, translator):
    version = plans.get_version(plan)
    catalog = po_catalog(po_files.export_po(plan, version, "pt"))
    units = [m for m in catalog if m.id]
    assert len(units) == len(plans.version_nodes(version))
    assert {m.context for m in units} == {n.key for n in plans.version_nodes(version)}
    for message in units:
        message.string = "PT: " + message.id
    report = po_files.import_po(translator, plan, "pt", po_bytes(catalog), replace=False)
    assert (report.imported, report.rejected) == (len(units), 0)
    assert services.completeness(plan, version)["pt"].percent == 100


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=40).filter(
            str.strip
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_translations_survive_the_po_round_trip(session, plan, translator, texts):
    version = plans.get_version(plan)
    nodes = plans.version_nodes(version)
    services.save(
        translator,
        plan,
        "en",
        {n.key: (text, n.text) for n, text in zip(nodes, texts, strict=False)},
    )
    before = {k: t.text for k, t in services.translations_of(plan, "en").items()}
    data = po_files.export_po(plan, version, "en")
    for translation in services.translations_of(plan, "en").values():
        session.delete(translation)
    session.flush()
    report = po_files.import_po(translator, plan, "en", data, replace=False)
    assert report.rejected == 0
    assert {k: t.text for k, t in services.translations_of(plan, "en").items()} == before
    for translation in services.translations_of(plan, "en").values():
        session.delete(translation)
    session.flush()


def test_bad_po_files_are_refused_or_reported_never_applied_silently(session, plan, translator):
    version = plans.get_version(plan)
    with pytest.raises(InvalidInput):
        po_files.import_po(translator, plan, "pt", b"\x00\x01 not a po file \xff", replace=False)
    with pytest.raises(InvalidInput, match="translation into English"):
        po_files.import_po(
            translator, plan, "pt", po_files.export_po(plan, version, "en"), replace=False
        )
    translate(translator, plan, "pt", **{"1_2": "Criar observatórios."})
    catalog = po_catalog(po_files.export_po(plan, version, "pt"))
    by_ref = {m.auto_comments[0].split(" ")[0]: m for m in catalog if m.id}
    by_ref["1.1"].string = "Source changed underneath."
    by_ref["1.1"].id = "Un texto fuente que ya no existe."
    by_ref["1.2"].string = "Uma tradução diferente."  # differs from the existing one
    by_ref["2.1"].string = "Publicar um boletim."
    by_ref["2.1"].flags.add("fuzzy")
    catalog.add("Algo", "Algo", context="nosuchkey")
    report = po_files.import_po(translator, plan, "pt", po_bytes(catalog), replace=False)
    reasons = {row.subject: row.message for row in report.rows if not row.ok}
    assert set(reasons) == {"1.1", "1.2", "2.1", "nosuchkey"}
    assert "not the current one" in reasons["1.1"]
    assert "kept" in reasons["1.2"]
    assert "fuzzy" in reasons["2.1"]
    assert (
        services.translations_of(plan, "pt")[node(plan, "1.2").key].text == "Criar observatórios."
    )
    replaced = po_files.import_po(translator, plan, "pt", po_bytes(catalog), replace=True)
    assert replaced.imported == 1
    assert (
        services.translations_of(plan, "pt")[node(plan, "1.2").key].text
        == "Uma tradução diferente."
    )


def test_the_import_page_answers_a_bad_file_with_400(client, plan, translator):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, translator)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/translations/pt/import"
    response = client.post(
        url,
        data={"file": (io.BytesIO(b"\xff\xfegarbage"), "plan.po")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not a PO file" in response.get_data(as_text=True)
    assert client.post(url, data={}, content_type="multipart/form-data").status_code == 400


def test_the_po_download_is_a_po_file(client, plan):
    response = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/translations/en.po")
    assert response.status_code == 200
    assert 'msgctxt "' in response.get_data(as_text=True)


# --- amendments and the approval vote ---------------------------------------------------------


def test_an_amendment_carries_translations_of_its_text(client, session, make, forum, plan):
    author = make.member(forum, locale="en").user
    plan.open_for_input = True
    amendment = proposing.propose(
        author,
        plan,
        target=node(plan, "1.1").key,
        operation="replace",
        text="Impulsar la ratificación.",
        submit=True,
    )
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, author)
    url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    saved = client.post(
        url + "/translations", data={"language": "pt", "text": "Impulsionar a ratificação."}
    )
    assert saved.status_code == 302
    assert "Impulsionar a ratificação." in page_text(client.get(url))
    refused = client.post(url + "/translations", data={"language": "es", "text": "Otra."})
    assert refused.status_code == 400
    other = make.member(forum).user
    with pytest.raises(PermissionDenied):
        translations.translate_amendment(other, amendment, "en", "Push ratification.")
    deletion = proposing.propose(
        author, plan, target=node(plan, "1.2").key, operation="delete", submit=True
    )
    with pytest.raises(Conflict):
        translations.translate_amendment(author, deletion, "pt", "Nada.")


def test_the_approval_vote_shows_how_complete_each_translation_is(
    client, session, make, forum, plan, facilitator, translator
):
    translate(translator, plan, "pt", **{"1_1": "Um."})
    delegate = make.member(forum)
    delegate.is_delegate = True
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=utcnow(),
        closes_at=utcnow() + timedelta(days=1),
    )
    session.commit()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, facilitator)
    text = page_text(client.get(f"/forums/{forum.slug}/polls/{poll.id}"))
    total = len(plans.version_nodes(plans.get_version(plan)))
    assert f"{int(100 / total)} % translated" in text


def test_an_amendment_records_the_language_it_is_written_in(client, session, make, forum, plan):
    from consult.amendments.models import Amendment

    author = make.member(forum, locale="pt").user
    plan.open_for_input = True
    session.commit()
    sign_in(client, author)
    key = node(plan, "1.1").key
    url = f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/amend"
    form = client.get(url).get_data(as_text=True)
    assert '<option selected value="es">' in form  # the plan's language by default
    response = client.post(
        url,
        data={
            "operation": "replace",
            "text": "Promover a ratificação.",
            "language": "pt",
            "action": "submit",
            "form_token": "t1",
        },
    )
    assert response.status_code == 302
    amendment = session.scalar(select(Amendment).where(Amendment.author_id == author.id))
    assert amendment.language == "pt"
