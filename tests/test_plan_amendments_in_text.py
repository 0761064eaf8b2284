"""The plan page's text together with its amendments (issue 14): a switch
that shows each item's amendments as word diffs, filtered by status and
working group; a preview as if every accepted amendment were applied; what a
reader may not see stays hidden; a fixed number of statements whatever the
size of the plan."""

import lxml.html
import pytest

from consult.amendments import lifecycle, plan_settings, proposing
from consult.plans import services as plans
from tests.factories import sign_in

PLAN_TEXT = """Plan de acción

1. POLÍTICAS CULTURALES

1. Promover la ratificación de la Convención en todos los países de la región.

2. Crear observatorios nacionales de la diversidad cultural.

3. Apoyar a los creadores independientes.

2. COMUNICACIÓN

1. Publicar un boletín trimestral.
"""

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def plan_text():
    return PLAN_TEXT


@pytest.fixture
def author(make, forum):
    return make.member(forum, locale="en").user


def key_of(plan, ref):
    return plans.find_node(plans.get_version(plan), ref).key


def propose(plan, author, ref, text="", operation="replace", submit=True):
    return proposing.propose(
        author,
        plan,
        target=key_of(plan, ref) if ref else None,
        operation=operation,
        text=text,
        submit=submit,
    )


def accept(facilitator, amendment):
    lifecycle.decide(facilitator, amendment, "admitted")
    lifecycle.decide(facilitator, amendment, "accepted")
    return amendment


def page(client, plan, query="", status=200) -> lxml.html.HtmlElement:
    response = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return lxml.html.fromstring(response.get_data(as_text=True))


def node_div(doc, ref):
    (div,) = doc.xpath(f'//article[contains(@class, "plan-text")]/div[@id="ref-{ref}"]')
    return div


def listed_under(doc, ref) -> list[int]:
    """The ids of the amendments listed under item ``ref``, from their links
    (named as the list of amendments names them)."""
    return [
        int(a.get("href").rstrip("/").rpartition("/")[2])
        for a in node_div(doc, ref).xpath('.//details[@class="item-amendments"]//a[strong]')
    ]


def text_of(element) -> str:
    return " ".join(element.text_content().split())


# --- the switch -------------------------------------------------------------------------


def test_the_switch_is_offered_on_the_current_version_and_the_plain_text_is_unchanged(
    client, session, plan, author
):
    propose(plan, author, "1.1", "Promover la ratificación de la Convención en toda la región.")
    session.commit()
    sign_in(client, author)
    doc = page(client, plan)
    switch = doc.xpath('//nav[@class="reading-switch"]/a')
    assert [a.get("href").partition("?")[2] for a in switch] == [
        "",
        "show=amendments",
        "show=accepted",
    ]
    assert switch[0].get("aria-current") == "page"
    # The plain text is the cached one: counts in the slots, no amendment inside.
    assert "1 amendment" in text_of(node_div(doc, "1.1"))
    assert not doc.xpath('//details[@class="item-amendments"]')


def test_each_item_lists_its_open_amendments_with_their_word_diffs(
    client, session, plan, author, facilitator
):
    replace = propose(
        plan, author, "1.1", "Promover la ratificación de la Convención en todos los países."
    )
    delete = propose(plan, author, "1.2", operation="delete")
    insert = propose(plan, author, "1.2", "Publicar un inventario.", operation="insert_after")
    rejected = propose(plan, author, "1.3", "Apoyar a los creadores.")
    lifecycle.decide(facilitator, rejected, "rejected")
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, "?show=amendments")

    assert (
        doc.xpath('//nav[@class="reading-switch"]/a[@aria-current="page"]')[0]
        .get("href")
        .endswith("show=amendments")
    )
    first = node_div(doc, "1.1")
    (details,) = first.xpath('.//details[@class="item-amendments"]')
    assert details.get("open") is None  # collapsed to its count
    assert "1 amendment" in text_of(details.xpath("./summary")[0])
    assert listed_under(doc, "1.1") == [replace.id]
    link = details.xpath(".//a[strong]")[0].get("href")
    assert link.endswith(f"/amendments/{replace.id}")
    (deleted,) = details.xpath('.//p[@class="diff"]/del')
    assert text_of(deleted) == "de la región"  # the word diff, not the whole text
    # The item keeps the version's numbered lines.
    assert first.xpath('.//span[@class="ln"]')
    second = node_div(doc, "1.2")
    assert listed_under(doc, "1.2") == [delete.id, insert.id]
    assert "2 amendments" in text_of(second.xpath(".//summary")[0])
    assert "Publicar un inventario." in text_of(second.xpath(".//ins")[0])
    # Decided ones are not open: not shown unless asked for.
    assert not node_div(doc, "1.3").xpath('.//details[@class="item-amendments"]')
    assert "3 amendments" in text_of(doc.xpath('//p[@class="in-text-summary"]')[0])
    # Read in English, the Spanish plan and its amendments are shown as written.
    assert "shown in the original language" in text_of(doc.xpath('//p[@class="reading-note"]')[0])


def test_every_item_s_amendments_open_at_once_and_the_filters_stay(
    client, session, make, forum, plan
):
    group = make.group(forum, "Cultura")
    plan_settings.assign_section(None, plan, key_of(plan, "1"), group.id)
    author = make.member(forum, locale="en", groups=(group,)).user
    propose(plan, author, "1.1", "Otro texto para el primer punto.")
    propose(plan, author, "1.2", "Otro texto para el segundo punto.")
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, f"?show=amendments&group={group.id}")
    assert [d.get("open") for d in doc.xpath('//details[@class="item-amendments"]')] == [None] * 2
    (expand,) = doc.xpath('//a[@class="in-text-expand"]')
    assert "open=1" in expand.get("href") and f"group={group.id}" in expand.get("href")
    doc = page(client, plan, expand.get("href").partition("/" + str(plan.id) + "/")[2])
    assert [d.get("open") for d in doc.xpath('//details[@class="item-amendments"]')] == [""] * 2
    # Filtering again keeps them open.
    assert doc.xpath('//form[contains(@class, "in-text-filters")]/input[@name="open"]')


def test_anyone_reading_a_public_forum_reads_its_amendments_in_the_text(client, session, make):
    public = make.forum(public=True)
    plan = make.plan(public, PLAN_TEXT)
    writer = make.member(public, locale="en").user
    amendment = propose(plan, writer, "1.1", "Otro texto para el primer punto.")
    session.commit()
    assert listed_under(page(client, plan, "?show=amendments"), "1.1") == [amendment.id]
    page(client, plan, "?show=accepted")


def test_the_status_filter_shows_the_amendments_in_that_status_only(
    client, session, plan, author, facilitator
):
    submitted = propose(plan, author, "1.1", "Otro texto para el primer punto.")
    admitted = propose(plan, author, "1.1", "Un texto admitido para el primer punto.")
    lifecycle.decide(facilitator, admitted, "admitted")
    rejected = propose(plan, author, "1.3", "Apoyar a los creadores.")
    lifecycle.decide(facilitator, rejected, "rejected")
    session.commit()
    sign_in(client, author)
    assert listed_under(page(client, plan, "?show=amendments"), "1.1") == [
        submitted.id,
        admitted.id,
    ]
    doc = page(client, plan, "?show=amendments&status=admitted")
    assert listed_under(doc, "1.1") == [admitted.id]
    assert doc.xpath('//select[@name="status"]/option[@selected]')[0].get("value") == "admitted"
    doc = page(client, plan, "?show=amendments&status=rejected")
    assert listed_under(doc, "1.3") == [rejected.id]
    assert not node_div(doc, "1.1").xpath('.//details[@class="item-amendments"]')


def test_the_group_filter_shows_the_sections_of_that_group_only(client, session, make, forum, plan):
    culture, communication = make.group(forum, "Cultura"), make.group(forum, "Comunicación")
    author = make.member(forum, locale="en", groups=(culture, communication)).user
    plan_settings.assign_section(None, plan, key_of(plan, "1"), culture.id)
    plan_settings.assign_section(None, plan, key_of(plan, "2"), communication.id)
    first = propose(plan, author, "1.1", "Otro texto para el primer punto.")
    bulletin = propose(plan, author, "2.1", "Publicar un boletín mensual.")
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, f"?show=amendments&group={communication.id}")
    assert listed_under(doc, "2.1") == [bulletin.id]
    assert not doc.xpath('//div[@id="ref-1.1"]')  # another group's section
    assert not doc.xpath(f'//a[contains(@href, "/amendments/{first.id}")]')
    doc = page(client, plan, f"?show=amendments&group={culture.id}")
    assert listed_under(doc, "1.1") == [first.id]
    assert not doc.xpath('//div[@id="ref-2.1"]')


def test_bad_filters_are_a_translated_400(client, session, make, plan, author):
    other_group = make.group(make.forum())
    sign_in(client, author)
    for query in (
        "?show=everything",
        "?show=amendments&status=draft",
        "?show=amendments&status=nonsense",
        f"?show=amendments&group={other_group.id}",
        "?show=amendments&group=abc",
    ):
        doc = page(client, plan, query, status=400)
        assert "Choose one of" in text_of(doc) or "no such way" in text_of(doc), query


def test_an_older_version_has_no_switch(client, session, make, plan, author):
    make.version(plan, ref="1.1")
    sign_in(client, author)
    doc = page(client, plan, "versions/1")
    assert not doc.xpath('//nav[@class="reading-switch"]')
    page(client, plan, "versions/1?show=amendments", status=400)


# --- what a reader may see ---------------------------------------------------------------


def test_a_reader_sees_no_draft_and_an_outsider_sees_nothing(
    client, session, make, forum, plan, author, facilitator
):
    draft = propose(plan, author, "1.1", "Un borrador que nadie más ve.", submit=False)
    draft_accepted_text = "Un texto aceptado para el segundo punto."
    accept(facilitator, propose(plan, author, "1.2", draft_accepted_text))
    session.commit()
    reader = make.member(forum, locale="en").user
    sign_in(client, reader)
    for query in ("?show=amendments", "?show=amendments&status=accepted", "?show=accepted"):
        doc = page(client, plan, query)
        assert "Un borrador" not in text_of(doc), query
        assert not doc.xpath(f'//a[contains(@href, "/amendments/{draft.id}")]'), query
    outsider = make.member(make.forum(), locale="en").user
    sign_in(client, outsider)
    for query in ("?show=amendments", "?show=accepted"):
        assert client.get(f"/forums/{forum.slug}/plans/{plan.id}/{query}").status_code == 404


# --- as if the accepted amendments were applied -------------------------------------------


def test_the_accepted_reading_applies_the_accepted_amendments_and_only_those(
    client, session, plan, author, facilitator
):
    changed = accept(
        facilitator,
        propose(plan, author, "1.1", "Promover la ratificación de la Convención en el mundo."),
    )
    deleted = accept(facilitator, propose(plan, author, "1.3", operation="delete"))
    added = accept(
        facilitator,
        propose(plan, author, "1.2", "Publicar un inventario anual.", operation="insert_after"),
    )
    propose(plan, author, "2.1", "Publicar un boletín mensual.")  # open, not accepted
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, "?show=accepted")

    note = text_of(doc.xpath('//div[@class="preview-note"]')[0])
    assert "Preview" in note and "not the plan's text" in note
    first = node_div(doc, "1.1")
    assert "changed" in first.get("class").split()
    assert "en el mundo." in text_of(first.xpath('.//span[@class="lt"]')[0])
    assert [a.text for a in first.xpath('.//p[@class="changed-by"]/a')] == [changed.label]
    assert (
        first.xpath('.//p[@class="changed-by"]/a')[0]
        .get("href")
        .endswith(f"/amendments/{changed.id}")
    )
    # A changed item shows the version's lines it replaces, not numbers of its own.
    assert not first.xpath('.//span[@class="ln"]')
    assert text_of(first.xpath('.//span[contains(@class, "range")]')[0]).startswith("l. ")
    # The inserted item follows 1.2, marked new, with no line number.
    (new,) = doc.xpath('//div[contains(@class, " new")]')
    assert "Publicar un inventario anual." in text_of(new)
    assert [a.text for a in new.xpath('.//p[@class="changed-by"]/a')] == [added.label]
    follows = new.xpath("preceding-sibling::div[1]")[0]
    assert follows.get("id") == "ref-1.2"
    # The deleted item is shown struck through where it was.
    (removed,) = doc.xpath('//div[contains(@class, "removed")]')
    assert "Apoyar a los creadores" in text_of(removed.xpath(".//del")[0])
    assert [a.text for a in removed.xpath('.//p[@class="changed-by"]/a')] == [deleted.label]
    # The open amendment is not applied; unchanged items keep their numbers.
    bulletin = node_div(doc, "2.1")
    assert "Publicar un boletín trimestral." in text_of(bulletin)
    assert "changed" not in bulletin.get("class").split()
    assert bulletin.xpath('.//span[@class="ln"]')
    assert len(doc.xpath('//div[contains(@class, "changed")]')) == 1


def test_the_accepted_reading_names_what_cannot_be_applied(
    client, session, plan, author, facilitator
):
    text = plans.find_node(plan.current_version, "1.1").text
    one = accept(facilitator, propose(plan, author, "1.1", text.replace("todos los", "muchos")))
    two = accept(facilitator, propose(plan, author, "1.1", text.replace("todos los", "algunos")))
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, "?show=accepted")
    conflicts = text_of(doc.xpath('//section[@class="preview-conflicts"]')[0])
    assert one.label in conflicts and two.label in conflicts
    assert "change the same words" in conflicts
    assert "todos los" in text_of(node_div(doc, "1.1"))


def test_once_a_consolidated_draft_applies_them_they_are_the_text_not_a_preview(
    client, session, plan, author, facilitator
):
    from consult.consolidation import services as consolidation

    accepted = accept(facilitator, propose(plan, author, "1.1", "Un texto nuevo y aceptado."))
    session.commit()
    sign_in(client, author)
    doc = page(client, plan, "?show=amendments&status=accepted")
    assert listed_under(doc, "1.1") == [accepted.id]
    consolidation.request(facilitator, plan)
    session.commit()
    session.expire_all()
    assert plan.current_version.number == 2
    doc = page(client, plan, "?show=amendments&status=accepted")
    assert "Un texto nuevo y aceptado." in text_of(node_div(doc, "1.1").xpath(".//p")[0])
    assert not doc.xpath('//details[@class="item-amendments"]')
    doc = page(client, plan, "?show=accepted")
    assert not doc.xpath('//div[contains(@class, "changed")]')


def test_without_accepted_amendments_the_preview_says_it_reads_as_the_version(client, plan, author):
    sign_in(client, author)
    doc = page(client, plan, "?show=accepted")
    assert "reads as the version" in text_of(doc.xpath('//p[@class="in-text-summary"]')[0])
    assert not doc.xpath('//div[contains(@class, "changed")]')


# --- a fixed number of statements ------------------------------------------------------------


def synthetic_plan(sections: int) -> str:
    lines = ["PLAN SINTÉTICO", ""]
    for section in range(1, sections + 1):
        lines += [f"SECCIÓN {section}", ""]
        lines += [f"{n}. Acción número {n} de la sección {section}." for n in range(1, 6)]
        lines.append("")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "query", ["?show=amendments", "?show=amendments&group={group}", "?show=accepted"]
)
def test_statements_do_not_grow_with_items_and_amendments(
    client, session, make, forum, facilitator, count_statements, query, pages_built_each_time
):
    group = make.group(forum, "Grupo")
    author = make.member(forum, locale="en", groups=(group,)).user
    counts = []
    for sections, amended in ((2, 1), (12, 40)):
        plan = make.plan(forum, synthetic_plan(sections))
        # The group holds the first and the last section, whatever the size.
        sections = plans.section_nodes(plan.current_version)
        for section in {sections[0].key, sections[-1].key}:
            plan_settings.assign_section(None, plan, section, group.id)
        items = [n for n in plans.version_nodes(plan.current_version) if n.kind == "item"]
        for number in range(amended):
            item = items[number % len(items)]
            amendment = proposing.propose(
                author,
                plan,
                target=item.key,
                operation="replace",
                text=f"{item.text} Con un añadido {number}.",
                submit=True,
            )
            if number % 2:
                accept(facilitator, amendment)
        session.commit()
        sign_in(client, author)
        client.get(f"/forums/{forum.slug}/plans/{plan.id}/{query.format(group=group.id)}")
        with count_statements() as seen:
            response = client.get(
                f"/forums/{forum.slug}/plans/{plan.id}/{query.format(group=group.id)}"
            )
            assert response.status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], "\n".join(seen)


def test_markup_in_an_amendment_is_shown_as_text_in_both_readings(
    client, session, plan, author, facilitator
):
    """Both readings are built as Markup for the page: what an author typed
    must stay text there (the accepted reading and the list of amendments)."""
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    accept(facilitator, propose(plan, author, "1.1", f"Promover {evil} en la región."))
    propose(plan, author, "1.2", f"Crear {evil} observatorios.")
    session.commit()
    sign_in(client, author)
    for reading in ("?show=amendments&status=accepted", "?show=amendments", "?show=accepted"):
        html = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/{reading}").get_data(
            as_text=True
        )
        assert "&lt;script&gt;" in html, reading
        assert "<script>alert" not in html and "<img src=x" not in html, reading
