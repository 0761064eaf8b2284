"""What the security suite of issue 10 asks for beyond tests/test_security.py:
the XSS corpus through every free-text field (not only comments, which
tests/test_comments.py covers), and the upload limits (type and size) of
every import."""

from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select

from consult.amendments import lifecycle, proposing
from consult.amendments.models import Amendment
from consult.consultations.services import PhaseInput, create_consultation
from consult.database import utcnow
from consult.forums import groups as forum_groups
from consult.forums import services as forums
from consult.forums.models import Membership
from consult.plans import services as plans
from consult.plans.models import Plan
from consult.votes import setup as votes_setup
from tests.factories import sign_in
from tests.test_richtext import XSS_PAYLOADS, assert_safe_html

XSS = '"><svg onload=alert(1)>'
XSS_ESCAPED = "&#34;&gt;&lt;svg onload=alert(1)&gt;"
CORPUS = "\n".join(XSS_PAYLOADS)
PLAN_TEXT = "PLAN DE PRUEBA\n\nSECCIÓN UNO\n\n1. Primer punto.\n2. Segundo punto.\n"


def main_html(response) -> str:
    html = response.get_data(as_text=True)
    start = html.find("<main")
    return html[start : html.find("</main>")] if start >= 0 else html


@pytest.fixture
def hostile_forum(make, session):
    """Every free-text field a facilitator or member fills, filled with the corpus."""
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator", locale="en").user
    delegate = make.member(forum, locale="en", name=XSS)
    delegate.is_delegate = True
    author = delegate.user
    forum_groups.save_group(None, forum, XSS, description=CORPUS)
    forums.save_coalition(None, forum, XSS, "CO")
    plan = plans.import_plan(facilitator, forum, PLAN_TEXT + "3. " + XSS + "\n")
    plan.open_for_input = True
    session.flush()
    key = next(n.key for n in plans.version_nodes(plan.current_version) if n.kind == "item")
    amendment = proposing.propose(
        author, plan, target=key, operation="replace", text=CORPUS, justification=CORPUS
    )
    lifecycle.submit_amendment(author, amendment)
    lifecycle.decide(facilitator, amendment, "admitted", reason=XSS)
    waiting = proposing.propose(author, plan, target=key, operation="delete", justification=XSS)
    lifecycle.submit_amendment(author, waiting)  # for the triage page
    now = utcnow()
    consultation = create_consultation(
        facilitator,
        plan,
        title=XSS,
        description=CORPUS,
        phases=[PhaseInput("amendments", now - timedelta(days=1), now + timedelta(days=9))],
    )
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="amendment",
        scope="assembly",
        amendment=amendment,
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=2),
        settings=votes_setup.PollSettings(title=XSS, description=CORPUS),
    )
    session.commit()
    slug = forum.slug
    return {
        "facilitator": facilitator,
        "pages": [
            f"/forums/{slug}/",
            f"/forums/{slug}/groups/{forum_groups.list_groups(forum)[0][0].slug}",
            f"/forums/{slug}/manage/coalitions",
            f"/forums/{slug}/plans/{plan.id}/",
            f"/forums/{slug}/plans/{plan.id}/items/{key}/",
            f"/forums/{slug}/plans/{plan.id}/amendments/",
            f"/forums/{slug}/plans/{plan.id}/amendments/triage",
            f"/forums/{slug}/amendments/{amendment.id}",
            f"/forums/{slug}/consultations/{consultation.id}",
            f"/forums/{slug}/consultations/{consultation.id}/dashboard",
            f"/forums/{slug}/polls/",
            f"/forums/{slug}/polls/{poll.id}",
        ],
    }


def test_script_vectors_in_every_free_text_field_are_shown_as_text(client, hostile_forum):
    sign_in(client, hostile_forum["facilitator"])
    for path in hostile_forum["pages"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = main_html(response)
        assert_safe_html(html, allowed_tags={"form", "svg"})  # the dashboard's own charts
        assert "<svg onload" not in html, path
        assert XSS_ESCAPED in html or "&lt;script&gt;" in html, path


# --- imports: type and size ------------------------------------------------------------

NOT_CSV = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
NOT_DOCX = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n"


@pytest.fixture
def importer(client, make, session):
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator", locale="en").user
    plan = plans.import_plan(facilitator, forum, PLAN_TEXT)
    session.commit()
    sign_in(client, facilitator)
    return forum, plan


IMPORTS = {
    # route, form fields, the file's field name, what the import would add
    "plan": ("/forums/{slug}/plans/import", {"language": "es", "action": "save"}, Plan),
    "members": ("/forums/{slug}/manage/members/import", {}, Membership),
    "amendments": ("/forums/{slug}/plans/{plan_id}/amendments/import", {}, Amendment),
}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("name", "filename", "content"),
    [
        ("plan", "plan.docx", NOT_DOCX),
        ("plan", "plan.exe", b"MZ\x90\x00"),
        ("members", "members.csv", NOT_CSV),
        ("amendments", "amendments.csv", NOT_CSV),
    ],
)
def test_an_import_refuses_a_file_that_is_not_of_its_type(
    client, session, importer, name, filename, content
):
    forum, plan = importer
    route, fields, model = IMPORTS[name]
    before = count(session, model)
    response = client.post(
        route.format(slug=forum.slug, plan_id=plan.id),
        data={**fields, "file": (BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert count(session, model) == before
    assert (
        response.get_data(as_text=True).count('class="flash')
        + response.get_data(as_text=True).count('class="error')
        >= 1
    ), "the page says why"


@pytest.mark.parametrize("name", IMPORTS)
def test_an_import_over_the_size_limit_is_refused_with_a_413(
    app, client, session, importer, monkeypatch, name
):
    forum, plan = importer
    route, fields, model = IMPORTS[name]
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    before = count(session, model)
    big = b"nombre,correo\n" + b"a" * (128 * 1024)
    response = client.post(
        route.format(slug=forum.slug, plan_id=plan.id),
        data={**fields, "file": (BytesIO(big), "big.csv" if name != "plan" else "big.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert count(session, model) == before
