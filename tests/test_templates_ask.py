"""Templates ask the rules and the models' properties; they never compare a
status, a state or a role with a string of their own (issue 17): a rule written
twice drifts, as the observer's support button once did."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# `x.status == "open"`, `state != 'done'`, `role in ("admin", …)`, `status not in […]`
COMPARISON = re.compile(
    r"\b\w*(?:status|state|role)\s*(?:==|!=|(?:not\s+)?in\s*[\(\[])\s*[\"']", re.IGNORECASE
)


def comparisons(text: str) -> list[str]:
    found = []
    for tag in re.findall(r"{[{%].*?[%}]}", text, re.S):
        found += [match.group(0) for match in COMPARISON.finditer(tag)]
    return found


def test_no_template_compares_a_status_state_or_role_string():
    offending = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        if found := comparisons(path.read_text(encoding="utf-8")):
            offending[str(path.relative_to(TEMPLATES))] = found
    assert not offending, f"ask `allowed` or a model's property instead: {offending}"


def test_the_check_finds_what_it_looks_for():
    assert comparisons('{% if amendment.status == "admitted" %}')
    assert comparisons("{{ 'x' if poll.state != 'open' }}")
    assert comparisons('{% if membership.role in ("admin", "facilitator") %}')
    assert not comparisons('{% if allowed.support %}<p>status == "open"</p>')
    assert not comparisons("{% for status in shown_changes %}")
