"""The privacy notice and the terms of use: written by a platform administrator
in each language, read by everyone in theirs, a shipped default until then."""

import html

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from consult.audit.models import AuditEvent
from consult.inputs import _nul_message
from consult.legal import documents
from consult.tokens import make_token
from tests.factories import sign_in

PT_NOTICE = "Aviso de privacidade da Rede de Coalizões: guardamos apenas o seu e-mail."


@pytest.fixture(autouse=True)
def legal_folder(app, tmp_path, monkeypatch):
    """Each test writes its texts in a folder of its own."""
    monkeypatch.setitem(app.config, "INSTANCE_DIR", str(tmp_path))
    return tmp_path / "legal"


@pytest.fixture
def admin(make):
    return make.user(admin=True, locale="pt")


def form(**texts):
    return {lang: texts.get(lang, "") for lang in ("es", "en", "pt")}


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def read_in(client, lang):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang


def in_language(app, lang, message):
    with app.test_request_context(), force_locale(lang):
        return message()


def test_admin_writes_the_privacy_notice_in_portuguese_and_a_portuguese_reader_sees_it(
    app, client, make, admin, legal_folder
):
    sign_in(client, admin)
    response = client.post("/admin/legal/privacy", data=form(pt=PT_NOTICE))
    assert response.status_code == 302
    assert (legal_folder / "privacy.pt.md").read_text(encoding="utf-8").strip() == PT_NOTICE
    client.post("/sign-out")

    reader = make.user(locale="pt")
    sign_in(client, reader)
    shown = page_text(client.get("/privacy"))
    assert PT_NOTICE in shown
    assert "For administrators" not in shown and "Para administradores" not in shown

    # The other languages keep their default text.
    client.post("/sign-out")
    read_in(client, "es")
    spanish = page_text(client.get("/privacy"))
    assert PT_NOTICE not in spanish
    assert "Este aviso explica qué datos" in spanish


def test_the_change_is_in_the_audit_log_on_the_administrators_account(client, admin, session):
    sign_in(client, admin)
    client.post("/admin/legal/terms", data=form(pt="Termos.", en="Terms."))
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "legal_text.changed")
    ).one()
    assert (event.object_type, event.object_id, event.actor_id) == ("User", admin.id, admin.id)
    assert event.details == {"document": "terms", "languages": ["en", "pt"]}


def test_markdown_is_rendered_safely(client, admin):
    sign_in(client, admin)
    source = "# Quem somos\n\nTexto com **negrito**.\n\n<script>alert(1)</script>"
    client.post("/admin/legal/terms", data=form(pt=source))
    body = client.get("/terms").get_data(as_text=True)
    assert "<strong>negrito</strong>" in body
    assert "<script>alert(1)</script>" not in body


def test_the_default_shows_when_none_is_written_and_admins_are_told_it_is_a_template(
    client, make, admin
):
    read_in(client, "en")
    for document, opening in (
        ("privacy", "This notice explains what this platform keeps"),
        ("terms", "These terms are the rules for using this platform"),
    ):
        shown = page_text(client.get(f"/{document}"))
        assert opening in shown
        assert "template" not in shown  # members are not told about the template

    sign_in(client, admin)  # reads Portuguese
    for document in documents.DOCUMENTS:
        shown = page_text(client.get(f"/{document}"))
        assert "modelo" in shown or "template" in shown.lower()
        assert f"/admin/legal/{document}" in shown


def test_an_empty_text_brings_the_default_back(client, admin, legal_folder):
    sign_in(client, admin)
    client.post("/admin/legal/privacy", data=form(pt=PT_NOTICE))
    assert (legal_folder / "privacy.pt.md").exists()
    client.post("/admin/legal/privacy", data=form(pt=""))
    assert not (legal_folder / "privacy.pt.md").exists()
    assert PT_NOTICE not in page_text(client.get("/privacy"))


def test_saving_the_defaults_unchanged_writes_nothing(client, admin, legal_folder):
    sign_in(client, admin)
    shown = client.get("/admin/legal/terms")
    assert shown.status_code == 200
    defaults = {lang: documents.text_for("terms", lang).source for lang in ("es", "en", "pt")}
    assert client.post("/admin/legal/terms", data=form(**defaults)).status_code == 302
    assert not legal_folder.exists() or not any(legal_folder.iterdir())


@pytest.mark.parametrize("role", ["member", "facilitator", "admin"])
def test_only_platform_administrators_may_edit(client, make, role, legal_folder):
    forum = make.forum()
    user = make.member(forum, role=role).user  # "admin": of the forum, not the platform
    sign_in(client, user)
    assert client.get("/admin/legal").status_code == 403
    assert client.get("/admin/legal/privacy").status_code == 403
    response = client.post("/admin/legal/privacy", data=form(pt=PT_NOTICE))
    assert response.status_code == 403
    assert not legal_folder.exists()


def test_a_text_too_long_is_refused_with_a_translated_message_and_kept(
    app, client, admin, legal_folder
):
    sign_in(client, admin)
    too_long = "Texto " + "a" * documents.MAX_LENGTH
    response = client.post("/admin/legal/privacy", data=form(pt=too_long, es="Aviso en español."))
    assert response.status_code == 400
    shown = page_text(response)
    assert in_language(app, "pt", documents.too_long_message) in shown
    assert too_long in shown  # what was typed is shown back
    assert "Aviso en español." in shown
    assert not legal_folder.exists()


def test_a_nul_character_is_refused_with_a_translated_message_and_the_text_kept(
    app, client, admin, legal_folder
):
    sign_in(client, admin)
    response = client.post("/admin/legal/privacy", data=form(pt="Aviso com um\x00caractere nulo."))
    assert response.status_code == 400
    shown = page_text(response)
    assert in_language(app, "pt", _nul_message) in shown
    assert "Aviso com umcaractere nulo." in shown
    assert not legal_folder.exists()


def test_the_invitation_page_links_to_the_terms_and_the_privacy_notice(app, client, make):
    from consult.forums import invitations

    forum = make.forum()
    facilitator = make.facilitator(forum)
    with app.test_request_context():
        invitation = invitations.send_invitation(
            facilitator, forum, make.user(password=None, locale="pt")
        )
        token = make_token("invitation", {"i": invitation.id})
    make.session.commit()
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 200
    # In the form where the account is created, not only in the footer.
    main = response.get_data(as_text=True).split('<main id="main"')[1].split("</main>")[0]
    form = main.split('<form method="post" class="narrow"')[1].split("</form>")[0]
    assert 'href="/terms"' in form and 'href="/privacy"' in form
