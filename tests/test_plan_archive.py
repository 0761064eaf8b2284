"""Archiving a plan instead of deleting it: read-only, still public where it was."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consult.amendments import lifecycle, plan_settings, proposing, supports
from consult.audit.models import AuditEvent
from consult.comments import services as comments
from consult.errors import Conflict, PermissionDenied
from consult.forums import permissions as forum_permissions
from consult.plan_translations import services as translations
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.factories import sign_in

TEXT = "Plan de acción\n\n1. Primer punto.\n\n2. Segundo punto.\n"


@pytest.fixture
def setting(session, make):
    forum = make.forum(public=True)
    facilitator = make.member(forum, role="facilitator", locale="en").user
    member = make.member(forum, locale="en").user
    plan = plans.import_plan(None, forum, TEXT)
    plan.open_for_input = True
    key = plans.version_nodes(plan.current_version)[1].key
    amendment = proposing.propose(
        member, plan, target=key, operation="replace", text="Otro texto.", submit=True
    )
    session.commit()
    return forum, facilitator, member, plan, key, amendment


def archive(client, forum, plan, reason="Superseded by the 2027 plan"):
    return client.post(f"/forums/{forum.slug}/plans/{plan.id}/archive", data={"reason": reason})


def test_an_archived_plan_refuses_every_write_and_stays_readable(app, session, setting):
    forum, facilitator, member, plan, key, amendment = setting
    client = app.test_client()
    sign_in(client, facilitator)
    assert archive(client, forum, plan).status_code == 302
    session.expire_all()
    assert plan.status == "archived" and plan.open_for_input is False
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "plan.archived"))
    assert event.actor_id == facilitator.id
    assert event.details["reason"] == "Superseded by the 2027 plan"

    # Still public where it was, with a banner.
    page = app.test_client().get(
        f"/forums/{forum.slug}/plans/{plan.id}/", headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert "This plan is archived" in page.get_data(as_text=True)
    # Its facilitator is offered nothing the services would refuse.
    managed = client.get(
        f"/forums/{forum.slug}/plans/{plan.id}/", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "This plan is archived" in managed
    for refused in ("/edit", "/nodes/", "/consultation/new", "subject=plan"):
        assert refused not in managed, refused

    base = plan.current_version
    refusals = {
        "amend (member)": lambda: proposing.propose(
            member, plan, target=key, operation="replace", text="Nuevo."
        ),
        "amend (facilitator)": lambda: proposing.propose(
            facilitator, plan, target=key, operation="replace", text="Nuevo."
        ),
        "support": lambda: supports.support(facilitator, amendment),
        "decide": lambda: lifecycle.decide(facilitator, amendment, "accepted", "Bien."),
        "withdraw": lambda: lifecycle.withdraw(member, amendment),
        "comment": lambda: comments.post_comment(
            member, forum, plan=plan, target_type="node", target_key=key, body="Hola."
        ),
        "comment (facilitator)": lambda: comments.post_comment(
            facilitator, forum, plan=plan, target_type="node", target_key=key, body="Hola."
        ),
        "edit": lambda: plans.edit_node(facilitator, plan, base, key, "Texto cambiado."),
        "settings": lambda: plan_settings.update_settings(
            facilitator, plan, open_for_input=True, threshold=0, threshold_kind="members"
        ),
        "translate": lambda: translations.save(
            facilitator, plan, "pt", {key: ("Primeiro ponto.", "Primer punto.")}
        ),
    }
    refused = {}
    for name, attempt in refusals.items():
        try:
            with session.begin_nested():
                attempt()
        except (Conflict, PermissionDenied) as error:
            # The one predicate's words (in whatever language the service speaks).
            said = str(error.message)
            refused[name] = str(plans.archived_refusal(plan)) in said or said
        else:
            refused[name] = False
    assert refused == dict.fromkeys(refusals, True)
    session.expire_all()
    assert amendment.status == "submitted"
    assert plan.current_version_id == base.id


def test_archiving_needs_a_manager_and_a_reason(app, session, setting):
    forum, facilitator, member, plan, _key, _amendment = setting
    client = app.test_client()
    sign_in(client, member)
    assert archive(client, forum, plan).status_code == 403
    sign_in(client, facilitator)
    response = archive(client, forum, plan, reason="   ")
    assert response.status_code == 400
    assert "Please give a reason" in response.get_data(as_text=True)
    session.expire_all()
    assert plan.status != "archived"


def test_a_plan_taken_out_of_the_archive_can_change_again(app, session, setting):
    forum, facilitator, _member, plan, key, _amendment = setting
    client = app.test_client()
    sign_in(client, facilitator)
    archive(client, forum, plan)
    assert archive(client, forum, plan).status_code == 409  # already archived
    response = client.post(
        f"/forums/{forum.slug}/plans/{plan.id}/restore", data={"reason": "Still needed"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert plan.status == "draft"
    version = plans.edit_node(facilitator, plan, plan.current_version, key, "Texto nuevo.")
    assert version.number == 2


def test_a_plan_with_a_vote_to_come_is_not_archived(app, session, setting):
    forum, facilitator, member, plan, _key, _amendment = setting
    forum_permissions.membership_of(member, forum).is_delegate = True  # the assembly votes
    start = datetime(2030, 1, 1, tzinfo=UTC)
    votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=start,
        closes_at=start + timedelta(days=7),
    )
    session.commit()
    client = app.test_client()
    sign_in(client, facilitator)
    response = archive(client, forum, plan)
    assert response.status_code == 409
    assert "A vote on this plan is scheduled or open" in response.get_data(as_text=True)
    session.expire_all()
    assert plan.status != "archived"
