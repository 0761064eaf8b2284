"""Who may open what: a role × route matrix built from app.url_map, cross-forum
id tampering (IDOR), and what public forums show to visitors."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from consult.accounts import services as accounts
from consult.accounts.models import User
from consult.extensions import db
from consult.forums.models import Coalition, Forum, Membership, WorkingGroup
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


def everyone(expected, **exceptions):
    return {**dict.fromkeys(ROLES, expected), **exceptions}


def private_forum_page():
    """Members and observers (and platform admins) see it; others get a plain 404."""
    return everyone(200, anonymous=404, outsider=404)


def managers_only(allowed=200):
    return everyone(403, anonymous=LOGIN, outsider=404, facilitator=allowed,
                    forum_admin=allowed, platform_admin=allowed)


# One row per rule of app.url_map (except static): the answer to GET, or to a
# POST with an empty form for POST-only rules. A status, or (302, Location path).
MATRIX = {
    "/": everyone(200),
    "/healthz": everyone(200),
    "/language": everyone((302, "/")),
    "/sign-in": everyone((302, "/"), anonymous=200),
    "/sign-out": everyone((302, "/"), anonymous=LOGIN),
    "/password-reset": everyone(200),
    "/password-reset/<token>": everyone((302, "/password-reset")),
    "/profile": everyone(200, anonymous=LOGIN),
    "/profile/password": everyone(400, anonymous=LOGIN),
    "/forums/new": everyone(403, anonymous=LOGIN, platform_admin=200),
    "/forums/<slug>/": private_forum_page(),
    "/forums/<slug>/groups/<group_slug>": private_forum_page(),
    "/forums/<slug>/manage/": managers_only(),
    "/forums/<slug>/manage/members": managers_only(),
    "/forums/<slug>/manage/members/invite": managers_only(),
    "/forums/<slug>/manage/members/<int:membership_id>": managers_only(),
    "/forums/<slug>/manage/members/<int:membership_id>/remove":
        managers_only((302, "/forums/{slug}/manage/members")),
    "/forums/<slug>/manage/members/<int:membership_id>/resend":
        managers_only((302, "/forums/{slug}/manage/members")),
    "/forums/<slug>/manage/members/import": managers_only(),
    "/forums/<slug>/manage/coalitions": managers_only(),
    "/forums/<slug>/manage/coalitions/<int:coalition_id>": managers_only(),
    "/forums/<slug>/manage/groups": managers_only(),
    "/forums/<slug>/manage/groups/<group_slug>": managers_only(),
    "/forums/<slug>/manage/groups/<group_slug>/members": managers_only(400),
    "/forums/<slug>/manage/groups/<group_slug>/members/<int:user_id>/remove":
        managers_only((302, "/forums/{slug}/manage/groups/{group_slug}")),
    "/invitations/<token>": everyone(404),
}

# Which object a rule's URL names, where it differs from World.url_values().
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
    """The page's <main>, without flashed messages left over from earlier requests."""
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
    group: WorkingGroup
    coalition: Coalition
    users: dict
    invitee: Membership  # invited, has not chosen a password yet
    victim: Membership  # removed by the matrix's remove_member row
    leaver: User  # removed from the group by the matrix's remove_group_member row

    def url_values(self, rule_text: str) -> dict:
        values = {
            "slug": self.forum.slug,
            "group_slug": self.group.slug,
            "membership_id": self.invitee.id,
            "victim_id": self.victim.id,
            "coalition_id": self.coalition.id,
            "user_id": self.leaver.id,
            "token": "not-a-valid-token",
        }
        for name, source in VALUE_OVERRIDES.get(rule_text, {}).items():
            values[name] = values[source]
        return values


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
    return World(
        forum=forum,
        group=group,
        coalition=make.coalition(forum),
        users=users,
        invitee=make.member(forum, make.user(password=None)),
        victim=make.member(forum, password=None),
        leaver=make.member(forum, groups=[group], password=None).user,
    )


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
        url = fill(rule.rule, values)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method, data={} if method == "POST" else None)
        expected = MATRIX.get(rule.rule, {}).get(role)
        if expected is None:
            failures.append(f"{method} {url}: no row in MATRIX for {rule.rule}")
        elif problem := check(response, expected, values):
            failures.append(f"{method} {url}: {problem}")
        elif response.status_code == 404 and "<slug>" in rule.rule:
            # A hidden forum must look exactly like one that does not exist.
            ghost = client.open(fill(rule.rule, {**values, "slug": MISSING_SLUG}), method=method,
                                data={} if method == "POST" else None)
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


@dataclass
class TwoForums:
    a: Forum
    a_group: WorkingGroup
    a_member: Membership
    b: Forum
    b_group: WorkingGroup
    b_member: Membership
    b_invitee: Membership
    b_coalition: Coalition
    facilitator: User

    def values(self) -> dict:
        return {
            "a": self.a.slug, "b": self.b.slug, "a_group": self.a_group.slug,
            "b_group": self.b_group.slug, "a_member": self.a_member.id,
            "b_member": self.b_member.id, "b_user": self.b_member.user_id,
            "b_invitee": self.b_invitee.id, "b_coalition": self.b_coalition.id,
            "b_group_id": self.b_group.id,
        }


def two_forums(make, b_public=False) -> TwoForums:
    a, b = make.forum(), make.forum(public=b_public)
    a_group = make.group(a, "Shared name")
    b_group = make.group(b, "Only in B")
    return TwoForums(
        a=a, a_group=a_group, a_member=make.member(a), b=b, b_group=b_group,
        b_member=make.member(b, groups=[b_group]), b_invitee=make.member(b, make.user(password=None)),
        b_coalition=make.coalition(b, "B coalition"),
        facilitator=make.member(a, role="facilitator").user,
    )


IDS_OF_B_IN_URLS_OF_A = [
    ("GET", "/forums/{a}/manage/members/{b_member}", None),
    ("POST", "/forums/{a}/manage/members/{b_member}",
     {"role": "admin", "coalition_id": "0", "vote_weight": "9", "is_delegate": "y"}),
    ("POST", "/forums/{a}/manage/members/{b_member}/remove", {}),
    ("POST", "/forums/{a}/manage/members/{b_invitee}/resend", {}),
    ("GET", "/forums/{a}/manage/coalitions/{b_coalition}", None),
    ("POST", "/forums/{a}/manage/coalitions/{b_coalition}", {"name": "Hijacked", "country": ""}),
    ("GET", "/forums/{a}/manage/groups/{b_group}", None),
    ("POST", "/forums/{a}/manage/groups/{b_group}", {"name": "Hijacked", "description": "x"}),
    ("POST", "/forums/{a}/manage/groups/{b_group}/members",
     {"m-membership_id": "{a_member}", "m-role": "member"}),
    ("POST", "/forums/{a}/manage/groups/{b_group}/members/{b_user}/remove", {}),
    ("POST", "/forums/{a}/manage/groups/{a_group}/members",
     {"m-membership_id": "{b_member}", "m-role": "facilitator"}),
]


def _send(client, method, url, data, values):
    form = {key: value.format(**values) for key, value in (data or {}).items()}
    return client.open(url.format(**values), method=method, data=form if method == "POST" else None)


@pytest.mark.parametrize(("method", "url", "data"), IDS_OF_B_IN_URLS_OF_A)
def test_ids_of_another_forum_in_a_managed_forums_urls_are_not_found(
    client, session, make, method, url, data
):
    world = two_forums(make)
    sign_in(client, world.facilitator)
    before = snapshot(session)
    response = _send(client, method, url, data, world.values())
    assert response.status_code == 404, url
    assert snapshot(session) == before


IDS_OF_B_IN_FORMS_OF_A = [
    ("/forums/{a}/manage/members/invite",
     {"email": "new@example.org", "display_name": "New", "role": "member",
      "coalition_id": "{b_coalition}", "country": "", "locale": "es"}),
    ("/forums/{a}/manage/members/invite",
     {"email": "new@example.org", "display_name": "New", "role": "member", "coalition_id": "0",
      "country": "", "locale": "es", "group_ids": "{b_group_id}"}),
    ("/forums/{a}/manage/members/{a_member}",
     {"role": "member", "coalition_id": "{b_coalition}", "vote_weight": "1"}),
    ("/forums/{a}/manage/members/{a_member}",
     {"role": "member", "coalition_id": "0", "vote_weight": "1", "group_ids": "{b_group_id}"}),
]


@pytest.mark.parametrize(("url", "data"), IDS_OF_B_IN_FORMS_OF_A)
def test_ids_of_another_forum_in_a_managed_forums_forms_are_refused(client, session, make, url, data):
    world = two_forums(make)
    sign_in(client, world.facilitator)
    before = snapshot(session)
    response = _send(client, "POST", url, data, world.values())
    assert response.status_code in (400, 404)
    assert snapshot(session) == before


SLUG_OF_B = [
    ("GET", "/forums/{b}/manage/", None),
    ("POST", "/forums/{b}/manage/", {"name": "Hijacked", "description": "", "default_locale": "es"}),
    ("GET", "/forums/{b}/manage/members", None),
    ("POST", "/forums/{b}/manage/members/invite",
     {"email": "new@example.org", "display_name": "New", "role": "member", "coalition_id": "0",
      "country": "", "locale": "es"}),
    ("POST", "/forums/{b}/manage/members/{b_member}",
     {"role": "admin", "coalition_id": "0", "vote_weight": "1"}),
    ("POST", "/forums/{b}/manage/members/{b_member}/remove", {}),
    ("POST", "/forums/{b}/manage/members/{b_invitee}/resend", {}),
    ("POST", "/forums/{b}/manage/coalitions", {"name": "Hijacked", "country": ""}),
    ("POST", "/forums/{b}/manage/coalitions/{b_coalition}", {"name": "Hijacked", "country": ""}),
    ("POST", "/forums/{b}/manage/groups", {"name": "Hijacked", "description": ""}),
    ("POST", "/forums/{b}/manage/groups/{b_group}", {"name": "Hijacked", "description": ""}),
    ("POST", "/forums/{b}/manage/groups/{b_group}/members",
     {"m-membership_id": "{b_invitee}", "m-role": "member"}),
    ("POST", "/forums/{b}/manage/groups/{b_group}/members/{b_user}/remove", {}),
]


@pytest.mark.parametrize(("b_public", "status"), [(False, 404), (True, 403)],
                         ids=["private-b", "public-b"])
def test_a_facilitator_of_one_forum_cannot_manage_another_by_its_slug(
    client, session, make, b_public, status
):
    world = two_forums(make, b_public=b_public)
    sign_in(client, world.facilitator)
    before = snapshot(session)
    answers = {url: _send(client, method, url, data, world.values()).status_code
               for method, url, data in SLUG_OF_B}
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


def _management_urls(app, world_values):
    return [fill(rule.rule, world_values) for rule in routed_rules(app)
            if rule.rule.startswith("/forums/<slug>/manage") and "GET" in rule.methods]


@pytest.mark.parametrize(("viewer", "status"),
                         [("anonymous", 302), ("non-member", 403), ("member", 403),
                          ("observer", 403), ("facilitator", 200)])
def test_a_public_forums_management_still_requires_a_manager(
    app, client, make, public_forum, viewer, status
):
    forum, group, facilitator = public_forum
    user = {
        "anonymous": None,
        "non-member": make.user() if viewer == "non-member" else None,
        "member": make.member(forum).user if viewer == "member" else None,
        "observer": make.member(forum, role="observer").user if viewer == "observer" else None,
        "facilitator": facilitator,
    }[viewer]
    if user is not None:
        sign_in(client, user)
    values = {"slug": forum.slug, "group_slug": group.slug,
              "membership_id": make.member(forum).id, "coalition_id": make.coalition(forum).id}
    urls = _management_urls(app, values)
    assert len(urls) >= 8
    answers = {url: client.get(url) for url in urls}
    assert {url: r.status_code for url, r in answers.items()} == dict.fromkeys(urls, status)
    if status == 302:
        assert all(urlsplit(r.headers["Location"]).path == "/sign-in" for r in answers.values())
