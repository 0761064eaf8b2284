"""Who may open what: a role-by-route matrix built from app.url_map, cross-forum
id tampering (IDOR), and what public forums show to visitors."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from consult.accounts import services as accounts
from consult.amendments import proposing
from consult.assembly import queries as assembly_queries
from consult.assembly import sessions as assembly_sessions
from consult.comments import services as comments
from consult.consolidation import services as consolidation
from consult.consultations import services as consultations
from consult.extensions import db
from consult.forums.models import Forum
from consult.plan_pages import exports
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.factories import sign_in

ROLES = (
    "anonymous",
    "outsider",  # signed in, member of another private forum only
    "observer",
    "member",  # in the working group used in the URLs
    "member_other_group",  # in another working group of the forum
    "facilitator",
    "forum_admin",
    "platform_admin",  # User.is_admin, not a member of the forum
)
MISSING_SLUG = "no-such-forum-anywhere"
LOGIN = (302, "/sign-in")  # what @login_required answers to anonymous visitors
TO_MEMBERS = (302, "/forums/{slug}/manage/members")
TO_GROUP = (302, "/forums/{slug}/manage/groups/{group_slug}")
TO_AMENDMENT = (302, "/forums/{slug}/amendments/{amendment_id}")
TO_ITEM = (302, "/forums/{slug}/plans/{plan_id}/items/{key}/")
TO_CONSULTATION = (302, "/forums/{slug}/consultations/{consultation_id}")
TO_POLL = (302, "/forums/{slug}/polls/{poll_id}")
TO_SESSION = (302, "/forums/{slug}/assembly/{session_id}")
TO_MINUTES = (302, "/forums/{slug}/assembly/{session_id}/minutes")
ASSEMBLY = "/forums/<slug>/assembly/<int:session_id>"
SESSIONS = "/forums/<slug>/consultations/<int:consultation_id>/assembly"


def everyone(expected, **exceptions):
    return {**dict.fromkeys(ROLES, expected), **exceptions}


def private_forum_page():
    """Members and observers (and platform admins) see it; others get a plain 404."""
    return everyone(200, anonymous=404, outsider=404)


def managers_only(allowed=200):
    managers = dict.fromkeys(("facilitator", "forum_admin", "platform_admin"), allowed)
    return everyone(403, anonymous=LOGIN, outsider=404, **managers)


def summoned_delegates_only():
    """Checking in, speaking, proxies: the delegates an assembly session summons."""
    return everyone(403, anonymous=LOGIN, outsider=404)


def draft_minutes():
    """Unsigned minutes: those who run the session read them (a private forum
    hides them from visitors like any of its pages; no sign-in asked first, since
    a public forum's signed minutes are for everyone)."""
    return {**managers_only(), "anonymous": 404}


DRAFT_MINUTES = draft_minutes()


# One row per rule of app.url_map (except static): the answer to GET, or to a
# POST with an empty form for POST-only rules. A status, or (302, Location path).
MATRIX = {
    # The assembly in session: the world's session is called, not open, and
    # chaired by the facilitator; no role here is a delegate it summons.
    SESSIONS: private_forum_page(),
    SESSIONS + "/new": managers_only(),
    ASSEMBLY: private_forum_page(),
    ASSEMBLY + "/console": managers_only(),
    ASSEMBLY + "/console/live": managers_only(),
    ASSEMBLY + "/projector": private_forum_page(),
    ASSEMBLY + "/projector/live": private_forum_page(),
    ASSEMBLY + "/phone": private_forum_page(),
    ASSEMBLY + "/phone/live": private_forum_page(),
    # Its live events (Server-Sent Events, and the polling fallback): whoever
    # may follow the session; a channel says no forum, so a refusal is a 403
    # (the same for a session that does not exist).
    "/live/<channel>/events": everyone(200, anonymous=403, outsider=403),
    "/live/<channel>/since": everyone(200, anonymous=403, outsider=403),
    ASSEMBLY + "/points": managers_only(TO_SESSION),
    ASSEMBLY + "/points/<int:point_id>/move": managers_only(TO_SESSION),
    ASSEMBLY + "/points/<int:point_id>/remove": managers_only(TO_SESSION),
    ASSEMBLY + "/points/<int:point_id>/take-up": managers_only(TO_SESSION),
    ASSEMBLY + "/points/<int:point_id>/outcome": managers_only(TO_SESSION),
    ASSEMBLY + "/start": managers_only(TO_SESSION),
    ASSEMBLY + "/adjourn": managers_only(TO_SESSION),
    ASSEMBLY + "/speaking-rules": managers_only(TO_SESSION),
    ASSEMBLY + "/move-on": managers_only(TO_SESSION),
    ASSEMBLY + "/vote/open": managers_only(TO_SESSION),
    ASSEMBLY + "/vote/close": managers_only(TO_SESSION),
    ASSEMBLY + "/speakers/next": managers_only(TO_SESSION),
    ASSEMBLY + "/speakers/finish": managers_only(TO_SESSION),
    ASSEMBLY + "/speakers/time": managers_only(TO_SESSION),
    ASSEMBLY + "/presence/mark": managers_only(TO_SESSION),
    ASSEMBLY + "/check-in": summoned_delegates_only(),
    ASSEMBLY + "/check-out": summoned_delegates_only(),
    ASSEMBLY + "/speakers/ask": summoned_delegates_only(),
    ASSEMBLY + "/speakers/<int:request_id>/withdraw": summoned_delegates_only(),
    ASSEMBLY + "/proxy": summoned_delegates_only(),
    ASSEMBLY + "/proxy/revoke": summoned_delegates_only(),
    # Its minutes: a draft for those who run the session; only its chair (the
    # facilitator) signs them, once it is adjourned (by the /adjourn row, whose
    # blueprint comes first in the url_map).
    ASSEMBLY + "/minutes": DRAFT_MINUTES,
    ASSEMBLY + "/minutes.pdf": DRAFT_MINUTES,
    ASSEMBLY + "/minutes.docx": DRAFT_MINUTES,
    ASSEMBLY + "/minutes.json": DRAFT_MINUTES,
    ASSEMBLY + "/minutes/regenerate": managers_only(TO_MINUTES),
    ASSEMBLY + "/minutes/sign": everyone(
        403, anonymous=LOGIN, outsider=404, facilitator=TO_MINUTES
    ),
    "/": everyone(200),
    "/healthz": everyone(200),
    "/healthz/ready": everyone(200),
    "/language": everyone((302, "/")),
    "/sign-in": everyone((302, "/"), anonymous=200),
    "/sign-out": everyone((302, "/"), anonymous=LOGIN),
    "/password-reset": everyone(200),
    "/password-reset/<token>": everyone((302, "/password-reset")),
    "/profile": everyone(200, anonymous=LOGIN),
    "/profile/password": everyone(400, anonymous=LOGIN),
    "/profile/calendar": everyone((302, "/profile"), anonymous=LOGIN),
    # Account lifecycle: a new email address (its link opens without signing in:
    # the signed token is the key), the member's data, deleting the account.
    "/profile/email": everyone(400, anonymous=LOGIN),
    "/profile/email/<token>": everyone(400),
    "/profile/data": everyone(200, anonymous=LOGIN),
    "/profile/data.json": everyone(200, anonymous=LOGIN),
    "/profile/data.html": everyone(200, anonymous=LOGIN),
    "/profile/delete": everyone(200, anonymous=LOGIN),
    "/profile/two-step": everyone(200, anonymous=LOGIN),
    "/profile/two-step/start": everyone((302, "/profile/two-step"), anonymous=LOGIN),
    "/profile/two-step/confirm": everyone(400, anonymous=LOGIN),
    "/profile/two-step/recovery-codes": everyone(400, anonymous=LOGIN),
    "/profile/two-step/off": everyone(400, anonymous=LOGIN),
    # The code after the password: without a password just given, back to signing in.
    "/sign-in/two-step": everyone((302, "/sign-in")),
    "/admin/two-step": everyone(403, anonymous=LOGIN, platform_admin=200),
    # A member's calendar feed: only its secret opens it (the world's member has none).
    "/calendar/<int:user_id>/<key>.ics": everyone(404),
    "/forums/new": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/forums/<slug>/": private_forum_page(),
    "/forums/<slug>/groups/<group_slug>": private_forum_page(),
    "/forums/<slug>/manage/": managers_only(),
    "/forums/<slug>/manage/members": managers_only(),
    "/forums/<slug>/manage/members/invite": managers_only(),
    "/forums/<slug>/manage/members/<int:membership_id>": managers_only(),
    "/forums/<slug>/manage/members/<int:membership_id>/remove": managers_only(TO_MEMBERS),
    "/forums/<slug>/manage/members/<int:membership_id>/resend": managers_only(TO_MEMBERS),
    "/forums/<slug>/manage/members/import": managers_only(),
    "/forums/<slug>/manage/coalitions": managers_only(),
    "/forums/<slug>/manage/coalitions/<int:coalition_id>": managers_only(),
    "/forums/<slug>/manage/groups": managers_only(),
    "/forums/<slug>/manage/groups/<group_slug>": managers_only(),
    "/forums/<slug>/manage/groups/<group_slug>/members": managers_only(400),
    "/forums/<slug>/manage/groups/<group_slug>/members/<int:user_id>/remove": managers_only(
        TO_GROUP
    ),
    "/forums/<slug>/plans/": private_forum_page(),
    "/forums/<slug>/plans/import": managers_only(),
    "/forums/<slug>/plans/<int:plan_id>/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/versions/<int:number>": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/history": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/compare": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/export/<fmt>": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/exports/<int:export_id>": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/exports/<int:export_id>/status.json": (
        private_forum_page()
    ),
    "/forums/<slug>/plans/<int:plan_id>/nodes/<key>/edit": managers_only(),
    "/forums/<slug>/plans/<int:plan_id>/edit": managers_only(),
    "/invitations/<token>": everyone(404),
    # Amendments (the plan is closed for input; the amendment is someone else's, submitted).
    "/forums/<slug>/plans/<int:plan_id>/items/<key>/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/items/<key>/amend": everyone(
        403, anonymous=LOGIN, outsider=404, facilitator=200, forum_admin=200, platform_admin=200
    ),
    "/forums/<slug>/plans/<int:plan_id>/diff": everyone(200, anonymous=LOGIN, outsider=404),
    "/forums/<slug>/plans/<int:plan_id>/amendments/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/amendments/triage": managers_only(),
    # Several decisions at once: an empty form chooses none (400).
    "/forums/<slug>/plans/<int:plan_id>/amendments/triage/decisions": managers_only(400),
    "/forums/<slug>/plans/<int:plan_id>/amendments/import": managers_only(),
    "/forums/<slug>/plans/<int:plan_id>/items/<key>/compromise": managers_only(),
    "/forums/<slug>/plans/<int:plan_id>/settings": managers_only(),
    # Archiving (an empty form: no reason, nothing changes).
    "/forums/<slug>/plans/<int:plan_id>/archive": managers_only(400),
    "/forums/<slug>/plans/<int:plan_id>/restore": managers_only(400),
    # A whole forum: its administrators only (an empty form: no reason).
    "/forums/<slug>/archive": {**managers_only(400), "facilitator": 403},
    "/forums/<slug>/restore": {**managers_only(400), "facilitator": 403},
    "/forums/<slug>/amendments/<int:amendment_id>": private_forum_page(),
    "/forums/<slug>/amendments/<int:amendment_id>/submit": everyone(
        409, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/withdraw": everyone(
        403, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/support": everyone(
        409,  # the calendar: supports are not open yet
        anonymous=LOGIN,
        outsider=404,
        observer=403,
        platform_admin=403,
        facilitator=TO_AMENDMENT,
        forum_admin=TO_AMENDMENT,
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/unsupport": everyone(
        TO_AMENDMENT, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/decide": managers_only(400),
    "/forums/<slug>/amendments/<int:amendment_id>/cosponsors": everyone(
        403, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/cosponsors/accept": everyone(
        403, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/edit": everyone(
        403, anonymous=LOGIN, outsider=404
    ),
    "/forums/<slug>/amendments/<int:amendment_id>/amend": everyone(
        409, anonymous=LOGIN, outsider=404
    ),
    # Consultations
    "/forums/<slug>/plans/<int:plan_id>/consultation/new": managers_only(TO_CONSULTATION),
    "/forums/<slug>/consultations/<int:consultation_id>": private_forum_page(),
    "/forums/<slug>/consultations/<int:consultation_id>/calendar.ics": private_forum_page(),
    "/forums/<slug>/consultations/<int:consultation_id>/dashboard": managers_only(),
    "/forums/<slug>/consultations/<int:consultation_id>/dashboard.csv": managers_only(),
    "/forums/<slug>/consultations/<int:consultation_id>/advance": managers_only(TO_CONSULTATION),
    "/forums/<slug>/consultations/<int:consultation_id>/phases/<int:phase_id>/extend": (
        managers_only(TO_CONSULTATION)
    ),
    # Notifications
    "/notifications/": everyone(200, anonymous=LOGIN),
    "/notifications/read": everyone((302, "/notifications/"), anonymous=LOGIN),
    "/notifications/unsubscribe/<token>": everyone(400),  # the token is not valid
    # The member's settings; following or muting (an empty form: no choice, 400)
    # is for the forum's members (platform administrators see but are not told).
    "/notifications/preferences": everyone(200, anonymous=LOGIN),
    "/notifications/watch/amendment/<int:amendment_id>": everyone(
        400, anonymous=LOGIN, outsider=404, platform_admin=403
    ),
    "/notifications/watch/thread/<int:comment_id>": everyone(
        400, anonymous=LOGIN, outsider=404, platform_admin=403
    ),
    "/admin/failed-jobs": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/admin/failed-jobs/emails/retry": everyone(403, anonymous=LOGIN, platform_admin=400),
    "/admin/failed-jobs/jobs/retry": everyone(403, anonymous=LOGIN, platform_admin=400),
    # Help and the legal texts: for everyone; the legal texts are written by
    # platform administrators.
    "/help/": everyone(200),
    "/help/member": everyone(200),
    "/help/facilitator": everyone(200),
    "/help/translator": everyone(200),
    "/help/delegate": everyone(200),
    "/help/administrator": everyone(200),
    "/privacy": everyone(200),
    "/terms": everyone(200),
    "/admin/legal": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/admin/legal/privacy": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/admin/legal/terms": everyone(403, anonymous=LOGIN, platform_admin=200),
    # Accounts: platform administrators only (an empty form: no reason, nothing changes).
    "/admin/users": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/admin/users/<int:user_id>": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/admin/users/<int:user_id>/deactivate": everyone(403, anonymous=LOGIN, platform_admin=400),
    "/admin/users/<int:user_id>/reactivate": everyone(403, anonymous=LOGIN, platform_admin=400),
    "/admin/users/<int:user_id>/resend-invitation": everyone(
        403, anonymous=LOGIN, platform_admin=400
    ),
    # A forum's audit log: its facilitators and administrators.
    "/forums/<slug>/manage/audit": managers_only(),
    "/forums/<slug>/manage/audit.csv": managers_only(),
    # Comments
    "/forums/<slug>/comments/thread": everyone(400, anonymous=404, outsider=404),
    "/forums/<slug>/comments/": everyone(
        400, anonymous=LOGIN, outsider=404, observer=403, platform_admin=403
    ),
    "/forums/<slug>/comments/<int:comment_id>": everyone(
        (302, "/forums/{slug}/comments/thread"), anonymous=404, outsider=404
    ),
    "/forums/<slug>/comments/<int:comment_id>/edit": everyone(
        403, anonymous=LOGIN, outsider=404, member=400
    ),
    "/forums/<slug>/comments/<int:comment_id>/delete": everyone(
        403, anonymous=LOGIN, outsider=404, member=TO_ITEM
    ),
    "/forums/<slug>/comments/<int:comment_id>/flag": everyone(
        TO_ITEM, anonymous=LOGIN, outsider=404, member=400, platform_admin=403
    ),
    "/forums/<slug>/comments/<int:comment_id>/hide": managers_only(400),
    "/forums/<slug>/comments/<int:comment_id>/restore": managers_only(409),
    # Votes (a poll on the plan, to open in 2030; the rules run in this order, so a
    # manager opens it, then closes it, then cannot cancel it).
    "/forums/<slug>/polls/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/polls/new": managers_only(),
    "/forums/<slug>/polls/<int:poll_id>": private_forum_page(),
    "/forums/<slug>/polls/<int:poll_id>/vote": everyone(409, anonymous=LOGIN, outsider=404),
    "/forums/<slug>/polls/<int:poll_id>/receipt": everyone(400, anonymous=404, outsider=404),
    "/forums/<slug>/polls/<int:poll_id>/open": managers_only(TO_POLL),
    "/forums/<slug>/polls/<int:poll_id>/close": managers_only(TO_POLL),
    "/forums/<slug>/polls/<int:poll_id>/cancel": managers_only(409),
    "/forums/<slug>/polls/<int:poll_id>/proxy": everyone(409, anonymous=LOGIN, outsider=404),
    "/forums/<slug>/polls/<int:poll_id>/proxy/revoke": everyone(409, anonymous=LOGIN, outsider=404),
    "/forums/<slug>/polls/<int:poll_id>/roll-call": managers_only(),
    "/forums/<slug>/polls/<int:poll_id>/results.json": everyone(
        409, anonymous=404, outsider=404, facilitator=200, forum_admin=200, platform_admin=200
    ),
    "/forums/<slug>/polls/<int:poll_id>/results.csv": everyone(
        409, anonymous=404, outsider=404, facilitator=200, forum_admin=200, platform_admin=200
    ),
    # Every ballot with its weight: for those who run the forum's votes only.
    "/forums/<slug>/polls/<int:poll_id>/ballots.json": managers_only(),
    "/forums/<slug>/polls/<int:poll_id>/ballots.csv": managers_only(),
    # Plan content translations (into "pt"; translators and facilitators translate)
    "/forums/<slug>/plans/<int:plan_id>/translations/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/translations/<language>": managers_only(),
    "/forums/<slug>/plans/<int:plan_id>/translations/<language>.po": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/translations/<language>/import": managers_only(),
    "/forums/<slug>/amendments/<int:amendment_id>/translations": everyone(
        400, anonymous=LOGIN, outsider=404
    ),
    # Consolidated drafts (a new one's id is not known in advance: any redirect)
    "/forums/<slug>/plans/<int:plan_id>/consolidations/": private_forum_page(),
    "/forums/<slug>/plans/<int:plan_id>/consolidations/new": managers_only((302, None)),
    "/forums/<slug>/plans/<int:plan_id>/consolidations/<int:consolidation_id>": (
        private_forum_page()
    ),
    "/forums/<slug>/plans/<int:plan_id>/consolidations/<int:consolidation_id>/status.json": (
        private_forum_page()
    ),
    # Search (results are filtered, never refused)
    "/search": everyone(200),
    # The API's page and personal tokens
    "/api/": everyone(200),
    "/profile/tokens": everyone(200, anonymous=LOGIN),
    # The JSON API (signed in through the browser's session, as these requests are)
    "/api/v1/openapi.json": everyone(200),
    "/api/v1/me": everyone(200, anonymous=401),
    "/api/v1/forums": everyone(200),
    "/api/v1/forums/<slug>": private_forum_page(),
    "/api/v1/forums/<slug>/plans": private_forum_page(),
    "/api/v1/forums/<slug>/plans/<id:plan_id>": private_forum_page(),
    "/api/v1/forums/<slug>/plans/<id:plan_id>/versions": private_forum_page(),
    "/api/v1/forums/<slug>/plans/<id:plan_id>/versions/<id:number>": private_forum_page(),
    "/api/v1/forums/<slug>/plans/<id:plan_id>/versions/<id:number>/nodes": private_forum_page(),
    "/api/v1/forums/<slug>/plans/<id:plan_id>/amendments": private_forum_page(),
    "/api/v1/forums/<slug>/amendments/<id:amendment_id>": private_forum_page(),
    "/api/v1/forums/<slug>/amendments/<id:amendment_id>/support": everyone(
        409,  # the calendar: supports are not open yet
        anonymous=404,
        outsider=404,
        observer=403,
        platform_admin=403,
        facilitator=200,
        forum_admin=200,
    ),
    "/api/v1/forums/<slug>/comments": everyone(400, anonymous=404, outsider=404),
    "/api/v1/forums/<slug>/polls": private_forum_page(),
    "/api/v1/forums/<slug>/polls/<id:poll_id>": private_forum_page(),
    "/api/v1/notifications": everyone(200, anonymous=401),
    "/api/v1/notifications/read": everyone(200, anonymous=401),
    "/api/v1/search": everyone(400),
    # Open data of a consultation (whoever may read the forum)
    "/forums/<slug>/consultations/<int:consultation_id>/open-data/": private_forum_page(),
    "/forums/<slug>/consultations/<int:consultation_id>/open-data/assembly-minutes.json": (
        private_forum_page()
    ),
    "/forums/<slug>/consultations/<int:consultation_id>/open-data/<dataset>.csv": (
        private_forum_page()
    ),
    "/forums/<slug>/consultations/<int:consultation_id>/open-data/<dataset>.json": (
        private_forum_page()
    ),
}

# Which object a rule's URL names, where it differs from World.values.
VALUE_OVERRIDES = {
    "/forums/<slug>/manage/members/<int:membership_id>/remove": {"membership_id": "victim_id"},
}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """These tests sign in dozens of people; hashing is not what they test."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def routed_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def fill(rule_text: str, values: dict) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), rule_text)


def main_of(response) -> str:
    """The page's <main>, without flashed messages left over from earlier requests
    (a JSON answer of the API: its body)."""
    if response.is_json:
        return response.get_data(as_text=True)
    match = re.search(r"<main[^>]*>(.*?)</main>", response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:300]
    return re.sub(r'<div class="flashes".*?</div>', "", match.group(1), flags=re.S).strip()


def heading_of(response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    return match.group(1).strip() if match else ""


def snapshot(session) -> dict:
    """Every domain row (not sessions, sign-in attempts or sign-in times)."""
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name in {"user_sessions", "auth_attempts", "alembic_version"}:
            continue
        columns = [c for c in table.columns if c.name != "last_sign_in_at"]
        rows = session.execute(select(*columns).order_by(*table.primary_key.columns))
        state[table.name] = [tuple(row) for row in rows]
    return state


@dataclass
class World:
    forum: Forum
    users: dict  # role -> User (None for anonymous)
    values: dict  # URL placeholder -> value

    def url_values(self, rule_text: str) -> dict:
        renamed = VALUE_OVERRIDES.get(rule_text, {})
        return {**self.values, **{name: self.values[src] for name, src in renamed.items()}}


@pytest.fixture
def world(make):
    forum = make.forum(public=False)
    elsewhere = make.forum(public=False)
    group, other_group = make.group(forum), make.group(forum)
    users = {
        "anonymous": None,
        "outsider": make.member(elsewhere).user,
        "observer": make.member(forum, role="observer").user,
        "member": make.member(forum, groups=[group]).user,
        "member_other_group": make.member(forum, groups=[other_group]).user,
        "facilitator": make.member(forum, role="facilitator").user,
        "forum_admin": make.member(forum, role="admin").user,
        "platform_admin": make.user(admin=True),
    }
    values = {
        "slug": forum.slug,
        "group_slug": group.slug,
        "coalition_id": make.coalition(forum).id,
        "membership_id": make.member(forum, make.user(password=None)).id,  # invited, not joined
        "victim_id": make.member(forum, password=None).id,  # removed by the remove row
        "user_id": make.member(forum, groups=[group], password=None).user_id,  # leaves the group
        "token": "not-a-valid-token",
        "fmt": "html",
        "dataset": "amendments",
        "number": 1,
        "language": "pt",
    }
    plan = plans.import_plan(None, forum, "Plan\n\n1. First item.\n\n2. Second item.\n")
    values["plan_id"], values["key"] = plan.id, plans.version_nodes(plan.current_version)[0].key
    plan.open_for_input = True  # only while the amendment and the comment are written
    author = make.member(forum).user
    values["amendment_id"] = proposing.propose(
        author, plan, target=values["key"], operation="replace", text="Another text.", submit=True
    ).id
    values["comment_id"] = comments.post_comment(
        users["member"],
        forum,
        plan=plan,
        target_type="node",
        target_key=values["key"],
        body="A comment.",
    ).id
    plan.open_for_input = False
    start = datetime(2030, 1, 1, tzinfo=UTC)
    consultation = consultations.create_consultation(
        None,
        plan,
        title="Consultation",
        phases=[consultations.PhaseInput("amendments", start, start + timedelta(days=30))],
    )
    values["consultation_id"], values["phase_id"] = consultation.id, consultation.phases[0].id
    assembly = assembly_sessions.create_session(
        None,
        consultation,
        assembly_sessions.SessionInput(
            title="Session", starts_at=start, chair_id=users["facilitator"].id
        ),
    )
    values["session_id"], values["request_id"] = assembly.id, 1  # no such request
    values["channel"] = f"assembly:{assembly.id}"  # the session's live events
    values["point_id"] = assembly_queries.points(assembly)[0].id
    values["consolidation_id"] = consolidation.request(None, plan, by_command=True)[0].id
    values["export_id"] = exports.request_export(plan, plan.current_version, "odt", "es").id
    delegate = make.member(forum)
    delegate.is_delegate = True
    # A plan without a consultation: its vote opens whenever a facilitator opens
    # it (the consultation above, still to come, would keep a vote of its plan waiting).
    voted_plan = plans.import_plan(None, forum, "Plan\n\n1. First item.\n")
    values["poll_id"] = votes_setup.create_poll(
        users["facilitator"],
        voted_plan,
        subject="plan",
        scope="assembly",
        opens_at=start,
        closes_at=start + timedelta(days=30),
    ).id
    make.session.commit()
    return World(forum, users, values)


def check(response, expected, values) -> str | None:
    status, location = expected if isinstance(expected, tuple) else (expected, None)
    problem = None
    if response.status_code != status:
        problem = f"status {response.status_code}, expected {status}"
    elif location is not None:
        path = urlsplit(response.headers.get("Location", "")).path
        if path != location.format(**values):
            problem = f"redirected to {path!r}, expected {location.format(**values)!r}"
    return problem


def test_every_route_has_a_row_for_every_role(app):
    rules = {rule.rule for rule in routed_rules(app)}
    missing, stale = sorted(rules - MATRIX.keys()), sorted(MATRIX.keys() - rules)
    assert not missing, f"routes without a row in MATRIX (add one): {missing}"
    assert not stale, f"rows in MATRIX for routes that no longer exist: {stale}"
    for rule_text, row in MATRIX.items():
        assert set(row) == set(ROLES), rule_text


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_status_the_matrix_gives_on_every_route(app, client, world, role):
    if world.users[role] is not None:
        sign_in(client, world.users[role])
    # Signing out ends the session, so it goes last.
    rules = sorted(routed_rules(app), key=lambda rule: rule.endpoint == "accounts.sign_out")
    failures = []
    for rule in rules:
        values = world.url_values(rule.rule)
        try:
            url = fill(rule.rule, values)
        except KeyError as missing:
            failures.append(f"{rule.rule}: no value for {missing} in the world fixture")
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={} if method == "POST" else None)
        expected = MATRIX.get(rule.rule, {}).get(role)
        if expected is None:
            failures.append(f"{method} {url}: no row in MATRIX for {rule.rule}")
        elif problem := check(response, expected, values):
            failures.append(f"{method} {url}: {problem}")
        elif response.status_code == 404 and "<slug>" in rule.rule:
            # A hidden forum must look exactly like one that does not exist.
            ghost = client.open(
                fill(rule.rule, {**values, "slug": MISSING_SLUG}),
                method=method,
                data={} if method == "POST" else None,
            )
            if ghost.status_code != 404 or main_of(ghost) != main_of(response):
                failures.append(f"{method} {url}: 404 differs from a forum that does not exist")
    assert not failures, f"{role}:\n" + "\n".join(failures)


@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_a_private_forum_looks_the_same_as_a_missing_one(client, world, role):
    if world.users[role] is not None:
        sign_in(client, world.users[role])
    hidden = client.get(f"/forums/{world.forum.slug}/")
    missing = client.get(f"/forums/{MISSING_SLUG}/")
    assert hidden.status_code == missing.status_code == 404
    assert heading_of(hidden) == heading_of(missing) != ""
    assert main_of(hidden) == main_of(missing)
    assert world.forum.name not in hidden.get_data(as_text=True)


# --- IDOR: ids of forum B used by a facilitator of forum A ---------------------


def two_forums(make, b_public=False):
    """Forum A's facilitator (to sign in), and the slugs and ids of A and B."""
    a, b = make.forum(), make.forum(public=b_public)
    a_group, b_group = make.group(a, "Shared name"), make.group(b, "Only in B")
    b_member = make.member(b, groups=[b_group])
    ids = {"a": a.slug, "b": b.slug, "a_group": a_group.slug, "b_group": b_group.slug}
    a_member = make.member(a)
    ids |= {"a_member": a_member.id, "b_member": b_member.id, "b_user": b_member.user_id}
    ids |= {"a_member_email": a_member.user.email, "b_member_email": b_member.user.email}
    ids |= {"b_invitee": make.member(b, make.user(password=None)).id, "b_group_id": b_group.id}
    ids["b_coalition"] = make.coalition(b, "B coalition").id
    return make.member(a, role="facilitator").user, ids


def send(client, method, url, form, ids):
    """``url`` and ``form`` (a query string) with the ids filled in."""
    data = dict(parse_qsl(form.format(**ids), keep_blank_values=True)) if form else {}
    return client.open(url.format(**ids), method=method, data=data if method == "POST" else None)


INVITE = "email=new%40example.org&display_name=New&role=member&country=&locale=es"
A = "/forums/{a}/manage"
B = "/forums/{b}/manage"
IDS_OF_B_IN_URLS_OF_A = [
    ("GET", A + "/members/{b_member}", ""),
    ("POST", A + "/members/{b_member}", "role=admin&coalition_id=0&vote_weight=9&is_delegate=y"),
    ("POST", A + "/members/{b_member}/remove", ""),
    ("POST", A + "/members/{b_invitee}/resend", ""),
    ("GET", A + "/coalitions/{b_coalition}", ""),
    ("POST", A + "/coalitions/{b_coalition}", "name=Hijacked&country="),
    ("GET", A + "/groups/{b_group}", ""),
    ("POST", A + "/groups/{b_group}", "name=Hijacked&description=x"),
    ("POST", A + "/groups/{b_group}/members", "m-email={a_member_email}&m-role=member"),
    ("POST", A + "/groups/{b_group}/members/{b_user}/remove", ""),
]


@pytest.mark.parametrize(("method", "url", "form"), IDS_OF_B_IN_URLS_OF_A)
def test_ids_of_another_forum_in_a_managed_forums_urls_are_not_found(
    client, session, make, method, url, form
):
    facilitator, ids = two_forums(make)
    sign_in(client, facilitator)
    before = snapshot(session)
    assert send(client, method, url, form, ids).status_code == 404
    assert snapshot(session) == before


IDS_OF_B_IN_FORMS_OF_A = [
    (A + "/members/invite", INVITE + "&coalition_id={b_coalition}"),
    (A + "/members/invite", INVITE + "&coalition_id=0&group_ids={b_group_id}"),
    (A + "/members/{a_member}", "role=member&coalition_id={b_coalition}&vote_weight=1"),
    (A + "/members/{a_member}", "role=member&coalition_id=0&group_ids={b_group_id}"),
    (A + "/groups/{a_group}/members", "m-email={b_member_email}&m-role=facilitator"),
]


@pytest.mark.parametrize(("url", "form"), IDS_OF_B_IN_FORMS_OF_A)
def test_ids_of_another_forum_in_a_managed_forums_forms_are_refused(
    client, session, make, url, form
):
    facilitator, ids = two_forums(make)
    sign_in(client, facilitator)
    before = snapshot(session)
    assert send(client, "POST", url, form, ids).status_code in (400, 404)
    assert snapshot(session) == before


SLUG_OF_B = [
    ("GET", B + "/", ""),
    ("POST", B + "/", "name=Hijacked&description=&default_locale=es"),
    ("GET", B + "/members", ""),
    ("POST", B + "/members/invite", INVITE + "&coalition_id=0"),
    ("POST", B + "/members/{b_member}", "role=admin&coalition_id=0&vote_weight=1"),
    ("POST", B + "/members/{b_member}/remove", ""),
    ("POST", B + "/members/{b_invitee}/resend", ""),
    ("POST", B + "/coalitions", "name=Hijacked&country="),
    ("POST", B + "/coalitions/{b_coalition}", "name=Hijacked&country="),
    ("POST", B + "/groups", "name=Hijacked&description="),
    ("POST", B + "/groups/{b_group}", "name=Hijacked&description="),
    ("POST", B + "/groups/{b_group}/members", "m-email={b_member_email}&m-role=member"),
    ("POST", B + "/groups/{b_group}/members/{b_user}/remove", ""),
]


@pytest.mark.parametrize(
    ("b_public", "status"), [(False, 404), (True, 403)], ids=["private", "public"]
)
def test_a_facilitator_of_one_forum_cannot_manage_another_by_its_slug(
    client, session, make, b_public, status
):
    facilitator, ids = two_forums(make, b_public=b_public)
    sign_in(client, facilitator)
    before = snapshot(session)
    answers = {
        url: send(client, method, url, form, ids).status_code for method, url, form in SLUG_OF_B
    }
    assert answers == dict.fromkeys(answers, status)
    assert snapshot(session) == before


# --- public forums -----------------------------------------------------------


@pytest.fixture
def public_forum(make):
    forum = make.forum(public=True, name="Open network")
    group = make.group(forum, "Culture and rights")
    make.member(forum, groups=[group], name="Quetzalli Hidden-Name")
    facilitator = make.member(forum, role="facilitator").user
    return forum, group, facilitator


def test_a_public_forums_page_is_readable_anonymously(client, public_forum):
    forum, group, _ = public_forum
    response = client.get(f"/forums/{forum.slug}/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Open network" in html and group.name in html


@pytest.mark.parametrize("viewer", ["anonymous", "signed-in non-member"])
def test_a_public_groups_member_list_is_hidden_from_non_members(client, make, public_forum, viewer):
    forum, group, _ = public_forum
    if viewer != "anonymous":
        sign_in(client, make.user())
    response = client.get(f"/forums/{forum.slug}/groups/{group.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert group.name in html
    assert "Quetzalli Hidden-Name" not in html


def test_a_public_groups_member_list_is_shown_to_members(client, make, public_forum):
    forum, group, _ = public_forum
    sign_in(client, make.member(forum).user)
    response = client.get(f"/forums/{forum.slug}/groups/{group.slug}")
    assert "Quetzalli Hidden-Name" in response.get_data(as_text=True)


@pytest.mark.parametrize("viewer", ["anonymous", "non-member", "member", "observer", "facilitator"])
def test_a_public_forums_management_still_requires_a_manager(
    app, client, make, public_forum, viewer
):
    forum, group, facilitator = public_forum
    if viewer == "facilitator":
        sign_in(client, facilitator)
    elif viewer == "non-member":
        sign_in(client, make.user())
    elif viewer != "anonymous":
        sign_in(client, make.member(forum, role=viewer).user)
    values = {
        "slug": forum.slug,
        "group_slug": group.slug,
        "coalition_id": make.coalition(forum).id,
        "membership_id": make.member(forum).id,
    }
    urls = [
        fill(rule.rule, values)
        for rule in routed_rules(app)
        if rule.rule.startswith("/forums/<slug>/manage") and "GET" in rule.methods
    ]
    assert len(urls) >= 8
    answers = {url: client.get(url) for url in urls}
    status = {"anonymous": 302, "facilitator": 200}.get(viewer, 403)
    assert {url: r.status_code for url, r in answers.items()} == dict.fromkeys(urls, status)
    if status == 302:
        assert all(urlsplit(r.headers["Location"]).path == "/sign-in" for r in answers.values())
