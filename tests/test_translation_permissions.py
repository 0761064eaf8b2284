"""Who may translate a plan's items and an amendment's text
(``plan_translations/permissions.py``): the reason each refusal gives, the
service raising with it, and pages that offer only what the rule allows."""

import re

import pytest

from consult.amendments import proposing, translations
from consult.errors import Conflict, InvalidInput, PermissionDenied
from consult.plan_translations import permissions, services
from consult.plans import services as plans
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

TRANSLATORS_ONLY = "Only translators and facilitators can translate the plan."


@pytest.fixture
def forum(make):
    return make.forum(public=True)


@pytest.fixture
def translator(make, forum, session):
    membership = make.member(forum, locale="en")
    membership.is_translator = True
    session.commit()
    return membership.user


@pytest.fixture
def plan(make, forum):
    return make.plan(forum, open_for_input=False)


def _workspace(plan, language="pt"):
    return f"/forums/{plan.forum.slug}/plans/{plan.id}/translations/{language}"


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", html[html.find("<main") : html.find("</main>")])


def test_translators_and_facilitators_may_translate_members_are_told_why_not(
    make, forum, plan, facilitator, translator
):
    member = make.member(forum).user
    assert permissions.translate_refusal(translator, plan, "pt") is None
    assert permissions.translate_refusal(facilitator, plan, "pt") is None
    assert permissions.translate_refusal(member, plan, "pt") == TRANSLATORS_ONLY
    with pytest.raises(PermissionDenied, match="Only translators"):
        services.save(member, plan, "pt", {})


def test_the_plan_is_not_translated_into_its_own_language(plan, translator):
    own = plans.get_version(plan).language
    refusal = permissions.translate_refusal(translator, plan, own)
    assert refusal == "Choose a language other than the plan's own."
    with pytest.raises(InvalidInput):
        services.save(translator, plan, own, {})


def test_an_archived_plan_takes_no_translation(session, plan, translator):
    plan.status = "archived"
    session.commit()
    assert "archived" in permissions.translate_refusal(translator, plan, "pt")
    assert permissions.review_refusal(translator, plan) is None  # still readable
    with pytest.raises(Conflict):
        services.save(translator, plan, "pt", {})


def test_a_member_without_translation_rights_is_offered_no_translate_form(
    client, make, forum, plan
):
    member = make.member(forum, locale="en").user
    sign_in(client, member)
    overview = client.get(f"/forums/{forum.slug}/plans/{plan.id}/translations/")
    assert overview.status_code == 200
    assert '/translations/pt"' not in overview.get_data(as_text=True)
    assert "Import a PO file" not in _main(overview)
    refused = client.get(_workspace(plan))
    assert refused.status_code == 403 and TRANSLATORS_ONLY in refused.get_data(as_text=True)


def test_a_translator_is_offered_the_workspace_and_its_form(client, forum, plan, translator):
    sign_in(client, translator)
    overview = client.get(f"/forums/{forum.slug}/plans/{plan.id}/translations/")
    assert "Import a PO file" in _main(overview)
    page = client.get(_workspace(plan))
    assert page.status_code == 200 and "<textarea" in _main(page)


def test_an_archived_plan_shows_its_translations_without_a_form(
    client, session, forum, plan, translator
):
    plan.status = "archived"
    session.commit()
    sign_in(client, translator)
    overview = client.get(f"/forums/{forum.slug}/plans/{plan.id}/translations/")
    assert "Import a PO file" not in _main(overview)
    page = client.get(_workspace(plan))
    assert page.status_code == 200
    assert "<textarea" not in _main(page) and 'method="post"' not in _main(page)
    assert "<form" not in _main(client.get(_workspace(plan) + "/import"))


def test_a_translation_too_long_comes_back_with_the_text_typed(client, plan, translator):
    sign_in(client, translator)
    one, two = plans.version_nodes(plans.get_version(plan))[:2]
    typed = "Um texto que fica. "
    response = client.post(
        _workspace(plan),
        data={
            f"t-{one.key}": "x" * (services.MAX_TEXT + 1),
            f"s-{one.key}": one.text,
            f"t-{two.key}": typed,
            f"s-{two.key}": two.text,
        },
    )
    assert response.status_code == 400
    page = _main(response)
    assert f"at most {services.MAX_TEXT} characters" in page
    assert typed.strip() in page and 'aria-invalid="true"' in page
    assert services.translations_of(plan, "pt") == {}


def test_the_import_form_keeps_the_replace_choice_on_an_error(client, plan, translator):
    sign_in(client, translator)
    response = client.post(
        _workspace(plan) + "/import", data={"replace": "y"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Choose a PO file to import." in response.get_data(as_text=True)
    assert re.search(r'name="replace" value="y"\s*checked', response.get_data(as_text=True))


def test_an_amendment_is_translated_by_its_author_translators_and_facilitators(
    client, session, make, forum, plan, translator, facilitator
):
    author, other = make.member(forum, locale="en").user, make.member(forum, locale="en").user
    plan.open_for_input = True
    node = plans.version_nodes(plans.get_version(plan))[-1]
    amendment = proposing.propose(
        author, plan, target=node.key, operation="replace", text="Nuevo texto.", submit=True
    )
    session.commit()
    for actor in (author, translator, facilitator):
        assert permissions.translate_amendment_refusal(actor, amendment) is None
    refusal = permissions.translate_amendment_refusal(other, amendment)
    assert refusal == "Only the author, translators and facilitators can translate an amendment."
    with pytest.raises(PermissionDenied):
        translations.translate_amendment(other, amendment, "pt", "Novo texto.")
    sign_in(client, other)
    page = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}")
    assert page.status_code == 200 and "Add or change a translation" not in _main(page)


def test_the_author_is_offered_the_translation_form(client, session, make, forum, plan):
    author = make.member(forum, locale="en").user
    plan.open_for_input = True
    node = plans.version_nodes(plans.get_version(plan))[-1]
    amendment = proposing.propose(
        author, plan, target=node.key, operation="replace", text="Nuevo texto.", submit=True
    )
    session.commit()
    sign_in(client, author)
    page = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}")
    assert "Add or change a translation" in _main(page)
