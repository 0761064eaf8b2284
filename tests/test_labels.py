"""One vocabulary: every coded value a page shows (a status, a kind, a role) is
a member of a labelled enumeration (``consult.labels.LabelledEnum``), and
templates say it with the one ``|label`` filter; no per-vocabulary template
helper, no second dictionary of the same words."""

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from consult.labels import LabelledEnum, labelled_enums
from tests.factories import sign_in

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "consult").rglob("*.py"))


def enums() -> list[type[LabelledEnum]]:
    import consult.models  # noqa: F401 (every feature's models, so every enumeration)

    return labelled_enums()


def test_there_is_no_template_helper_per_vocabulary(app):
    helpers = [name for name in app.jinja_env.globals if name.endswith(("_label", "_label_for"))]
    assert helpers == [], "show a labelled enumeration's member with `|label`"


def _labels_dicts(path: Path):
    """``*_LABELS = {...}`` at the top of a module: its name and string keys (or
    the enumeration a comprehension builds it from)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.Assign):
            continue
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if not any(name.endswith("_LABELS") for name in names):
            continue
        value = node.value
        if isinstance(value, ast.Dict):
            keys = {k.value for k in value.keys if isinstance(k, ast.Constant)}
            yield names[0], keys, None
        elif isinstance(value, ast.DictComp):
            source = value.generators[0].iter
            yield names[0], set(), source.id if isinstance(source, ast.Name) else None


def test_no_module_keeps_a_second_dictionary_of_an_enumerations_labels():
    by_values = [({member.value for member in enum}, enum) for enum in enums()]
    names = {enum.__name__ for enum in enums()}
    twins = []
    for path in SOURCES:
        for name, keys, source in _labels_dicts(path):
            matches = [
                enum.__name__ for values, enum in by_values if len(keys) > 1 and keys <= values
            ]
            if source in names:
                matches.append(source)
            if matches:
                twins.append(f"{path.relative_to(ROOT)}: {name} repeats {', '.join(matches)}")
    assert twins == [], "use the enumeration's member.label (or label(value, Enum))"


def test_the_enumerations_are_found():
    found = {enum.__name__ for enum in enums()}
    assert {"PlanStatus", "AmendmentStatus", "PollState", "PhaseKind", "Role"} <= found


def _catalog(locale: str):
    with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("locale", ["es", "pt"])
def test_every_member_has_a_translated_label(locale):
    catalog = _catalog(locale)
    missing = []
    for enum in enums():
        for member in enum:
            # A lazy string: a label marked for translation (``_l``), whose msgid
            # the catalog translates.
            msgid = getattr(member.label, "_args", (None,))[0]
            message = catalog.get(msgid) if msgid else None
            if message is None or not message.string or message.fuzzy:
                missing.append(f"{enum.__name__}.{member.name}")
    assert missing == []


def test_a_plan_page_in_spanish_shows_its_status_in_spanish(client, make, forum):
    plan = make.plan(forum, title="Plan de acción 2028")
    sign_in(client, make.member(forum).user)  # reads Spanish
    listing = client.get(f"/forums/{forum.slug}/plans/").get_data(as_text=True)
    assert "Borrador" in listing
    assert "Draft" not in listing
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert "Borrador" in page


def test_a_consultation_page_in_portuguese_shows_its_phases_in_portuguese(client, make, forum):
    plan = make.plan(forum)
    consultation = make.consultation(plan, advance=True)
    sign_in(client, make.member(forum, locale="pt").user)
    html = client.get(f"/forums/{forum.slug}/consultations/{consultation.id}").get_data(
        as_text=True
    )
    assert "Emendas" in html  # the phase's kind
    assert "em andamento" in html  # its state: open now
    assert "open now" not in html
