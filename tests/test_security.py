"""Security behaviour: headers, cookies, CSRF, open redirects, escaping, hostile
input, size limits and error pages."""

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.extensions import db
from consult.forums.models import Coalition, WorkingGroup
from tests.conftest import make_app
from tests.factories import PASSWORD, sign_in

XSS = '"><svg onload=alert(1)>'
XSS_ESCAPED = "&#34;&gt;&lt;svg onload=alert(1)&gt;"


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:300]
    return match.group(1)


def heading(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:300]
    return match.group(1).strip()


def translated(app, locale: str, message: str) -> str:
    """What the interface says in ``locale``: not the English msgid, so the
    catalogue really is in use."""
    with app.test_request_context(), force_locale(locale):
        text = gettext(message)
    assert text != message, f"{message!r} is not translated to {locale}"
    return text


# --- headers and cookies ------------------------------------------------------


def csp_directives(header: str) -> dict:
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


# Never the full URL (with its forum slugs and tokens) to other sites.
STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin"}
STRICT_REFERRER_POLICIES.add("strict-origin-when-cross-origin")


@pytest.mark.parametrize("path", ["/", "/sign-in", "/password-reset", "/forums/missing/"])
def test_html_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    csp = csp_directives(response.headers["Content-Security-Policy"])
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, "CSP restricts no scripts"
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:"):
        assert unsafe not in scripts
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in STRICT_REFERRER_POLICIES


@pytest.mark.parametrize("path", ["/", "/sign-in", "/forums/missing/"])
def test_pages_have_no_inline_scripts_the_csp_would_block(client, path):
    html = client.get(path).get_data(as_text=True)
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make):
    response = sign_in(client, make.user())
    cookies = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("consult_session=")
    ]
    assert cookies
    attributes = {part.strip().lower() for part in cookies[-1].split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


# --- CSRF ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf_app(app):
    """The app with CSRF protection on, over the same database (the `session`
    fixture binds every session to its connection, so writes still roll back)."""
    application = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def csrf_token_in(response) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the form"
    return match.group(1)


def test_a_form_sent_without_its_csrf_token_gets_a_translated_400_page(csrf_app, session, make):
    user = make.user()
    client = csrf_app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert html_lang(response) == "es"
    assert heading(response) == translated(csrf_app, "es", "Bad request")
    expired = "The form had expired or was sent from another page. Please send it again."
    assert translated(csrf_app, "es", expired) in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302  # not signed in


def test_a_form_sent_with_the_token_from_the_page_works(csrf_app, session, make):
    user = make.user()
    client = csrf_app.test_client()
    token = csrf_token_in(client.get("/sign-in"))
    response = client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200


def test_signing_out_without_the_token_keeps_the_session(csrf_app, session, make):
    user = make.user()
    client = csrf_app.test_client()
    token = csrf_token_in(client.get("/sign-in"))
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert client.post("/sign-out").status_code == 400
    assert client.get("/profile").status_code == 200


def test_sign_out_by_get_is_not_allowed(client, make):
    sign_in(client, make.user())
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert heading(response) == translated(client.application, "es", "Action not allowed")
    assert client.get("/profile").status_code == 200


# --- open redirects ------------------------------------------------------------


OFF_SITE = [
    "https://evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/%0d%0aLocation:evil",
    "/\r\nLocation: https://evil.example",
    "/\t/evil.example",
    " //evil.example",
]


def assert_local(response):
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and not urlsplit(location).netloc
    assert response.headers.getlist("Location") == [location]


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(client, make, target):
    user = make.user()
    response = client.post(
        f"/sign-in?next={quote(target)}",
        data={"email": user.email, "password": PASSWORD, "next": target},
    )
    assert_local(response)


@pytest.mark.parametrize("target", OFF_SITE)
def test_a_signed_in_visit_to_sign_in_never_redirects_off_site(client, make, target):
    sign_in(client, make.user())
    assert_local(client.get(f"/sign-in?next={quote(target)}"))


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(client, target):
    assert_local(client.post("/language", data={"locale": "en", "next": target}))


def test_sign_in_follows_a_local_next(client, make):
    user = make.user()
    response = client.post(
        "/sign-in?next=/profile",
        data={"email": user.email, "password": PASSWORD, "next": "/profile"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"


# --- escaping ----------------------------------------------------------------------


@pytest.fixture
def hostile_names(make, client):
    forum = make.forum()
    group = make.group(forum, XSS)
    coalition = make.coalition(forum, XSS)
    facilitator = make.member(
        forum, role="facilitator", name=XSS, coalition=coalition, groups=[group]
    )
    make.member(forum, make.user(password=None))  # someone to add to the group
    sign_in(client, facilitator.user)
    return forum, group, facilitator


@pytest.mark.parametrize(
    "page",
    [
        "/forums/{forum}/",
        "/forums/{forum}/groups/{group}",
        "/forums/{forum}/manage/",
        "/forums/{forum}/manage/members",
        "/forums/{forum}/manage/members?q=svg",
        "/forums/{forum}/manage/members/{membership}",
        "/forums/{forum}/manage/coalitions",
        "/forums/{forum}/manage/groups/{group}",
    ],
)
def test_names_with_markup_are_rendered_escaped(client, hostile_names, page):
    forum, group, facilitator = hostile_names
    url = page.format(forum=forum.slug, group=group.slug, membership=facilitator.id)
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert XSS not in html
    assert "<svg" not in html
    assert XSS_ESCAPED in html  # the name is shown, only escaped


# --- hostile input -----------------------------------------------------------------


@pytest.fixture
def facilitator_client(client, make):
    forum = make.forum()
    sign_in(client, make.member(forum, role="facilitator").user)
    make.member(forum, password=None)
    return client, forum


def assert_refused_or_clamped(client, url):
    response = client.get(url)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert heading(response) == translated(client.application, "es", "Bad request")


BAD_QUERIES = ["page=abc", "page=-1", "page=99999999999", "page=", "page=1e3", "page=0x10"]
BAD_QUERIES += ["page=%EF%BC%91", "page=999999", "page=1&page=2", "q=%25%5F", "q=" + "x" * 5000]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_member_list_parameters_are_refused_or_clamped(facilitator_client, query):
    client, forum = facilitator_client
    assert_refused_or_clamped(client, f"/forums/{forum.slug}/manage/members?{query}")


@pytest.mark.parametrize("digit", ["%C2%B2", "%E2%91%A0"], ids=["superscript-2", "circled-1"])
def test_a_page_number_of_non_decimal_digits_is_refused(facilitator_client, digit):
    client, forum = facilitator_client
    assert_refused_or_clamped(client, f"/forums/{forum.slug}/manage/members?page={digit}")


def test_a_malformed_member_email_in_the_group_form_is_refused(facilitator_client, make):
    client, forum = facilitator_client
    url = f"/forums/{forum.slug}/manage/groups/{make.group(forum).slug}/members"
    for email in ("²", "a\x00@example.org", "x" * 300 + "@example.org"):
        response = client.post(url, data={"m-email": email, "m-role": "member"})
        assert response.status_code == 400


def test_a_member_search_with_a_nul_byte_is_harmless(facilitator_client):
    client, forum = facilitator_client
    assert_refused_or_clamped(client, f"/forums/{forum.slug}/manage/members?q=a%00b")


@pytest.mark.parametrize(
    "path", ["/forums/%00/", "/forums/{forum}/groups/%00", "/forums/{forum}/manage/groups/%00"]
)
def test_a_nul_byte_in_an_address_is_not_found(facilitator_client, path):
    client, forum = facilitator_client
    assert client.get(path.format(forum=forum.slug)).status_code == 404


def test_a_nul_byte_in_an_address_is_not_found_for_visitors(client, make):
    assert client.get("/forums/%00/").status_code == 404


def test_signing_in_with_a_nul_byte_in_the_email_is_refused(client, session):
    response = client.post("/sign-in", data={"email": "ana\x00@example.org", "password": "x"})
    assert response.status_code in (400, 401)


LOCALE_GARBAGE = ["../../etc/passwd", "xx", "", "ES", "es_ES", "es-ES", "\x00", "e" * 1000]


@pytest.mark.parametrize("garbage", LOCALE_GARBAGE)
def test_an_unknown_locale_is_ignored_by_the_language_switch(client, garbage):
    response = client.post("/language", data={"locale": garbage, "next": "/"})
    # A NUL byte is refused before any view (consult/inputs.py); the rest is ignored.
    assert response.status_code == (400 if "\x00" in garbage else 302)
    with client.session_transaction() as flask_session:
        assert "locale" not in flask_session
    assert html_lang(client.get("/")) == "es"


def test_an_unknown_locale_leaves_a_members_language_alone(client, make, session):
    user = make.user(locale="pt")
    sign_in(client, user)
    assert client.post("/language", data={"locale": "../../etc/passwd"}).status_code == 302
    assert session.scalar(select(User.locale).where(User.id == user.id)) == "pt"
    assert html_lang(client.get("/")) == "pt"


@pytest.mark.parametrize(
    "header", ["*;q=", "zz-ZZ", ",,,;", "es;q=abc", "q=1;;;", "\x7f", "x" * 500]
)
def test_garbage_accept_language_falls_back_to_spanish(client, app, header):
    response = client.get("/", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert html_lang(response) == "es"
    assert heading(response) == translated(app, "es", "Write the plan of action together")


def _form(query: str) -> dict:
    return dict(parse_qsl(query, keep_blank_values=True))


def _invite(name="Ana", email="ana@example.org"):
    fixed = _form("role=member&coalition_id=0&country=&locale=es")
    return {**fixed, "email": email, "display_name": name}


PROFILE = _form("locale=es&country=&notification_preference=never")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/forums/{forum}/manage/members/invite", _invite(name="Ana\x00Maria")),
        ("/forums/{forum}/manage/members/invite", _invite(name="N" * 10_000)),
        ("/forums/{forum}/manage/members/invite", _invite(email="ana\x00@example.org")),
        ("/forums/{forum}/manage/coalitions", {"name": "Red\x00 Sur", "country": ""}),
        ("/forums/{forum}/manage/coalitions", {"name": "C" * 10_000, "country": ""}),
        ("/forums/{forum}/manage/groups", {"name": "Eje\x00 1", "description": "a\x00b"}),
        ("/forums/{forum}/manage/groups", {"name": "G" * 10_000, "description": "d" * 10_000}),
        ("/sign-in", {"email": "ana@example.org", "password": "x\x00y"}),
        ("/password-reset", {"email": "ana\x00@example.org"}),
        ("/profile", {**PROFILE, "display_name": "Ana\x00"}),
    ],
)
def test_nul_bytes_and_huge_text_are_refused_or_cleaned(facilitator_client, session, path, data):
    client, forum = facilitator_client
    response = client.post(path.format(forum=forum.slug), data=data)
    assert response.status_code in (302, 400, 401, 409), response.status_code
    for name in session.scalars(select(User.display_name)):
        assert "\x00" not in name and len(name) <= 200
    for model in (Coalition, WorkingGroup):
        for name in session.scalars(select(model.name)):
            assert "\x00" not in name and len(name) <= 200


def test_an_invited_name_with_a_nul_byte_is_stored_without_it(facilitator_client, session):
    client, forum = facilitator_client
    path = f"/forums/{forum.slug}/manage/members/invite"
    response = client.post(path, data=_invite(name="Ana\x00Maria"))
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        stored = session.scalar(select(User.display_name).where(User.email == "ana@example.org"))
        assert stored == "AnaMaria"


def test_a_body_over_the_size_limit_gets_a_413_page(client, app, session):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and limit <= 64 * 1024 * 1024
    before = session.scalar(select(func.count()).select_from(User))
    response = client.post("/sign-in", data={"email": "x" * (limit + 1), "password": "p"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert heading(response) == translated(app, "es", "Too much data")
    assert session.scalar(select(func.count()).select_from(User)) == before


# --- error pages -------------------------------------------------------------------


def test_a_missing_page_is_a_404_in_the_browsers_language(client, app):
    response = client.get("/no-such-page", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert response.status_code == 404
    assert html_lang(response) == "pt"
    assert heading(response) == translated(app, "pt", "Page not found")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no-such-page", 404), ("/forums/no-such-forum/", 404), ("/sign-out", 405)],
)
def test_errors_are_json_for_json_clients(client, path, status):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["status"] == status
    assert isinstance(error["title"], str) and error["title"]
    assert isinstance(error["message"], str) and error["message"]
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/forums/{slug}/plans/99999999999/",
        "/forums/{slug}/amendments/2147483648",
        "/forums/{slug}/polls/9223372036854775808",
        "/forums/{slug}/consultations/99999999999999999999",
    ],
)
def test_ids_beyond_the_database_integer_are_not_found(client, make, path):
    """Not a database error (PostgreSQL refuses integers over 2³¹ - 1)."""
    forum = make.forum(public=True)
    assert client.get(path.format(slug=forum.slug)).status_code == 404
