"""Search: relevance on the sample plans (accents and case folded, in es and pt),
what each reader may find, filters, pagination, the index kept up to date on
write, the page's escaping and its constant number of statements."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask_login import AnonymousUserMixin
from sqlalchemy import delete, func, select, text

from consult.amendments import lifecycle, plan_settings, proposing
from consult.comments import moderation
from consult.comments import services as comments
from consult.plans import services as plans
from consult.search import index
from consult.search.models import SearchDocument
from consult.search.services import SearchFilters, highlight, parse_query, search
from tests.factories import sign_in

DATA = Path(__file__).parent / "data"
PORTUGUESE = (DATA / "plano-de-acao.pt.txt").read_text()


pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def member(make, forum):
    """A member who reads Spanish."""
    return make.member(forum).user


@pytest.fixture
def plano(make, forum):
    return make.plan(forum, PORTUGUESE, language="pt")


def texts(page) -> list[str]:
    return [str(hit.snippet) for hit in page.hits]


def first_text(page) -> str:
    assert page.hits, "nothing found"
    return str(page.hits[0].snippet)


def found(user, query, **filters) -> set[tuple[str, int]]:
    page = search(user, query, SearchFilters(**filters), per_page=50)
    return {(hit.kind, hit.object_id) for hit in page.hits}


def key_of(plan, ref):
    return plans.find_node(plan.current_version, ref).key


# --- relevance --------------------------------------------------------------------


@pytest.mark.parametrize("query", ["participacion", "PARTICIPACIÓN", "participación"])
def test_spanish_words_are_found_with_or_without_accents_and_capitals(member, plan, query):
    page = search(member, query)
    assert page.total >= 1
    assert "<mark>participación</mark>" in first_text(page)


@pytest.mark.parametrize("query", ["participacao", "Participação", "PARTICIPACAO"])
def test_portuguese_words_are_found_with_or_without_accents_and_capitals(member, plano, query):
    page = search(member, query)
    assert page.total == 2  # the heading and the item
    # The section named after the word comes first: titles weigh more.
    assert (page.hits[0].ref, page.hits[0].title) == ("1", "PARTICIPAÇÃO")
    assert any("<mark>participação</mark>" in text for text in texts(page))


def test_an_accented_query_finds_unaccented_text_too(member, forum, plano):
    page = search(member, "educação básica")
    assert page.total == 1
    assert "currículos" in first_text(page)


def test_every_word_must_be_found_and_quotes_keep_words_together(member, plan):
    assert search(member, "convencion unesco").total == 1
    assert search(member, "convencion inexistente").total == 0
    assert search(member, '"foros internacionales"').total == 1  # "inter-\nnacionales" joined
    assert search(member, '"comunidades locales"').total == 1
    assert search(member, '"locales comunidades"').total == 0


def test_stemming_in_the_content_language_on_postgresql(backend, member, plan, plano):
    if backend != "postgresql":
        pytest.skip("SQLite's FTS5 has no Spanish or Portuguese stemmer")
    assert search(member, "coalicion").total >= 1  # "coaliciones"
    assert search(member, "comunidade").total >= 1  # "comunidades"
    assert search(member, "publicar").total >= 1  # "publique" (es) / "Publicar" (pt)


def test_queries_with_operators_or_broken_syntax_are_words_to_find(member, plan):
    for query in ['"', '"unbalanced', "*", "AND OR NOT (", "NEAR(a b)", "a:b", "'; DROP", "\\"]:
        page = search(member, query)
        assert page.total >= 0
    assert parse_query('energía "foro permanente" -x') == [
        ["energía"],
        ["foro", "permanente"],
        ["x"],
    ]


def test_snippets_escape_the_text_and_mark_only_the_matches():
    marked = highlight("a <b> \ue000match\ue001 & \ue001 \ue000open")
    assert str(marked) == "a &lt;b&gt; <mark>match</mark> &amp;  <mark>open</mark>"


# --- who finds what ---------------------------------------------------------------


def test_a_private_forums_content_is_found_by_its_members_only(make, forum, member, plan):
    outsider = make.member(make.forum()).user
    admin = make.user(admin=True)
    assert search(member, "participacion").total == 1
    assert search(admin, "participacion").total == 1
    assert search(outsider, "participacion").total == 0
    assert search(AnonymousUserMixin(), "participacion").total == 0


def test_anonymous_visitors_find_public_forums_content_only(client, make):
    public, private = make.forum(public=True), make.forum()
    plans.import_plan(None, public, "Plan\n\n1. Bibliotecas públicas itinerantes.\n")
    plans.import_plan(None, private, "Plan\n\n1. Bibliotecas comunitarias secretas.\n")
    make.session.commit()
    html = client.get("/search?q=bibliotecas").get_data(as_text=True)
    assert "itinerantes" in html and "secretas" not in html


def test_drafts_are_found_by_their_authors_only(make, session, forum, member, plan):
    other = make.member(forum).user
    draft = proposing.propose(
        member, plan, target=key_of(plan, "1.1"), operation="replace", text="Texto borrador único."
    )
    session.commit()
    assert found(member, "borrador único") == {("amendment", draft.id)}
    assert found(other, "borrador único") == set()
    lifecycle.submit_amendment(member, draft)
    session.commit()
    assert found(other, "borrador único") == {("amendment", draft.id)}


def test_hidden_and_deleted_comments_are_not_found(make, session, forum, member, plan):
    facilitator = make.member(forum, role="facilitator").user
    key = key_of(plan, "1.1")
    kept = comments.post_comment(
        member, forum, plan=plan, target_type="node", target_key=key, body="Murciélago visible."
    )
    hidden = comments.post_comment(
        member, forum, plan=plan, target_type="node", target_key=key, body="Murciélago oculto."
    )
    deleted = comments.post_comment(
        member, forum, plan=plan, target_type="node", target_key=key, body="Murciélago borrado."
    )
    session.commit()
    moderation.hide_comment(facilitator, hidden, "Off topic.")
    comments.delete_comment(member, deleted)
    session.commit()
    for reader in (member, facilitator):
        assert found(reader, "murcielago") == {("comment", kept.id)}
    moderation.restore_comment(facilitator, hidden)
    session.commit()
    assert found(member, "murcielago") == {("comment", kept.id), ("comment", hidden.id)}


# --- filters and pages ------------------------------------------------------------


def test_filters_by_kind_plan_working_group_and_status(make, session, forum, member, plan, plano):
    facilitator = make.member(forum, role="facilitator").user
    group = make.group(forum, "Energía")
    section = plans.find_node(plan.current_version, "1")
    plan_settings.assign_section(None, plan, section.key, group.id)
    amendment = proposing.propose(
        facilitator,
        plan,
        target=key_of(plan, "1.1"),
        operation="replace",
        text="Promover la cooperación regional en energías limpias.",
        submit=True,
    )
    session.commit()
    everything = found(member, "promover")
    assert {kind for kind, _id in everything} == {"node", "amendment"}
    assert found(member, "promover", kinds=("amendment",)) == {("amendment", amendment.id)}
    in_plan = found(member, "promover", plan_id=plano.id)
    assert in_plan and all(kind == "node" for kind, _id in in_plan)
    in_group = search(member, "promover", SearchFilters(group_id=group.id)).hits
    assert {hit.ref for hit in in_group} == {"1.1"}
    assert found(member, "promover", status="submitted") == {("amendment", amendment.id)}
    assert found(member, "promover", status="accepted") == set()


def test_results_come_in_pages(session, forum, member):
    lines = ["Plan", ""] + [f"{n}. Acción de lectura número {n}." for n in range(1, 31)]
    plans.import_plan(None, forum, "\n".join(lines))
    session.commit()
    first = search(member, "lectura", per_page=20)
    second = search(member, "lectura", page=2, per_page=20)
    assert (first.total, first.pages, len(first.hits), len(second.hits)) == (30, 2, 20, 10)
    assert not {h.object_id for h in first.hits} & {h.object_id for h in second.hits}
    assert search(member, "lectura", page=99, per_page=20).page == 2


# --- the index follows the writes -------------------------------------------------


def test_a_new_version_replaces_the_old_items_in_the_index(session, forum, member, plan):
    node = plans.find_node(plan.current_version, "1.1")
    plans.edit_node(None, plan, plan.current_version, node.key, "Promover la energía geotérmica.")
    session.commit()
    assert search(member, "geotermica").total == 1
    assert search(member, "renovables").total == 0
    node_count = len(plans.version_nodes(plan.current_version))
    assert (
        session.scalar(
            select(func.count()).select_from(SearchDocument).where(SearchDocument.kind == "node")
        )
        == node_count
    )


def test_reindex_rebuilds_a_lost_index(app, session, member, plan):
    session.execute(delete(SearchDocument))
    session.commit()
    assert search(member, "participacion").total == 0
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(app.cli, ["search", "reindex"], catch_exceptions=False)
    assert "search index rebuilt" in result.output
    assert search(member, "participacion").total == 1


def test_without_unaccent_accents_are_folded_in_python(backend, monkeypatch, session, member, plan):
    if backend != "postgresql":
        pytest.skip("only PostgreSQL depends on an extension for this")
    monkeypatch.setattr(index, "accents_folded_by_database", lambda connection: False)
    index.reindex_all(session.connection())
    session.commit()
    assert search(member, "participacion").total == 1
    assert search(member, "PARTICIPACIÓN").total == 1


# --- the page ---------------------------------------------------------------------


def test_the_search_page_shows_escaped_highlighted_snippets(
    backend, client, session, forum, member, plan
):
    comments.post_comment(
        member,
        forum,
        plan=plan,
        target_type="node",
        target_key=key_of(plan, "1.1"),
        body="Ojo: <script>alert('participación')</script>",
    )
    session.commit()
    sign_in(client, member)
    response = client.get(f"/search?q=participacion&forum={forum.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html or backend == "postgresql"  # PostgreSQL drops < and >
    assert "<mark>participación</mark>" in html


def test_the_search_page_refuses_bad_filters_and_hides_private_forums(client, make, forum, plan):
    assert client.get("/search?q=x&type=secret").status_code == 400
    assert client.get("/search?q=x&page=abc").status_code == 400
    assert client.get(f"/search?q=x&forum={forum.slug}").status_code == 404


def test_the_search_page_costs_the_same_statements_for_more_results(
    client, session, forum, member, count_statements
):
    sign_in(client, member)
    counts = []
    for size in (3, 20):
        lines = ["Plan", ""] + [f"{n}. Tejido cultural {size}-{n}." for n in range(1, size + 1)]
        plans.import_plan(None, forum, "\n".join(lines))
        session.commit()
        with count_statements() as seen:
            response = client.get(f"/search?q=tejido&forum={forum.slug}")
        assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_an_edited_comment_is_found_by_its_new_words_only(backend, session, forum, member, plan):
    note = comments.post_comment(
        member,
        forum,
        plan=plan,
        target_type="node",
        target_key=key_of(plan, "1.1"),
        body="Primera redacción con girasoles.",
    )
    session.commit()
    comments.edit_comment(member, note, "Segunda redacción con amapolas.")
    session.commit()
    assert search(member, "girasoles").total == 0
    assert found(member, "amapolas") == {("comment", note.id)}
    if backend == "sqlite":
        # The FTS5 table agrees with its content table after the updates.
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))


def test_indexing_the_same_plan_twice_changes_nothing(session, member, plan):
    before = session.execute(
        select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.body).order_by(
            SearchDocument.kind, SearchDocument.object_id
        )
    ).all()
    index.reindex_plan(session.connection(), plan.id)
    index.reindex_plan(session.connection(), plan.id)
    after = session.execute(
        select(SearchDocument.kind, SearchDocument.object_id, SearchDocument.body).order_by(
            SearchDocument.kind, SearchDocument.object_id
        )
    ).all()
    assert before == after and len(after) > 20
    assert search(member, "participacion").total == 1
