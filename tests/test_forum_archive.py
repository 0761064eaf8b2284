"""Archiving a whole forum instead of deleting it (issue 16): everything in it
stays readable where it was, and nothing can be added or changed until its
administrators take it out of the archive."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from consult.admin import forum_archiving as archiving
from consult.amendments import proposing
from consult.audit.models import AuditEvent
from consult.comments import services as comments
from consult.errors import Conflict
from consult.forums import groups as working_groups
from consult.forums import invitations, memberships
from consult.forums import permissions as forum_permissions
from consult.forums import services as forums
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

TEXT = "Plan de acción\n\n1. Primer punto.\n\n2. Segundo punto.\n"
ARCHIVED = "This forum is archived"


@pytest.fixture
def setting(session, make):
    forum = make.forum(public=True)
    admin = make.member(forum, role="admin", locale="en").user
    facilitator = make.member(forum, role="facilitator", locale="en").user
    member = make.member(forum, locale="en").user
    plan = plans.import_plan(None, forum, TEXT)
    plan.open_for_input = True
    key = plans.version_nodes(plan.current_version)[1].key
    session.commit()
    return forum, admin, facilitator, member, plan, key


def archive(client, forum, reason="The network closed its 2026 cycle"):
    return client.post(f"/forums/{forum.slug}/archive", data={"reason": reason})


def test_an_archived_forum_refuses_every_write_and_stays_readable(app, session, make, setting):
    forum, admin, facilitator, member, plan, key = setting
    client = app.test_client()
    sign_in(client, admin)
    assert archive(client, forum).status_code == 302
    session.expire_all()
    assert forum.archived_at is not None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "forum.archived"))
    assert event.actor_id == admin.id
    assert event.details["reason"] == "The network closed its 2026 cycle"

    # Still public where it was, saying why nothing can be done.
    visitor = app.test_client()
    visitor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for path in (f"/forums/{forum.slug}/", f"/forums/{forum.slug}/plans/{plan.id}/"):
        page = visitor.get(path)
        assert page.status_code == 200, path
        assert ARCHIVED in page.get_data(as_text=True), path

    outsider = make.user()
    start = datetime(2030, 1, 1, tzinfo=UTC)
    refusals = {
        "amend": lambda: proposing.propose(
            member, plan, target=key, operation="replace", text="Nuevo."
        ),
        "comment": lambda: comments.post_comment(
            member, forum, plan=plan, target_type="node", target_key=key, body="Hola."
        ),
        "import a plan": lambda: plans.import_plan(facilitator, forum, TEXT),
        "edit the plan": lambda: plans.edit_node(
            facilitator, plan, plan.current_version, key, "Otro texto."
        ),
        "working group": lambda: working_groups.save_group(facilitator, forum, "Cultura"),
        "coalition": lambda: forums.save_coalition(facilitator, forum, "Red Sur", "AR"),
        "invite": lambda: invitations.invite(facilitator, forum, email="nueva@example.org"),
        "add a member": lambda: memberships.add_member(admin, forum, outsider),
        "settings": lambda: forums.update_forum(
            admin, forum, name="Otro", description="", default_locale="es", is_public=True
        ),
        "vote": lambda: votes_setup.create_poll(
            facilitator,
            plan,
            subject="plan",
            scope="forum",
            opens_at=start,
            closes_at=start + timedelta(days=7),
        ),
    }
    refused = {}
    for name, attempt in refusals.items():
        try:
            with session.begin_nested():
                attempt()
        except Conflict as error:
            refused[name] = ARCHIVED in str(error.message) or str(error.message)
        else:
            refused[name] = False
    assert refused == dict.fromkeys(refusals, True)


def test_only_its_administrators_archive_a_forum_and_with_a_reason(app, session, setting):
    forum, admin, facilitator, _member, _plan, _key = setting
    client = app.test_client()
    sign_in(client, facilitator)
    assert archive(client, forum).status_code == 403
    sign_in(client, admin)
    response = archive(client, forum, reason="  ")
    assert response.status_code == 400
    assert "Please give a reason" in response.get_data(as_text=True)
    session.expire_all()
    assert forum.archived_at is None
    assert forum_permissions.archived_refusal(forum) is None


def test_a_forum_with_a_vote_to_come_is_not_archived(app, session, setting):
    forum, admin, facilitator, member, plan, _key = setting
    forum_permissions.membership_of(member, forum).is_delegate = True
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
    sign_in(client, admin)
    response = archive(client, forum)
    assert response.status_code == 409
    assert "A vote in this forum is scheduled or open" in response.get_data(as_text=True)
    session.expire_all()
    assert forum.archived_at is None


def test_a_forum_taken_out_of_the_archive_can_change_again(app, session, setting):
    forum, admin, facilitator, _member, _plan, _key = setting
    client = app.test_client()
    sign_in(client, admin)
    archive(client, forum)
    assert archive(client, forum).status_code == 409  # already archived
    manage = client.get(f"/forums/{forum.slug}/manage/").get_data(as_text=True)
    assert ARCHIVED in manage and f"/forums/{forum.slug}/restore" in manage
    response = client.post(f"/forums/{forum.slug}/restore", data={"reason": "A new cycle"})
    assert response.status_code == 302
    session.expire_all()
    assert forum.archived_at is None
    assert working_groups.save_group(facilitator, forum, "Cultura").id
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "forum.restored"))
    with pytest.raises(Conflict):
        archiving.restore_forum(admin, forum, "again")
