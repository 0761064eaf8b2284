"""Fuzzing of every form a facilitator and a member reach (issue 20): the forms
are found on their pages (their action and field names read from the HTML, so a
new field is fuzzed without touching this file), and each is posted with values
an attacker sends: NUL bytes, control and bidi characters, integers beyond the
database's, huge and empty text. No answer may be a server error, and the
application must keep answering afterwards."""

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.plans import services as plans
from tests.factories import sign_in

PLAN_TEXT = "PLAN DE PRUEBA\n\nSECCIÓN UNO\n\n1. Primer punto.\n2. Segundo punto.\n"

SWEEP = [
    str(10**20),
    "-" + str(2**31),
    "1e30",
    "a\x00b",
    "\u202e\x1b[31m\x07",
    "x" * 70_000,
    "",
    "2026-13-45T25:61",
]
HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            str(2**31),
            str(10**20),
            "-" + str(10**20),
            "1e30",
            "NaN",
            "\x00",
            "a\x00b",
            "\u202eevil",
            "\x1b[31m",
            "x" * 70_000,
            "<script>alert(1)</script>",
            "2026-13-45T25:61",
            "../../etc/passwd",
            "yes",
            "on",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=50),
)


class FormFinder(HTMLParser):
    """The POST forms of a page: their action and their fields with the values
    the page fills in (a select's chosen option, or its first)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        form = self._form
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self._form = {"action": attributes.get("action") or "", "fields": {}}
            self.forms.append(self._form)
            return
        if form is None:
            return
        name = attributes.get("name")
        kind = (attributes.get("type") or "").lower()
        if tag == "input" and name and name != "csrf_token" and kind not in ("file", "submit"):
            if kind not in ("checkbox", "radio") or "checked" in attributes:
                form["fields"][name] = attributes.get("value") or ""
            else:
                form["fields"].setdefault(name, "")
        elif tag == "textarea" and name:
            form["fields"][name] = ""
            self._textarea = name
        elif tag == "select" and name:
            form["fields"][name] = None
            self._select = name
        elif tag == "option" and self._select:
            value = attributes.get("value") or ""
            if form["fields"][self._select] is None or "selected" in attributes:
                form["fields"][self._select] = value

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@pytest.fixture
def site(client, make, session):
    forum = make.forum()
    facilitator = make.facilitator(forum, locale="en")
    group = make.group(forum)
    plan = make.plan(forum, PLAN_TEXT, actor=facilitator)
    nodes = plans.version_nodes(plan.current_version)
    item = next(n.key for n in nodes if n.kind == "item")
    sign_in(client, facilitator)
    base = f"/forums/{forum.slug}"
    pages = [
        "/profile",
        f"{base}/manage/",
        f"{base}/manage/members/invite",
        f"{base}/manage/coalitions",
        f"{base}/manage/groups",
        f"{base}/manage/groups/{group.slug}",
        f"{base}/plans/{plan.id}/settings",
        f"{base}/plans/{plan.id}/edit",
        f"{base}/plans/{plan.id}/nodes/{item}/edit",
        f"{base}/plans/{plan.id}/items/{item}/amend",
        f"{base}/plans/{plan.id}/items/{item}/compromise",
        f"{base}/plans/{plan.id}/polls/new?subject=plan",
        f"{base}/plans/{plan.id}/consultation/new",
    ]
    forms = []
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        finder = FormFinder()
        finder.feed(response.get_data(as_text=True))
        for form in finder.forms:
            action = form["action"] or page
            if form["fields"] and not re.search(r"sign-out|/language$", action):
                defaults = {name: value or "" for name, value in form["fields"].items()}
                forms.append((action, defaults))
    assert len(forms) >= len(pages), forms
    return forms


def test_every_field_of_every_form_survives_each_hostile_value(client, site):
    """Each field in turn gets each hostile value, the others keep what the page
    filled in (so the post goes as far as a real one would)."""
    failures = []
    for action, defaults in site:
        for name in defaults:
            for value in SWEEP:
                response = client.post(action, data={**defaults, name: value})
                if response.status_code >= 500:
                    failures.append((action, name, value[:40], response.status_code))
    assert not failures, failures
    assert client.get("/profile").status_code == 200, "the application keeps answering"


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_form_answers_hostile_combinations_with_a_server_error(client, site, data):
    action, defaults = data.draw(st.sampled_from(site))
    chosen = data.draw(st.lists(st.sampled_from(sorted(defaults)), min_size=1, unique=True))
    form = {**defaults, **{name: data.draw(HOSTILE_VALUES) for name in chosen}}
    response = client.post(action, data=form)
    assert response.status_code < 500, (action, form, response.status_code)
