"""Plans: import, reading, versions, editing without lost updates, comparison."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from consult.errors import Conflict, PermissionDenied
from consult.extensions import db
from consult.plans import comparing, services
from consult.plans.models import Plan, PlanNode, PlanVersion
from tests.factories import STRUCTURED, sign_in

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, STRUCTURED, open_for_input=False, filename="plan.txt")


def synthetic_plan(items: int) -> str:
    lines = ["PLAN SINTÉTICO", ""]
    for section in range(1, items // 10 + 1):
        lines += [f"SECCIÓN {section}", "", "Introducción de la sección.", ""]
        lines += [f"{n}. Acción número {n} de la sección {section}." for n in range(1, 11)]
        lines.append("")
    return "\n".join(lines)


@contextmanager
def count_statements(app):
    """Transitional, for tests/test_polls_views.py, which imports it from here:
    new tests ask for the ``count_statements`` fixture of tests/conftest.py."""
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_import_creates_version_one_with_counts_and_references(plan, session):
    version = plan.current_version
    assert (version.number, version.origin) == (1, "import")
    assert (version.section_count, version.item_count, version.footnote_count) == (5, 8, 2)
    assert services.find_node(version, "2.A.1").text.startswith("Defender la Convención")
    with pytest.raises(services.NotFound):
        services.find_node(version, "9.9")


def test_members_cannot_import_or_edit(client, make, forum, plan):
    member = make.member(forum, locale="en").user
    sign_in(client, member)
    assert client.get(f"/forums/{forum.slug}/plans/import").status_code == 403
    response = client.post(
        f"/forums/{forum.slug}/plans/import",
        data={"text": STRUCTURED, "language": "es", "action": "save"},
    )
    assert response.status_code == 403
    node = services.find_node(plan.current_version, "1.1")
    url = f"/forums/{forum.slug}/plans/{plan.id}/nodes/{node.key}/edit"
    assert client.post(url, data={"text": "Changed", "base_version": 1}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.edit_node(member, plan, plan.current_version, node.key, "Changed")


def test_import_preview_shows_structure_and_warnings_then_saves(
    client, session, forum, facilitator
):
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/plans/import"
    preview = client.post(url, data={"text": STRUCTURED, "language": "es", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Detected structure" in html and "item 3 follows item 1" in html
    assert "PLAN DE ACCIÓN DE LA RED DE COALICIONES 2026" in html  # the text stays in the form
    assert session.scalar(select(func.count()).select_from(Plan)) == 0
    saved = client.post(url, data={"text": STRUCTURED, "language": "es", "action": "save"})
    assert saved.status_code == 302
    assert session.scalar(select(func.count()).select_from(Plan)) == 1


def test_empty_import_is_refused_with_the_form_kept(client, forum, facilitator):
    sign_in(client, facilitator)
    response = client.post(
        f"/forums/{forum.slug}/plans/import",
        data={"title": "Mi plan", "text": "   ", "language": "es", "action": "save"},
    )
    assert response.status_code == 400
    assert 'value="Mi plan"' in response.get_data(as_text=True)


def test_upload_of_an_unknown_file_type_is_refused(client, forum, facilitator):
    from io import BytesIO

    sign_in(client, facilitator)
    response = client.post(
        f"/forums/{forum.slug}/plans/import",
        data={"file": (BytesIO(b"%PDF-1.4"), "plan.pdf"), "language": "es", "action": "preview"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose a .txt, .md or .docx file." in response.get_data(as_text=True)


def test_plan_page_shows_every_item_with_reference_anchor_and_line_numbers(
    client, make, forum, plan
):
    sign_in(client, make.member(forum, locale="en").user)
    html = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert 'id="ref-2.A.1"' in html and 'href="#ref-2.A.1"' in html
    assert "Defender la Convención de la UNESCO" in html
    assert '<span class="ln" aria-hidden="true">1</span>' in html


def test_private_plan_is_invisible_to_outsiders(client, make, forum, plan):
    outsider = make.member(make.forum(), locale="en").user
    sign_in(client, outsider)
    for path in ("/", "/history", "/export/md", "/compare?from=1&to=1"):
        assert client.get(f"/forums/{forum.slug}/plans/{plan.id}{path}").status_code == 404


def test_plan_page_queries_do_not_grow_with_the_plan(
    client, make, session, forum, count_statements, pages_built_each_time
):
    small = services.import_plan(None, forum, synthetic_plan(20))
    large = services.import_plan(None, forum, synthetic_plan(2000))
    session.commit()
    assert large.current_version.item_count == 2000
    sign_in(client, make.member(forum, locale="en").user)
    counts = []
    for plan in (small, large):
        with count_statements() as seen:
            assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_editing_an_item_creates_a_new_version_and_keeps_the_old(session, forum, facilitator, plan):
    v1 = plan.current_version
    node = services.find_node(v1, "1.1")
    v2 = services.edit_node(facilitator, plan, v1, node.key, "Promover la cooperación hemisférica.")
    session.commit()
    assert (v2.number, v2.origin, plan.current_version_id) == (2, "edit", v2.id)
    assert services.find_node(v2, "1.1").text == "Promover la cooperación hemisférica."
    assert services.find_node(v2, "1.1").key == node.key
    assert services.find_node(v1, "1.1").text.startswith("Promover la cooperación regional")


def test_two_facilitators_editing_the_same_version_cannot_overwrite_each_other(
    client, session, forum, facilitator, plan
):
    node = services.find_node(plan.current_version, "1.1")
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/plans/{plan.id}/nodes/{node.key}/edit"
    first = client.post(url, data={"text": "Primera versión del texto.", "base_version": 1})
    assert first.status_code == 302
    second = client.post(url, data={"text": "Segunda, escrita a la vez.", "base_version": 1})
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Segunda, escrita a la vez." in html and "Primera versión del texto." in html
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PlanVersion)) == 2


def test_stale_base_version_is_a_conflict_in_the_service(session, forum, facilitator, plan):
    v1 = plan.current_version
    node = services.find_node(v1, "1.1")
    services.edit_node(facilitator, plan, v1, node.key, "Uno.")
    with pytest.raises(Conflict):
        services.edit_node(facilitator, plan, v1, node.key, "Dos.")


def test_whole_text_edit_keeps_keys_of_unchanged_and_renumbered_items(session, facilitator, plan):
    from consult.plans.markdown import to_markdown

    v1 = plan.current_version
    before = {node.ref: node.key for node in services.version_nodes(v1)}
    text = to_markdown(v1.title, services.version_nodes(v1))
    text = text.replace(
        "Fortalecer el Foro permanente.", "Fortalecer el Foro permanente y su secretaría."
    )
    v2 = services.replace_text(facilitator, plan, v1, text, "Ajustes")
    after = {node.ref: node.key for node in services.version_nodes(v2)}
    assert after == before  # same text → same key; changed text, same reference → same key
    assert services.find_node(v2, "2.B.1").text.endswith("y su secretaría.")


def test_approved_plans_are_read_only(session, facilitator, plan):
    plan.status = "approved"
    session.commit()
    node = services.find_node(plan.current_version, "1.1")
    with pytest.raises(Conflict):
        services.edit_node(facilitator, plan, plan.current_version, node.key, "Nuevo.")


def test_compare_follows_items_by_key(session, facilitator, plan):
    v1 = plan.current_version
    nodes = services.version_nodes(v1)
    from consult.plans.markdown import to_markdown

    text = to_markdown(v1.title, nodes)
    text = text.replace("1. Fortalecer el Foro permanente.\n", "")  # removed
    text = text.replace(
        "Los facilitadores informarán a la asamblea.",
        "Los facilitadores informarán a la asamblea cada seis meses.",
    )  # changed
    text = text.replace(
        "## Seguimiento\n", "## Seguimiento\n\nNuevo párrafo de seguimiento.\n"
    )  # added
    v2 = services.replace_text(facilitator, plan, v1, text)
    changes = comparing.compare(v1, v2)
    by_status = {}
    for change in changes:
        by_status.setdefault(change.status, []).append(change.node.text)
    assert by_status["removed"] == ["Fortalecer el Foro permanente."]
    assert by_status["added"] == ["Nuevo párrafo de seguimiento."]
    assert by_status["changed"] == ["Los facilitadores informarán a la asamblea cada seis meses."]
    changed = next(c for c in changes if c.status == "changed")
    assert "<ins>" in changed.diff and "seis meses" in changed.diff
    log = comparing.changelog_markdown(plan, v1, v2, changes)
    assert "Fortalecer el Foro permanente." in log and "cada seis meses" in log


def test_compare_page_and_change_log_download(client, session, make, forum, facilitator, plan):
    node = services.find_node(plan.current_version, "1.1")
    services.edit_node(facilitator, plan, plan.current_version, node.key, "Texto <b>nuevo</b>.")
    session.commit()
    sign_in(client, make.member(forum, locale="en").user)
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/compare?from=1&to=2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<ins>" in html and "&lt;b&gt;nuevo&lt;/b&gt;" in html
    download = client.get(f"/forums/{forum.slug}/plans/{plan.id}/compare?from=1&to=2&format=md")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "Texto <b>nuevo</b>." in download.get_data(as_text=True)
    assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/compare?from=abc").status_code == 400
    assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/compare?from=7").status_code == 404


def test_markdown_export_reimports_to_the_same_tree(client, make, session, forum, plan):
    sign_in(client, make.member(forum, locale="en").user)
    exported = client.get(f"/forums/{forum.slug}/plans/{plan.id}/export/md")
    assert exported.status_code == 200
    again = services.import_plan(None, forum, exported.get_data(as_text=True))

    def shape(version):
        return [(n.kind, n.number, n.text, n.ref, n.depth) for n in services.version_nodes(version)]

    assert shape(again.current_version) == shape(plan.current_version)


def test_cli_import_prints_the_counts_last(app, session, forum, tmp_path):
    source = tmp_path / "plan.txt"
    source.write_text(STRUCTURED, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["plans", "import", str(source), "--forum", forum.slug]
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    plan_id = session.scalar(select(func.max(Plan.id)))
    assert last == f"plan={plan_id} sections=5 items=8 footnotes=2"
    show = app.test_cli_runner().invoke(args=["plans", "show", str(plan_id)])
    assert "2.A.1" in show.output
    assert session.scalar(select(func.count()).select_from(PlanNode)) > 0
