"""schemathesis against /api/v1/openapi.json: every operation, with a write
token, through WSGI (no server), on both databases. The document must match
the implementation: no server error, no status, content type, header or body
the document does not describe.

Bounded (a few examples per operation, no deadline) so that it takes seconds:
its job is to catch a document that drifted from the code, not to fuzz for hours.
Generated ids and slugs mostly point at real objects of a small forum, so
that the answers are not all 404s.
"""

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from consult.amendments import proposing
from consult.api import tokens
from consult.comments import services as comments
from consult.extensions import db
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.conftest import make_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


@pytest.fixture
def api_world(app, session, make, monkeypatch):
    """A private forum with a plan open for input, an amendment, a comment and a
    poll; a member holding a write token."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", 1_000_000)
    forum = make.forum()
    member = make.member(forum).user
    author = make.member(forum).user
    facilitator = make.member(forum, role="facilitator").user
    plan = make.plan(forum)
    key = plans.find_node(plan.current_version, "1.1").key
    amendment = proposing.propose(
        author, plan, target=key, operation="replace", text="Otro texto.", submit=True
    )
    comment = comments.post_comment(
        author, forum, plan=plan, target_type="node", target_key=key, body="Un comentario."
    )
    make.member(forum).is_delegate = True
    now = datetime.now(UTC)
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=2),
    )
    make.session.commit()
    _token, secret = tokens.create_token(member, "schemathesis", "write")
    make.session.commit()
    return {
        "secret": secret,
        "slug": forum.slug,
        "ids": [plan.id, amendment.id, comment.id, poll.id, 1],
        "key": key,
        "ref": "1.1",
    }


def _document() -> dict:
    """The document as the app serves it (its text does not depend on the data).
    Loaded once, at collection, so that schemathesis makes one test per operation
    (its lazy, fixture-based loader does not work with pytest 9)."""
    application = make_app("sqlite://")
    with application.app_context():
        db.create_all()  # the request counts against the rate limit
    response = application.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def wsgi(app):
    def isolated(environ, start_response):
        # Each request in its own app context, as in production (see IsolatedClient).
        with app.app_context():
            return list(app.wsgi_app(environ, start_response))

    return isolated


def _aim(case, world) -> None:
    """Point most generated ids, slugs and keys at the world's objects (a value
    is kept when its own parity says so, so that misses are tested too)."""
    _aim_path(case.path_parameters or {}, world)
    query = case.query or {}
    if "target_key" in query and len(str(query["target_key"])) % 3:
        query["target_key"] = world["key"]
    for name in ("plan_id", "plan"):
        if isinstance(query.get(name), int) and query[name] % 2:
            query[name] = world["ids"][0]
    if isinstance(case.body, dict):
        _aim_body(case.body, world)


def _aim_path(path: dict, world) -> None:
    if "slug" in path and len(path["slug"]) % 4:
        path["slug"] = world["slug"]
    for name, value in path.items():
        if name != "slug" and isinstance(value, int) and value % 3:
            path[name] = world["ids"][value % len(world["ids"])]


def _aim_body(body: dict, world) -> None:
    if isinstance(body.get("target_key"), str) and len(body["target_key"]) % 3:
        body["target_key"] = world["key"]
    if isinstance(body.get("plan_id"), int) and body["plan_id"] % 2:
        body["plan_id"] = world["ids"][0]
    if isinstance(body.get("target"), str) and len(body["target"]) % 3:
        body["target"] = world["ref"]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_matches_its_openapi_document(case, api_world, wsgi):
    _aim(case, api_world)
    case.call_and_validate(
        app=wsgi,
        # Identity: the WSGI transport hands schemathesis the body as sent,
        # and large answers are gzip-compressed for clients that accept it.
        headers={
            "Authorization": f"Bearer {api_world['secret']}",
            "Accept-Language": "es",
            "Accept-Encoding": "identity",
        },
        checks=CHECKS,
    )
