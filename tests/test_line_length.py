"""The forum chooses the length of its plans' numbered lines (issue 14): the
page, the item page, every download and the cached text follow it, and an
export made at another length is made again."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from consult.forums import services as forums
from consult.plan_pages import exports
from consult.plans import documents, services
from consult.plans.import_lines import words
from consult.plans.layout import number_lines
from tests.factories import sign_in
from tests.test_line_layout import export_lines

STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
LINE = re.compile(r'<span class="ln" aria-hidden="true">(\d+)</span><span class="lt">([^<]*)')


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def admin(make, forum):
    return make.member(forum, role="admin", locale="en").user


@pytest.fixture
def plan(session, forum):
    plan = services.import_plan(None, forum, STRUCTURED, language="es")
    session.commit()
    return plan


def page_lines(client, forum, plan) -> dict[int, str]:
    html = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    return {int(number): text.strip() for number, text in LINE.findall(html)}


def settings(forum, **changes):
    data = {
        "name": forum.name,
        "description": forum.description,
        "default_locale": forum.default_locale,
        "line_length": "80",
        **changes,
    }
    return data


def test_the_administrator_chooses_shorter_lines_and_every_view_follows(
    app, client, session, forum, admin, plan
):
    sign_in(client, admin)
    before = page_lines(client, forum, plan)
    assert max(len(text) for text in before.values()) > 60  # the sample has long lines

    response = client.post(f"/forums/{forum.slug}/manage/", data=settings(forum, line_length="60"))
    assert response.status_code in (200, 302)
    session.refresh(forum)
    assert forum.line_length == 60

    after = page_lines(client, forum, plan)  # the cached text was not reused
    assert max(len(text) for text in after.values()) <= 60
    assert len(after) > len(before)
    nodes = services.version_nodes(plan.current_version)
    expected = {n: t for e in number_lines(nodes, 60) for n, t in e.lines}
    assert after == expected
    assert 'class="plan-layout ll-60' in client.get(
        f"/forums/{forum.slug}/plans/{plan.id}/"
    ).get_data(as_text=True)

    # The item page gives the lines the plan page numbers it with.
    last = next(e for e in reversed(number_lines(nodes, 60)) if e.node.kind == "item")
    item = client.get(f"/forums/{forum.slug}/plans/{plan.id}/items/{last.node.key}/")
    if last.first_line == last.last_line:
        assert f"Line {last.first_line}<" in item.get_data(as_text=True)
    else:
        assert f"Lines {last.first_line}\u2013{last.last_line}<" in item.get_data(as_text=True)

    # Downloads too.
    with app.test_request_context(), force_locale("en"):
        html, _type, _name = documents.render("html", plan, plan.current_version, nodes)
    lines, _refs = export_lines(html)
    assert lines == {number: words(text) for number, text in expected.items()}


def test_an_export_made_at_another_length_is_made_again(session, forum, plan):
    version = plan.current_version
    first = exports.request_export(plan, version, "html", "en")
    session.commit()
    assert first.line_length == 80
    assert exports.request_export(plan, version, "html", "en").id == first.id
    forums.update_forum(
        None,
        forum,
        name=forum.name,
        description="",
        default_locale="es",
        is_public=False,
        line_length=72,
    )
    session.commit()
    second = exports.request_export(plan, version, "html", "en")
    session.commit()
    assert second.id != first.id and second.line_length == 72


@pytest.mark.parametrize("value", ["55", "0", "100000000000000000000", "eighty"])
def test_a_length_not_offered_is_refused_with_the_form_kept(client, forum, admin, value):
    sign_in(client, admin)
    response = client.post(
        f"/forums/{forum.slug}/manage/",
        data=settings(forum, line_length=value, description="Texto que no se pierde"),
    )
    assert response.status_code == 400
    assert "Texto que no se pierde" in response.get_data(as_text=True)


def test_the_service_refuses_a_length_not_offered(session, forum):
    from consult.errors import InvalidInput

    with pytest.raises(InvalidInput):
        forums.update_forum(
            None,
            forum,
            name=forum.name,
            description="",
            default_locale="es",
            is_public=False,
            line_length=55,
        )
