"""Administration: the platform's account list, deactivation and reactivation,
invitations sent again, and a forum's audit log (page and CSV)."""

import csv
import io
import pathlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from consult.accounts.models import User
from consult.admin import audit_labels
from consult.api import tokens
from consult.api.models import ApiToken
from consult.audit.models import AuditEvent
from consult.audit.services import record
from consult.extensions import db
from consult.forums.models import Invitation
from tests.factories import PASSWORD, outbox, sign_in


@pytest.fixture
def admin(make):
    return make.user(admin=True, name="Ada Admin", locale="en")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    sign_in(client, admin)
    return client


def names_in(response) -> list[str]:
    """The names of the accounts listed on the user list page, in order."""
    html = response.get_data(as_text=True)
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', rows)


# --- the user list -----------------------------------------------------------------


def test_the_user_list_searches_by_name_and_email(session, make, admin_client):
    make.user("rosa.quispe@example.org", name="Rosa Quispe")
    make.user("mateo@coalicion.example", name="Mateo Álvarez")
    make.user("someone@example.org", name="Someone Else")

    by_name = admin_client.get("/admin/users", query_string={"q": "quispe"})
    assert by_name.status_code == 200
    assert names_in(by_name) == ["Rosa Quispe"]
    by_email = admin_client.get("/admin/users", query_string={"q": "COALICION"})
    assert names_in(by_email) == ["Mateo Álvarez"]
    # LIKE's wildcards are searched for as themselves.
    assert names_in(admin_client.get("/admin/users", query_string={"q": "%"})) == []


def test_the_user_list_filters_by_status_role_and_forum(session, make, admin, admin_client):
    forum, other = make.forum(), make.forum()
    active = make.member(forum, name="Active Member").user
    invited = make.member(forum, password=None, name="Invited Person").user
    gone = make.member(forum, name="Gone Member").user
    make.member(other, name="Elsewhere Member")
    gone.active = False
    session.commit()

    def listed(**arguments):
        response = admin_client.get("/admin/users", query_string=arguments)
        assert response.status_code == 200
        return set(names_in(response))

    assert listed(forum=forum.id) == {"Active Member", "Invited Person", "Gone Member"}
    assert listed(forum=forum.id, status="active") == {"Active Member"}
    assert listed(forum=forum.id, status="deactivated") == {"Gone Member"}
    assert listed(forum=forum.id, status="invited") == {"Invited Person"}
    assert listed(admins="y") == {"Ada Admin"}
    assert "Elsewhere Member" in listed(forum=other.id)
    assert active.id and invited.id
    # A status or forum that is not offered: a 400 that says so, not a 500.
    assert admin_client.get("/admin/users", query_string={"status": "nope"}).status_code == 400
    assert admin_client.get("/admin/users", query_string={"forum": "x"}).status_code == 400
    assert admin_client.get("/admin/users", query_string={"page": "x"}).status_code == 400


def test_the_user_list_pages_and_loads_memberships_in_one_query(
    session, make, admin_client, count_statements
):
    forums = [make.forum(name=f"Forum {n}") for n in range(3)]
    for n in range(60):
        user = make.user(name=f"Zz Member {n:02d}")
        for forum in forums[: 1 + n % 3]:
            make.member(forum, user)
    first = admin_client.get("/admin/users", query_string={"q": "zz member"})
    assert names_in(first)[:2] == ["Zz Member 00", "Zz Member 01"]
    assert len(names_in(first)) == 50
    html = first.get_data(as_text=True)
    assert "Forum 0 (" in html and "Forum 2 (" in html
    second = admin_client.get("/admin/users", query_string={"q": "zz member", "page": 2})
    assert len(names_in(second)) == 10

    with count_statements() as few:
        admin_client.get("/admin/users", query_string={"q": "zz member", "page": 2})
    with count_statements() as many:
        admin_client.get("/admin/users", query_string={"q": "zz member"})
    assert len(many) == len(few)  # 10 or 50 people: the same statements


def test_a_users_page_shows_their_memberships(session, make, admin_client):
    forum = make.forum(name="Red de Coaliciones")
    membership = make.member(forum, role="facilitator")
    response = admin_client.get(f"/admin/users/{membership.user_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Red de Coaliciones" in html
    assert f"/forums/{forum.slug}/manage/members/{membership.id}" in html
    assert admin_client.get("/admin/users/999999").status_code == 404


# --- deactivation and reactivation --------------------------------------------------


def test_deactivation_ends_sessions_and_tokens_at_once_and_reactivation_lets_them_in(
    app, session, make, admin, admin_client
):
    forum = make.forum()
    member = make.member(forum).user
    member_client = app.test_client()
    sign_in(member_client, member)
    assert member_client.get("/profile").status_code == 200
    _token, secret = tokens.create_token(member, "script", "read")
    session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert member_client.get("/api/v1/me", headers=bearer).status_code == 200

    response = admin_client.post(
        f"/admin/users/{member.id}/deactivate", data={"reason": "Left the coalition"}
    )
    assert response.status_code == 302

    # Signed out on the very next request; the token answers 401.
    answer = member_client.get("/profile")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == member.id))
    refused = member_client.post("/sign-in", data={"email": member.email, "password": PASSWORD})
    assert refused.status_code == 401
    logged = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "User", AuditEvent.object_id == member.id
        )
    ).all()
    assert [(e.action, e.actor_id, e.details["reason"]) for e in logged] == [
        ("user.deactivated", admin.id, "Left the coalition")
    ]
    assert "Left the coalition" in admin_client.get(f"/admin/users/{member.id}").get_data(
        as_text=True
    )

    response = admin_client.post(
        f"/admin/users/{member.id}/reactivate", data={"reason": "Came back"}
    )
    assert response.status_code == 302
    sign_in(member_client, member)
    assert member_client.get("/profile").status_code == 200
    # The token ended with the deactivation stays ended.
    assert app.test_client().get("/api/v1/me", headers=bearer).status_code == 401


def test_deactivation_needs_a_reason_and_never_ones_own_account(session, make, admin, admin_client):
    member = make.user()
    response = admin_client.post(f"/admin/users/{member.id}/deactivate", data={"reason": "  "})
    assert response.status_code == 400
    session.expire_all()
    assert session.get(User, member.id).active is True

    response = admin_client.post(f"/admin/users/{admin.id}/deactivate", data={"reason": "Oops"})
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, admin.id).active is True

    long_reason = {"reason": "x" * 501}
    assert (
        admin_client.post(f"/admin/users/{member.id}/deactivate", data=long_reason).status_code
        == 400
    )


def test_a_non_admin_cannot_deactivate_anyone(app, session, make):
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    member = make.member(forum).user
    client = app.test_client()
    sign_in(client, facilitator)
    response = client.post(f"/admin/users/{member.id}/deactivate", data={"reason": "No"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(User, member.id).active is True


# --- invitations sent again ---------------------------------------------------------


def test_an_invitation_never_accepted_is_sent_again(session, make, admin_client):
    forum = make.forum(name="Foro Andino")
    invited = make.member(forum, password=None).user
    before = len(outbox(session, invited.email))
    response = admin_client.post(
        f"/admin/users/{invited.id}/resend-invitation", data={"forum_id": forum.id}
    )
    assert response.status_code == 302
    assert len(outbox(session, invited.email)) == before + 1
    invitations = session.scalars(select(Invitation).where(Invitation.user_id == invited.id)).all()
    assert invitations and invitations[-1].forum_id == forum.id


def test_no_invitation_for_someone_who_joined_or_to_a_forum_they_are_not_in(
    session, make, admin_client
):
    forum, other = make.forum(), make.forum()
    joined = make.member(forum).user
    invited = make.member(forum, password=None).user
    answer = admin_client.post(
        f"/admin/users/{joined.id}/resend-invitation", data={"forum_id": forum.id}
    )
    assert answer.status_code == 409
    answer = admin_client.post(
        f"/admin/users/{invited.id}/resend-invitation", data={"forum_id": other.id}
    )
    assert answer.status_code == 404
    assert not session.scalars(select(Invitation).where(Invitation.user_id == joined.id)).all()


# --- the audit log ------------------------------------------------------------------


def logged(forum, actor, action, when, reason=None, obj=None):
    event = record(
        action, obj or forum, actor=actor, forum=forum, **({"reason": reason} if reason else {})
    )
    db.session.flush()
    event.created_at = when
    return event


@pytest.fixture
def audited(session, make):
    """A forum with a few events by two people, another forum with its own."""
    forum = make.forum()
    ana = make.member(forum, role="facilitator", name="Ana Facilitadora").user
    luis = make.member(forum, role="admin", name="Luis Admin").user
    other = make.forum()
    stranger = make.member(other, role="admin", name="Otra Persona").user
    events = {
        "hidden": logged(
            forum, ana, "comment.hidden", datetime(2026, 3, 1, 15, tzinfo=UTC), "Insulto"
        ),
        "formula": logged(
            forum, ana, "amendment.rejected", datetime(2026, 3, 5, 15, tzinfo=UTC), "=HYPERLINK(1)"
        ),
        # 03:00 UTC on 10 March is still 9 March in Bogotá (UTC-5).
        "late": logged(forum, luis, "comment.hidden", datetime(2026, 3, 10, 3, tzinfo=UTC), "Spam"),
        "elsewhere": logged(
            other, stranger, "comment.hidden", datetime(2026, 3, 2, tzinfo=UTC), "Secreto ajeno"
        ),
    }
    session.commit()
    return forum, ana, luis, other, events


def log_rows(response) -> str:
    html = response.get_data(as_text=True)
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_audit_log_filters_by_person_kind_and_date_and_its_csv_holds_the_same_rows(
    app, session, make, audited
):
    forum, ana, luis, _other, _events = audited
    luis.timezone, luis.locale = "America/Bogota", "en"
    session.commit()
    client = app.test_client()
    sign_in(client, luis)
    base = f"/forums/{forum.slug}/manage/audit"

    by_ana = client.get(base, query_string={"person": ana.id})
    assert by_ana.status_code == 200
    rows = log_rows(by_ana)
    assert "Insulto" in rows and "=HYPERLINK(1)" in rows and "Spam" not in rows
    # People read labels; the key stays in a title attribute.
    assert '<span title="amendment.rejected">Amendment rejected</span>' in rows

    hidden = client.get(base, query_string={"action": "comment.hidden"})
    assert "Insulto" in log_rows(hidden) and "Spam" in log_rows(hidden)
    assert "HYPERLINK" not in log_rows(hidden)

    # Days are the reader's: 9 March in Bogotá holds the event of 03:00 UTC on the 10th.
    ninth = {"since": "2026-03-09", "until": "2026-03-09"}
    assert "Spam" in log_rows(client.get(base, query_string=ninth))
    tenth = {"since": "2026-03-10", "until": "2026-03-10"}
    assert "Spam" not in log_rows(client.get(base, query_string=tenth))
    march = {"since": "2026-03-02", "until": "2026-03-09", "person": ana.id}
    page = log_rows(client.get(base, query_string=march))
    assert "=HYPERLINK(1)" in page and "Insulto" not in page

    exported = csv_rows(client.get(base + ".csv", query_string=march))
    assert [(row["action"], row["actor"]) for row in exported] == [
        ("amendment.rejected", "Ana Facilitadora")
    ]
    # A reason that looks like a formula is not run by a spreadsheet.
    assert exported[0]["reason"] == "'=HYPERLINK(1)"
    assert exported[0]["time_utc"] == "2026-03-05T15:00:00Z"

    everything = csv_rows(client.get(base + ".csv", query_string={"person": ana.id}))
    assert [row["reason"] for row in everything] == ["'=HYPERLINK(1)", "Insulto"]


def test_bad_audit_filters_are_a_400_with_a_message(app, session, audited):
    forum, _ana, luis, _other, _events = audited
    client = app.test_client()
    sign_in(client, luis)
    base = f"/forums/{forum.slug}/manage/audit"
    for arguments in (
        {"since": "yesterday"},
        {"since": "2026-03-10", "until": "2026-03-01"},
        {"person": "abc"},
        {"action": "x" * 100},
    ):
        assert client.get(base, query_string=arguments).status_code == 400, arguments
        assert client.get(base + ".csv", query_string=arguments).status_code == 400, arguments


def test_a_forum_manager_sees_only_their_forums_events(app, session, make, audited):
    forum, ana, _luis, other, _events = audited
    client = app.test_client()
    sign_in(client, ana)
    page = client.get(f"/forums/{forum.slug}/manage/audit")
    assert page.status_code == 200
    assert "Secreto ajeno" not in page.get_data(as_text=True)
    exported = csv_rows(client.get(f"/forums/{forum.slug}/manage/audit.csv"))
    assert "Secreto ajeno" not in {row["reason"] for row in exported}
    # The other forum's log is not theirs to read; a member reads none.
    assert client.get(f"/forums/{other.slug}/manage/audit").status_code == 404
    member = make.member(forum).user
    member_client = app.test_client()
    sign_in(member_client, member)
    assert member_client.get(f"/forums/{forum.slug}/manage/audit").status_code == 403
    assert member_client.get(f"/forums/{forum.slug}/manage/audit.csv").status_code == 403


def test_the_audit_log_links_objects_that_still_exist(app, session, make):
    forum = make.forum()
    luis = make.member(forum, role="admin").user
    coalition = make.coalition(forum, "Coalición Sur")
    gone = make.coalition(forum, "Coalición Ida")
    record("coalition.updated", coalition, actor=luis, forum=forum)
    record("coalition.updated", gone, actor=luis, forum=forum)
    gone_id = gone.id
    session.delete(gone)
    session.commit()
    client = app.test_client()
    sign_in(client, luis)
    rows = log_rows(client.get(f"/forums/{forum.slug}/manage/audit"))
    assert (
        f'<a href="/forums/{forum.slug}/manage/coalitions/{coalition.id}">Coalición Sur</a>' in rows
    )
    assert f"#{gone_id}" in rows and "Coalición Ida" not in rows


def test_every_action_kind_recorded_by_the_code_has_a_label():
    """A new kind of action gets a label here (else its raw key is shown)."""
    root = pathlib.Path(__file__).resolve().parent.parent / "consult"
    keys = set()
    for path in root.rglob("*.py"):
        keys |= set(re.findall(r'record\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert keys, "no audit records found"
    missing = sorted(key for key in keys if key not in audit_labels.ACTION_LABELS)
    assert not missing, missing


def test_the_admin_menu_reaches_the_failed_jobs_page(session, make, admin_client):
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/failed-jobs"' in html
    forum = make.forum()
    manage = admin_client.get(f"/forums/{forum.slug}/manage/").get_data(as_text=True)
    assert 'href="/admin/failed-jobs"' in manage
    assert f'href="/forums/{forum.slug}/manage/audit"' in manage
    assert 'href="/admin/users"' in manage  # the header's "Administration"
