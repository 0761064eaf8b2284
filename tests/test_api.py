"""The JSON API: personal tokens and their scopes, the same authorisation as the
web pages, pages and filters, error objects in the reader's language, rate
limits, CSRF for browser sessions, idempotent writes."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from consult.accounts import services as accounts
from consult.amendments import proposing, supports
from consult.amendments.models import Amendment
from consult.api import ratelimit, tokens
from consult.api.models import ApiToken, RateWindow
from consult.comments import moderation
from consult.comments.models import Comment
from consult.extensions import db
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import setup as votes_setup
from tests.conftest import make_app
from tests.factories import sign_in

# ``forum``, its ``member`` (who reads English) and the structured ``plan``, open
# for input, are the shared fixtures of tests/conftest.py.


def token_for(session, user, scope="write") -> str:
    _token, secret = tokens.create_token(user, f"{scope} token", scope)
    session.commit()
    return secret


def bearer(secret: str, language: str = "en") -> dict:
    return {"Authorization": f"Bearer {secret}", "Accept-Language": language}


def key_of(plan, ref):
    return plans.find_node(plan.current_version, ref).key


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert {"code", "status", "message"} <= set(body["error"]), body
    assert body["error"]["status"] == response.status_code
    return body["error"]


# --- tokens -----------------------------------------------------------------------


def test_a_token_is_shown_once_and_only_its_hash_is_kept(client, session, member):
    sign_in(client, member)
    response = client.post("/profile/tokens", data={"name": "Website", "scope": "read"})
    assert response.status_code == 201
    secret = re.search(r'id="new-token">(cst_[^<]+)<', response.get_data(as_text=True)).group(1)
    assert secret not in client.get("/profile/tokens").get_data(as_text=True)
    stored = session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    assert stored.token_hash != secret and secret not in stored.token_hash
    assert stored.prefix == secret[:10]
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["scope"] == "read"


def test_a_revoked_token_no_longer_opens_the_api(client, session, member):
    secret = token_for(session, member)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    sign_in(client, member)
    response = client.post("/profile/tokens", data={"revoke": str(token.id)})
    assert response.status_code == 302
    client.post("/sign-out")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_nobody_revokes_someone_elses_token(client, session, make, member):
    secret = token_for(session, member)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == member.id))
    sign_in(client, make.user())
    assert client.post("/profile/tokens", data={"revoke": str(token.id)}).status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_a_deactivated_account_loses_its_tokens(client, session, member):
    secret = token_for(session, member)
    accounts.set_active(member, False)
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer nope", "Basic abc", "Bearer cst_forged"])
def test_malformed_or_unknown_tokens_are_refused(client, header):
    response = client.get("/api/v1/forums", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


# --- scopes and writes ------------------------------------------------------------


def test_a_read_token_cannot_write_and_nothing_is_written(client, session, member, plan):
    secret = token_for(session, member, "read")
    response = client.post(
        f"/api/v1/forums/{plan.forum.slug}/plans/{plan.id}/amendments",
        json={"operation": "replace", "target": "1.1", "text": "Otro texto."},
        headers=bearer(secret),
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert session.scalar(select(func.count()).select_from(Amendment)) == 0


def test_a_write_token_proposes_once_per_idempotency_key(client, session, member, plan):
    secret = token_for(session, member)
    url = f"/api/v1/forums/{plan.forum.slug}/plans/{plan.id}/amendments"
    payload = {"operation": "replace", "target": "1.1", "text": "Promover la cooperación."}
    headers = {**bearer(secret), "Idempotency-Key": "retry-1"}
    first = client.post(url, json=payload, headers=headers)
    assert first.status_code == 201, first.get_json()
    data = first.get_json()
    assert (data["status"], data["target_ref"], data["author"]["id"]) == (
        "submitted",
        "1.1",
        member.id,
    )
    assert first.headers["Location"].endswith(f"/amendments/{data['id']}")
    again = client.post(url, json=payload, headers=headers)
    assert again.get_json()["id"] == data["id"]
    assert session.scalar(select(func.count()).select_from(Amendment)) == 1


def test_extra_fields_are_ignored_and_bad_ones_refused(client, session, member, plan):
    secret = token_for(session, member)
    url = f"/api/v1/forums/{plan.forum.slug}/plans/{plan.id}/amendments"
    sneaky = {"operation": "replace", "target": "1.1", "text": "Texto.", "status": "accepted"}
    sneaky |= {"author_id": 1, "number": 99}
    response = client.post(url, json=sneaky, headers=bearer(secret))
    assert response.status_code == 201
    assert response.get_json()["status"] == "submitted"
    for body in ({"operation": "nonsense"}, {"operation": "replace", "text": 5}, [1, 2]):
        response = client.post(url, json=body, headers=bearer(secret))
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_input"
    response = client.post(url, data="not json", headers=bearer(secret))
    assert response.status_code == 400


def test_supporting_follows_the_same_rules_as_the_web(client, session, make, forum, plan):
    author, supporter = make.member(forum).user, make.member(forum).user
    observer = make.member(forum, role="observer").user
    amendment = proposing.propose(
        author, plan, target=key_of(plan, "1.1"), operation="replace", text="Otro.", submit=True
    )
    session.commit()
    url = f"/api/v1/forums/{forum.slug}/amendments/{amendment.id}/support"
    assert client.post(url, headers=bearer(token_for(session, observer))).status_code == 403
    assert client.post(url, headers=bearer(token_for(session, author))).status_code == 409
    response = client.post(url, headers=bearer(token_for(session, supporter)))
    assert response.status_code == 200
    assert response.get_json()["supporters_count"] == 1


def test_comments_through_the_api(client, session, make, forum, member, plan):
    secret = token_for(session, member)
    key = key_of(plan, "1.1")
    url = f"/api/v1/forums/{forum.slug}/comments"
    payload = {"target_type": "node", "target_key": key, "plan_id": plan.id, "body": "**Sí**."}
    headers = {**bearer(secret), "Idempotency-Key": "c-1"}
    created = client.post(url, json=payload, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert client.post(url, json=payload, headers=headers).get_json()["id"] == created.json["id"]
    reply = client.post(
        url,
        json={**payload, "body": "Reply.", "parent_id": created.json["id"]},
        headers=bearer(secret),
    )
    assert reply.status_code == 201 and reply.json["depth"] == 1
    facilitator = make.member(forum, role="facilitator").user
    moderation.hide_comment(facilitator, session.get(Comment, reply.json["id"]), "Off topic.")
    session.commit()
    query = f"?target_type=node&target_key={key}&plan_id={plan.id}"
    thread = client.get(url + query, headers=bearer(secret)).get_json()
    assert thread["total"] == 1 and thread["counts"]["total"] == 1
    (top,) = thread["items"]
    assert top["body"] == "**Sí**." and top["replies"][0]["state"] == "hidden"
    assert top["replies"][0]["body"] is None
    moderated = client.get(url + query, headers=bearer(token_for(session, facilitator))).get_json()
    assert moderated["items"][0]["replies"][0]["body"] == "Reply."


# --- the same authorisation as the web ---------------------------------------------


def test_a_private_forum_is_not_found_as_if_it_did_not_exist(client, session, make, forum, plan):
    outsider = make.member(make.forum()).user
    secret = token_for(session, outsider)
    hidden = client.get(f"/api/v1/forums/{forum.slug}/plans/{plan.id}", headers=bearer(secret))
    missing = client.get(f"/api/v1/forums/no-such-forum/plans/{plan.id}", headers=bearer(secret))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    listed = client.get("/api/v1/forums", headers=bearer(secret)).get_json()
    assert forum.slug not in {f["slug"] for f in listed["items"]}
    anonymous = client.get(f"/api/v1/forums/{forum.slug}")
    assert anonymous.status_code == 404


def test_public_forums_are_readable_without_a_token(client, make):
    public = make.forum(public=True)
    plan = plans.import_plan(None, public, "Plan\n\n1. Primero.\n")
    make.session.commit()
    response = client.get(f"/api/v1/forums/{public.slug}/plans/{plan.id}/versions/1/nodes")
    assert response.status_code == 200
    assert [n["text"] for n in response.get_json()["items"]][-1] == "Primero."
    assert client.get("/api/v1/me").status_code == 401


def test_drafts_are_listed_for_their_authors_only(client, session, make, forum, member, plan):
    proposing.propose(member, plan, target=key_of(plan, "1.1"), operation="delete")
    session.commit()
    url = f"/api/v1/forums/{forum.slug}/plans/{plan.id}/amendments"
    mine = client.get(url, headers=bearer(token_for(session, member))).get_json()
    theirs = client.get(url, headers=bearer(token_for(session, make.member(forum).user)))
    assert mine["total"] == 1 and theirs.get_json()["total"] == 0


def test_poll_results_only_when_public_and_never_voters(client, session, make, forum, plan):
    facilitator = make.member(forum, role="facilitator").user
    delegate = make.member(forum)
    delegate.is_delegate = True
    now = datetime.now(UTC)
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1),
    )
    votes_lifecycle.open_poll(facilitator, poll)
    session.commit()
    votes_casting.cast(delegate.user, poll, "yes")
    session.commit()
    url = f"/api/v1/forums/{forum.slug}/polls/{poll.id}"
    secret = token_for(session, delegate.user)
    running = client.get(url, headers=bearer(secret)).get_json()
    assert running["secret"] and running["state"] == "open"
    assert (running["results_visible"], running["results"]) == (False, None)
    votes_lifecycle.close_poll(facilitator, poll)
    session.commit()
    closed = client.get(url, headers=bearer(secret))
    text = closed.get_data(as_text=True)
    assert closed.get_json()["results"]["ballots"] == 1
    assert delegate.user.display_name not in text and delegate.user.email not in text


# --- pages and filters -------------------------------------------------------------


def test_lists_come_in_pages_and_refuse_bad_numbers(client, session, member, plan):
    secret = token_for(session, member)
    url = f"/api/v1/forums/{plan.forum.slug}/plans/{plan.id}/versions/1/nodes"
    first = client.get(url + "?per_page=10", headers=bearer(secret)).get_json()
    second = client.get(url + "?per_page=10&page=2", headers=bearer(secret)).get_json()
    assert first["total"] == second["total"] == len(plans.version_nodes(plan.current_version))
    assert first["pages"] == -(-first["total"] // 10)
    assert {n["key"] for n in first["items"]}.isdisjoint(n["key"] for n in second["items"])
    for query in ("?per_page=1000", "?per_page=0", "?page=abc", "?page=-1", "?per_page=<script>"):
        response = client.get(url + query, headers=bearer(secret))
        assert response.status_code == 400, query
        assert error_of(response)["code"] == "invalid_input"


def test_amendments_filter_by_status_and_item(client, session, make, forum, plan):
    author = make.member(forum).user
    for ref in ("1.1", "1.2"):
        proposing.propose(
            author, plan, target=key_of(plan, ref), operation="replace", text="X.", submit=True
        )
    session.commit()
    url = f"/api/v1/forums/{forum.slug}/plans/{plan.id}/amendments"
    secret = token_for(session, author)
    by_item = client.get(url + "?target=1.2", headers=bearer(secret)).get_json()
    assert [a["target_ref"] for a in by_item["items"]] == ["1.2"]
    assert client.get(url + "?status=accepted", headers=bearer(secret)).json["total"] == 0
    assert client.get(url + "?status=DROP", headers=bearer(secret)).status_code == 400
    assert client.get(url + "?sort=password_hash", headers=bearer(secret)).status_code == 400


def test_search_and_notifications(client, session, make, forum, member, plan):
    secret = token_for(session, member)
    found = client.get("/api/v1/search?q=participacion", headers=bearer(secret)).get_json()
    assert found["total"] == 1 and "<mark>" in found["items"][0]["snippet_html"]
    other = make.member(forum).user
    amendment = proposing.propose(
        member, plan, target=key_of(plan, "1.1"), operation="delete", submit=True
    )
    session.commit()
    supports.support(other, amendment)
    session.commit()
    listed = client.get("/api/v1/notifications", headers=bearer(secret)).get_json()
    assert listed["unread"] == 1 and listed["items"][0]["kind"] == "amendment_supported"
    read = client.post("/api/v1/notifications/read", json={}, headers=bearer(secret))
    assert read.get_json() == {"unread": 0}


# --- errors, languages, limits ---------------------------------------------------------


def test_error_messages_follow_accept_language(app, client, session, member):
    secret = token_for(session, member)
    answers = {
        language: client.get("/api/v1/forums/missing", headers=bearer(secret, language))
        for language in ("en", "pt", "es")
    }
    for language, response in answers.items():
        assert response.status_code == 404
        error = error_of(response)
        assert error["code"] == "not_found"
        with app.test_request_context(), force_locale(language):
            assert error["message"] == gettext("This page does not exist, or you may not see it.")
    assert answers["pt"].json["error"]["message"] != answers["en"].json["error"]["message"]


def test_without_accept_language_the_token_owners_language_is_used(client, session, make):
    portuguese = make.user(locale="pt")
    secret = token_for(session, portuguese)
    response = client.get("/api/v1/forums/missing", headers={"Authorization": f"Bearer {secret}"})
    english = client.get("/api/v1/forums/missing", headers=bearer(secret, "en"))
    assert response.json["error"]["message"] != english.json["error"]["message"]


def test_unknown_addresses_and_methods_answer_with_error_objects(client):
    assert error_of(client.get("/api/v1/nothing-here"))["code"] == "not_found"
    assert error_of(client.delete("/api/v1/forums"))["code"] == "method_not_allowed"


def test_requests_over_the_limit_get_429_per_token(app, client, session, make, member):
    app.config["API_RATE_LIMIT"] = 3
    try:
        secret, other = token_for(session, member), token_for(session, make.user())
        answers = [client.get("/api/v1/me", headers=bearer(secret)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["X-RateLimit-Remaining"] == "2"
        assert error_of(answers[3])["code"] == "rate_limited"
        assert 0 < int(answers[3].headers["Retry-After"]) <= 60
        assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = 300


def test_the_fixed_window_starts_again_each_minute(session):
    start = 1_800_000_000 - 1_800_000_000 % 60
    verdicts = [ratelimit.hit("test-key", 2, now=start + offset) for offset in (0, 10, 59, 60)]
    assert [v.allowed for v in verdicts] == [True, True, False, True]
    assert [v.remaining for v in verdicts] == [1, 0, 0, 1]
    # Older windows of the key are cleared when a new one begins.
    assert session.scalar(select(func.count()).select_from(RateWindow)) == 1


@pytest.fixture
def csrf_app(app):
    application = make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_browser_session_needs_the_csrf_token_to_write_a_token_does_not(
    csrf_app, session, member
):
    client = csrf_app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/sign-in",
        data={"email": member.email, "password": "correct horse battery staple"}
        | {"csrf_token": csrf},
    )
    assert client.get("/api/v1/me").status_code == 200
    refused = client.post("/api/v1/notifications/read", json={})
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "bad_request"
    secret = token_for(session, member)
    other = csrf_app.test_client()
    assert (
        other.post("/api/v1/notifications/read", json={}, headers=bearer(secret)).status_code == 200
    )


def test_the_api_page_lists_every_operation(client):
    html = client.get("/api/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    for path in document["paths"]:
        assert ("/api/v1" + path) in html.replace("&#123;", "{").replace("&#125;", "}")
