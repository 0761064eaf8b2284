"""Issue 20, findings 5 and 6: bad input is refused with a clear 4xx, never a
500, and free text is cleaned once at the service boundary, so the history,
the notifications and the audit log hold the same clean words.

These cases are also part of the fuzzing in tests/test_security.py's style:
every one of them was a 500 found by an attack on a live server."""

import json
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consult.amendments import lifecycle, proposing
from consult.amendments.models import Amendment, AmendmentEvent
from consult.audit.models import AuditEvent
from consult.inputs import (
    MAX_JSON_DEPTH,
    BoundedIntegerField,
    clean_text,
    database_int,
    json_depth_exceeds,
)
from consult.notifications.models import Notification
from consult.plans import services as plans
from consult.votes.models import Poll
from tests.factories import sign_in

PLAN_TEXT = "PLAN DE PRUEBA\n\nSECCIÓN UNO\n\n1. Primer punto.\n2. Segundo punto.\n"
HUGE = str(10**20)


@pytest.fixture
def facilitated(client, make, session):
    forum = make.forum()
    facilitator = make.facilitator(forum, locale="en")
    plan = make.plan(forum, PLAN_TEXT, actor=facilitator)
    sign_in(client, facilitator)
    return forum, plan, facilitator


def key_of(plan, kind):
    return next(n.key for n in plans.version_nodes(plan.current_version) if n.kind == kind)


def assert_clear_4xx(response, *statuses):
    assert response.status_code in (statuses or (400,)), response.status_code
    assert 400 <= response.status_code < 500
    body = response.get_data(as_text=True)
    assert "<h1" in body or response.is_json, body[:300]


# --- integers beyond the database's ------------------------------------------------


def test_an_out_of_range_group_in_the_plan_settings_is_not_a_server_error(client, facilitated):
    forum, plan, _facilitator = facilitated
    section = key_of(plan, "section")
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/settings",
        data={
            "support_threshold": "0",
            "support_threshold_kind": "members",
            f"group-{section}": HUGE,
        },
    )
    assert_clear_4xx(response, 400, 404)


def test_an_out_of_range_threshold_is_refused_beside_its_field(client, facilitated):
    forum, plan, _facilitator = facilitated
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/settings",
        data={"support_threshold": HUGE, "support_threshold_kind": "members"},
    )
    assert_clear_4xx(response)


def test_an_out_of_range_base_version_in_the_edit_form_is_refused(client, facilitated, session):
    forum, plan, _facilitator = facilitated
    key = key_of(plan, "item")
    versions = plan.current_version.number
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/nodes/{key}/edit",
        data={"text": "Nuevo texto.", "note": "", "base_version": HUGE},
    )
    assert_clear_4xx(response)
    assert "Nuevo texto." in response.get_data(as_text=True), "what the user typed is kept"
    session.refresh(plan)
    assert plan.current_version.number == versions


def test_out_of_range_compromise_sources_are_ignored(client, facilitated, session):
    forum, plan, _facilitator = facilitated
    key = key_of(plan, "item")
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/compromise",
        data={"text": "Texto de compromiso.", "sources": [HUGE, "-1"]},
    )
    assert response.status_code < 500


def test_an_out_of_range_poll_group_or_phase_is_refused(client, facilitated):
    forum, plan, _facilitator = facilitated
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/polls/new?subject=plan",
        data={"scope": "group", "working_group": HUGE, "phase": HUGE, "quorum_value": "1e30"},
    )
    assert_clear_4xx(response)


@given(raw=st.one_of(st.text(max_size=30), st.integers().map(str)))
def test_database_int_is_always_within_the_database_integer(raw):
    number = database_int(raw)
    assert number is None or 1 <= number <= 2**31 - 1


def test_no_form_uses_an_unbounded_integer_field():
    """Every integer a form reads is bounded before it reaches the database."""
    from flask_wtf import FlaskForm
    from wtforms import IntegerField

    import consult.admin.forms
    import consult.amendments.forms
    import consult.plans.forms
    import consult.votes.forms  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for form in subclasses(FlaskForm):
        for name, value in vars(form).items():
            field_class = getattr(value, "field_class", None)
            if field_class and issubclass(field_class, IntegerField):
                assert issubclass(field_class, BoundedIntegerField), f"{form.__name__}.{name}"


# --- NUL bytes, refused in one place ----------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/forums/{slug}/plans/{plan}/polls/new?subject=competing&key=%00", None),
        ("post", "/forums/{slug}/plans/{plan}/polls/new?subject=competing&key=%00", {}),
        ("post", "/forums/{slug}/plans/{plan}/polls/new?subject=plan", {"title": "a\x00b"}),
        ("post", "/forums/{slug}/plans/{plan}/settings", {"support_threshold_kind": "x\x00"}),
        ("get", "/forums/{slug}/amendments/?status=%00", None),
        ("post", "/forums/{slug}/manage/groups", {"name\x00": "Eje"}),
    ],
)
def test_a_nul_byte_anywhere_is_refused_with_a_translated_400(
    client, facilitated, session, method, path, data
):
    forum, plan, _facilitator = facilitated
    polls = session.scalar(select(func.count()).select_from(Poll))
    url = path.format(slug=forum.slug, plan=plan.id)
    response = getattr(client, method)(url, data=data, headers={"Accept-Language": "pt"})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Poll)) == polls


# --- CSV and JSON with limits -------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "header"),
    [
        ("/forums/{slug}/plans/{plan}/amendments/import", b"target,operation,text\n1.1,replace,"),
        ("/forums/{slug}/manage/members/import", b"name,email\nAna,"),
    ],
)
def test_a_csv_cell_over_the_field_limit_is_reported_not_a_server_error(
    client, facilitated, route, header
):
    forum, plan, _facilitator = facilitated
    content = header + b"x" * 200_000 + b"\n"
    response = client.post(
        route.format(slug=forum.slug, plan=plan.id),
        data={"file": (BytesIO(content), "big.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400, response.status_code
    assert "cannot be read" in response.get_data(as_text=True)


def test_an_unclosed_quote_in_a_csv_is_reported(client, facilitated):
    forum, plan, _facilitator = facilitated
    content = b'target,operation,text\n1.1,replace,"never closed\n' + b"y" * 140_000
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/amendments/import",
        data={"file": (BytesIO(content), "quote.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


@pytest.fixture
def api_writer(session, facilitated):
    from consult.api import tokens

    forum, plan, facilitator = facilitated
    _token, secret = tokens.create_token(facilitator, "write token", "write")
    session.commit()
    return forum, plan, {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 100_000])
def test_a_deeply_nested_json_body_is_a_json_400(client, api_writer, depth):
    forum, plan, headers = api_writer
    body = "[" * depth + "]" * depth
    response = client.post(
        f"/api/v1/forums/{forum.slug}/plans/{plan.id}/amendments",
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400
    assert response.is_json
    assert "nests" in response.get_json()["error"]["message"]


def test_a_nul_inside_a_json_string_is_refused(client, api_writer, session):
    forum, plan, headers = api_writer
    before = session.scalar(select(func.count()).select_from(Amendment))
    response = client.post(
        f"/api/v1/forums/{forum.slug}/plans/{plan.id}/amendments",
        data=json.dumps({"target": "1.1", "operation": "replace", "text": "a\x00b"}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400 and response.is_json
    assert session.scalar(select(func.count()).select_from(Amendment)) == before


@given(depth=st.integers(min_value=1, max_value=200))
def test_json_depth_is_measured_exactly(depth):
    value = []
    for _ in range(depth - 1):
        value = [value]
    assert json_depth_exceeds(value, limit=depth) is False
    assert json_depth_exceeds([value], limit=depth) is True


# --- the error page after a failed statement ---------------------------------------


def test_the_app_keeps_answering_after_bad_input(client, facilitated):
    """Two bad requests in a row, then a normal page (the attack saw the error
    page itself fail after two of them)."""
    forum, plan, _facilitator = facilitated
    key = key_of(plan, "item")
    for _ in range(2):
        client.post(
            f"/forums/{forum.slug}/plans/{plan.id}/nodes/{key}/edit",
            data={"text": "x", "base_version": HUGE},
        )
    assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/").status_code == 200


# --- finding 6: free text cleaned once at the service boundary ----------------------

DIRTY = "Fuera\x00 de\x07 plazo\u202e\x1b[31m"
CLEAN = "Fuera de plazo[31m"


def test_a_decision_reason_is_stored_clean_everywhere(make, session):
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    author = make.member(forum).user
    plan = plans.import_plan(facilitator, forum, PLAN_TEXT)
    plan.open_for_input = True
    session.flush()
    amendment = proposing.propose(
        author, plan, target=key_of(plan, "item"), operation="replace", text="Otro texto."
    )
    lifecycle.submit_amendment(author, amendment)
    lifecycle.decide(facilitator, amendment, "rejected", reason=DIRTY)
    session.flush()

    stored = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.object_id == amendment.id)):
        stored.extend(str(v) for v in (event.details or {}).values())
    for notification in session.scalars(
        select(Notification).where(Notification.user_id == author.id)
    ):
        stored.extend(str(v) for v in (notification.data or {}).values())
    stored.extend(
        session.scalars(
            select(AmendmentEvent.reason).where(AmendmentEvent.amendment_id == amendment.id)
        )
    )
    reasons = [text for text in stored if "plazo" in text]
    assert len(reasons) >= 3, stored  # history, notification and audit log
    assert set(reasons) == {CLEAN}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(text=st.text())
def test_clean_text_is_idempotent_and_keeps_no_control_character(text):
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert "\x00" not in cleaned
    assert all(ch in "\n\t" or ord(ch) >= 32 for ch in cleaned if ord(ch) < 128)
