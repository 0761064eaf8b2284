"""Three interface languages: how one is chosen, and complete catalogs."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from consult.catalogs import problems
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parent.parent
HEADINGS = {
    "es": "Escribamos juntos el plan de acción",
    "en": "Write the plan of action together",
    "pt": "Escrevamos juntos o plano de ação",
}


def heading(response) -> str:
    html = response.get_data(as_text=True)
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_home_page_follows_the_browser_language(client, language):
    response = client.get("/", headers={"Accept-Language": f"{language};q=0.9, de;q=0.5"})
    assert heading(response) == HEADINGS[language]
    assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_spanish_is_the_default(client):
    assert heading(client.get("/", headers={"Accept-Language": "de, fr"})) == HEADINGS["es"]
    assert heading(client.get("/")) == HEADINGS["es"]


def test_language_switch_is_kept_in_the_session(client):
    response = client.post("/language", data={"locale": "pt", "next": "/"})
    assert response.status_code == 302
    assert heading(client.get("/", headers={"Accept-Language": "en"})) == HEADINGS["pt"]


def test_member_preference_wins_over_the_browser(client, make):
    user = make.user(locale="pt")
    sign_in(client, user)
    assert heading(client.get("/", headers={"Accept-Language": "en"})) == HEADINGS["pt"]


def test_switching_language_when_signed_in_saves_the_preference(client, make, session):
    user = make.user(locale="es")
    sign_in(client, user)
    client.post("/language", data={"locale": "en"})
    session.expire_all()
    assert session.get(type(user), user.id).locale == "en"


@pytest.mark.parametrize("garbage", ["../../etc/passwd", "xx", "", "es\r\nX: y"])
def test_unknown_language_codes_are_ignored(client, garbage):
    response = client.post("/language", data={"locale": garbage, "next": "/"})
    assert response.status_code == 302
    assert heading(client.get("/", headers={"Accept-Language": "es"})) == HEADINGS["es"]


def test_flash_messages_and_errors_are_translated(client):
    response = client.post(
        "/sign-in",
        data={"email": "x@example.org", "password": "wrong one!!"},
        headers={"Accept-Language": "pt"},
    )
    assert "O endereço de e-mail ou a senha não estão corretos." in response.get_data(as_text=True)
    missing = client.get("/forums/nothing-here/", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert "Page not found" in missing.get_data(as_text=True)


def test_dates_are_formatted_for_the_language(app):
    from datetime import date

    from flask_babel import force_locale

    with app.test_request_context(), force_locale("pt"):
        assert app.jinja_env.filters["date"](date(2008, 5, 1), "long") == "1 de maio de 2008"
    with app.test_request_context(), force_locale("en"):
        assert app.jinja_env.filters["date"](date(2008, 5, 1), "long") == "May 1, 2008"


@pytest.mark.parametrize("locale", ["es", "en", "pt"])
def test_catalog_is_complete_and_has_no_fuzzy_entries(locale):
    assert problems(locale) == []


def test_template_is_up_to_date_with_the_sources(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            Path(sys.executable).parent / "pybabel",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "ngettext:1,2",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )

    def ids(path):
        with path.open("rb") as handle:
            return {
                message.id if isinstance(message.id, str) else message.id[0]
                for message in read_po(handle)
                if message.id
            }

    assert ids(fresh) == ids(ROOT / "translations" / "messages.pot"), "run `make i18n`"
