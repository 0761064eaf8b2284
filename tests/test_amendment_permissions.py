"""What an amendment's page offers is what its services allow: for each role
(observer, member, author, facilitator) and each state of the amendment, every
action the page offers succeeds when posted, and every action it hides is
refused. The rules themselves are ``consult.amendments.permissions``."""

import re
from pathlib import Path

import pytest
from flask_babel import force_locale

from consult.amendments import lifecycle, permissions, proposing, supports
from consult.amendments.models import Amendment, AmendmentStatus
from consult.labels import label
from consult.plans import services as plans
from tests.factories import sign_in

STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
# The roles of the authorisation matrix (tests/test_authorization.py), plus the
# amendment's author.
ROLES = (
    "anonymous",
    "outsider",
    "observer",
    "member",
    "author",
    "facilitator",
    "forum_admin",
    "platform_admin",
)
STATES = ("draft", "submitted", "below threshold", "admitted")


@pytest.fixture(autouse=True)
def english(client, session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def plan(session, forum):
    plan = plans.import_plan(None, forum, STRUCTURED)
    plan.open_for_input = True
    session.commit()
    return plan


@pytest.fixture
def people(make, forum):
    return {
        "observer": make.member(forum, role="observer", locale="en").user,
        "member": make.member(forum, locale="en").user,
        "author": make.member(forum, locale="en").user,
        "facilitator": make.member(forum, role="facilitator", locale="en").user,
        "partner": make.member(forum, locale="en").user,
        "anonymous": None,
        "outsider": make.user(locale="en"),
        "forum_admin": make.member(forum, role="admin", locale="en").user,
        "platform_admin": make.user(locale="en", admin=True),
    }


def amendment_in(session, plan, people, state: str) -> Amendment:
    """An amendment by ``people["author"]`` in ``state``."""
    if state == "below threshold":
        plan.support_threshold, plan.support_threshold_kind = 2, "members"
    amendment = proposing.propose(
        people["author"],
        plan,
        target=plans.find_node(plan.current_version, "1.1").key,
        operation="replace",
        text="Promover la cooperación hemisférica.",
        submit=state != "draft",
    )
    if state == "admitted":
        lifecycle.decide(people["facilitator"], amendment, "admitted")
    session.commit()
    return amendment


# Each action: how the page offers it (a pattern of its HTML, {id} the
# amendment's) and how it is posted (path after the amendment's, form data).
ACTIONS = {
    "support": (r'amendments/{id}/support"', "/support", {}),
    "withdraw": (r'amendments/{id}/withdraw"', "/withdraw", {"reason": ""}),
    "submit": (r'amendments/{id}/submit"', "/submit", {}),
    "edit": (r'amendments/{id}/edit"', "/edit", {"text": "Otro texto.", "justification": ""}),
    "sub-amend": (r'amendments/{id}/amend"', "/amend", {"text": "Un texto mejor."}),
    "invite": (r'amendments/{id}/cosponsors"', "/cosponsors", {"email": "PARTNER"}),
    "admit": (r'name="status" value="admitted"', "/decide", {"status": "admitted"}),
    "accept": (r'name="status" value="accepted"', "/decide", {"status": "accepted"}),
    "reject": (r'name="status" value="rejected"', "/decide", {"status": "rejected"}),
    "vote": (r'name="status" value="voting"', "/decide", {"status": "voting"}),
}


def offered(html: str, amendment: Amendment) -> set[str]:
    return {
        name
        for name, (pattern, _path, _data) in ACTIONS.items()
        if re.search(pattern.format(id=amendment.id), html)
    }


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_the_page_offers_exactly_what_the_service_allows(
    client, session, forum, plan, people, role, state
):
    """Each action on an amendment of its own (an action changes it)."""
    if people[role] is not None:
        sign_in(client, people[role])
    partner = people["partner"].email
    for action, (_pattern, path, data) in ACTIONS.items():
        amendment = amendment_in(session, plan, people, state)
        amendment_id, before = amendment.id, amendment.status
        url = f"/forums/{forum.slug}/amendments/{amendment_id}"
        page = client.get(url)
        html = page.get_data(as_text=True) if page.status_code == 200 else ""
        data = {key: partner if value == "PARTNER" else value for key, value in data.items()}
        response = client.post(url + path, data=data)
        to_sign_in = response.headers.get("Location", "").startswith("/sign-in")
        if action in offered(html, amendment):
            assert response.status_code == 302 and not to_sign_in, (
                f"{role} was offered {action} and refused"
            )
        else:
            refused = response.status_code in (403, 404, 409) or to_sign_in
            assert refused, f"{role} may {action} unoffered"
            session.expire_all()
            assert session.get(Amendment, amendment_id).status == before, action


def test_an_observer_is_not_offered_support(client, session, forum, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    sign_in(client, people["observer"])
    html = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}").get_data(as_text=True)
    assert "Support this amendment" not in html
    assert not permissions.allowed(people["observer"], amendment).support
    refused = client.post(f"/forums/{forum.slug}/amendments/{amendment.id}/support")
    assert refused.status_code == 403


def test_a_member_is_offered_support_then_its_withdrawal(client, session, forum, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    sign_in(client, people["member"])
    url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    assert "Support this amendment" in client.get(url).get_data(as_text=True)
    assert client.post(url + "/support").status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Withdraw my support" in html and "Support this amendment" not in html
    assert client.post(url + "/unsupport").status_code == 302
    assert "Support this amendment" in client.get(url).get_data(as_text=True)


def test_admit_is_offered_only_once_the_threshold_is_met(client, session, forum, plan, people):
    amendment = amendment_in(session, plan, people, "below threshold")
    facilitator = people["facilitator"]
    assert permissions.Decision.ADMIT not in permissions.allowed(facilitator, amendment).decisions
    assert permissions.Decision.REJECT in permissions.allowed(facilitator, amendment).decisions
    sign_in(client, facilitator)
    url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    assert 'value="admitted"' not in client.get(url).get_data(as_text=True)
    for supporter in ("member", "partner"):
        supports.support(people[supporter], amendment)
    session.commit()
    assert 'value="admitted"' in client.get(url).get_data(as_text=True)
    assert client.post(url + "/decide", data={"status": "admitted"}).status_code == 302


def test_an_invited_co_sponsor_is_offered_to_accept(client, session, forum, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    supports.invite_cosponsor(people["author"], amendment, people["partner"].email)
    session.commit()
    url = f"/forums/{forum.slug}/amendments/{amendment.id}"
    sign_in(client, people["member"])
    assert "Co-sponsor this amendment" not in client.get(url).get_data(as_text=True)
    assert client.post(url + "/cosponsors/accept").status_code == 403
    sign_in(client, people["partner"])
    assert "Co-sponsor this amendment" in client.get(url).get_data(as_text=True)
    assert client.post(url + "/cosponsors/accept").status_code == 302


def test_an_archived_plan_offers_nothing(client, session, forum, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    plan.status = "archived"
    session.commit()
    for role in ROLES:
        assert permissions.allowed(people[role], amendment) == permissions.AmendmentActions()


def test_a_refusal_carries_the_error_its_service_raises(session, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    observer_refusal = permissions.support_refusal(people["observer"], amendment)
    author_refusal = permissions.support_refusal(people["author"], amendment)
    assert observer_refusal.error.status == 403 and author_refusal.error.status == 409
    assert permissions.support_refusal(people["member"], amendment) is None


def test_statuses_carry_their_label_and_the_filter_shows_it(app):
    with force_locale("en"):
        assert label(AmendmentStatus.MERGED) == "Merged into a compromise"
        assert label("revise", "AmendmentStatus") == "To be revised by the author"
        assert label("replace", "AmendmentOperation") == "Replace the text"
        assert label("unknown", "AmendmentStatus") == "unknown"
        rendered = app.jinja_env.from_string("{{ s|label }}").render(s=AmendmentStatus.VOTING)
        assert rendered == "Put to a vote"
    assert AmendmentStatus.SUBMITTED == "submitted" and AmendmentStatus.VOTING.is_open
    assert AmendmentStatus.WITHDRAWN.is_final and not AmendmentStatus.DRAFT.is_open


def test_a_status_read_back_from_the_database_is_a_member(session, plan, people):
    amendment = amendment_in(session, plan, people, "submitted")
    session.expire_all()
    assert session.get(Amendment, amendment.id).status is AmendmentStatus.SUBMITTED
