"""A member reads the plan with its amendments, in Portuguese, on a laptop and
on a phone (issue 14): turns the switch on, opens an item's amendments and
reads their word diffs, filters them by status and by working group, then
reads the preview with the accepted amendments applied. No script is needed
for any of it; nothing scrolls sideways at 390 px."""

from consult.amendments import lifecycle, plan_settings
from consult.amendments.queries import keys_in_sections
from consult.extensions import db
from consult.forums import groups as forum_groups
from consult.plans import services as plans

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def _amendments_world():
    """A plan whose two sections are two groups', with open, admitted and
    accepted amendments; returns what the journey looks for."""
    place, forum, plan, facilitator = w.forum_with_plan("emendas-pt", "pt")
    reader = w.person(forum, name="Leitora Joana", locale="pt", country="BR")
    energy = forum_groups.save_group(None, forum, "Energia")
    culture = forum_groups.save_group(None, forum, "Cultura")
    nodes = plans.version_nodes(plan.current_version)
    first, second = [n for n in nodes if n.kind == "section" and n.depth == 0][:2]
    plan_settings.assign_section(facilitator, plan, first.key, energy.id)
    plan_settings.assign_section(facilitator, plan, second.key, culture.id)
    for group in (energy, culture):
        forum_groups.add_group_member(None, group, reader)
    in_culture = set(keys_in_sections(nodes, {second.key}))
    culture_item = next(n for n in nodes if n.kind == "item" and n.key in in_culture)
    item, other = place.items[0], place.items[1]
    submitted = w.amendment(
        reader, plan, item, "Promover la cooperación regional y comunitaria en energías renovables."
    )
    admitted = w.amendment(
        reader, plan, item, "Promover la cooperación hemisférica en materia de energías renovables."
    )
    lifecycle.decide(facilitator, admitted, "admitted")
    on_culture = w.amendment(reader, plan, culture_item.key, f"{culture_item.text} Con urgencia.")
    accepted = w.amendment(
        reader, plan, other, "Intercambiar experiencias sobre políticas públicas de eficiencia."
    )
    lifecycle.decide(facilitator, accepted, "admitted")
    lifecycle.decide(facilitator, accepted, "accepted")
    db.session.commit()
    ref_of = {n.key: n.ref for n in nodes}
    return (
        place,
        reader.email,
        {
            "item": ref_of[item],
            "other": ref_of[other],
            "culture_item": ref_of[culture_item.key],
            "submitted": submitted.id,
            "admitted": admitted.id,
            "on_culture": on_culture.id,
            "accepted": accepted.id,
            "culture": culture.id,
        },
    )


def listed(page, ref) -> list[int]:
    hrefs = page.locator(f"[id='ref-{ref}'] details.item-amendments a:has(strong)")
    return [
        int(href.rstrip("/").rpartition("/")[2])
        for href in hrefs.evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    ]


def test_a_member_reads_the_plan_with_its_amendments_in_portuguese(journey):
    journey.name = "amendments-in-text-pt"
    with journey.app_context():
        place, email, seen = _amendments_world()

    person = journey.person("pt", "reader")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        person.go(place.plan_path, f"plan-{width}")
        # The switch: plain links, the plain text first.
        assert page.locator(".reading-switch a[aria-current]").count() == 1
        person.click(".reading-switch a:nth-child(2)", f"with-amendments-{width}")
        assert "show=amendments" in page.url
        assert not page.evaluate(SIDEWAYS_JS), width
        item = page.locator(f"[id='ref-{seen['item']}']")
        details = item.locator("details.item-amendments")
        assert not details.locator(".diff").first.is_visible()  # collapsed to its count
        details.locator("summary").click()
        assert details.locator(".diff").first.is_visible()
        assert details.locator(".diff ins").first.inner_text().strip()
        person.check(f"amendments-open-{width}")
        assert not page.evaluate(SIDEWAYS_JS), width
        assert listed(page, seen["item"]) == [seen["submitted"], seen["admitted"]]
        assert listed(page, seen["culture_item"]) == [seen["on_culture"]]

        # Filtered by status, then by working group, with the form (no script).
        page.select_option("#in-text-status", "admitted")
        person.click(".in-text-filters button[type=submit]", f"admitted-{width}")
        assert listed(page, seen["item"]) == [seen["admitted"]]
        assert page.locator(f"[id='ref-{seen['culture_item']}'] details").count() == 0
        page.select_option("#in-text-status", "")
        page.select_option("#in-text-group", str(seen["culture"]))
        person.click(".in-text-filters button[type=submit]", f"culture-{width}")
        assert page.locator(f"[id='ref-{seen['item']}']").count() == 0
        assert listed(page, seen["culture_item"]) == [seen["on_culture"]]
        assert not page.evaluate(SIDEWAYS_JS), width

        # The preview with the accepted amendments applied.
        person.click(".reading-switch a:nth-child(3)", f"accepted-{width}")
        assert page.locator(".preview-note").is_visible()
        changed = page.locator(f"[id='ref-{seen['other']}']")
        assert "changed" in changed.get_attribute("class")
        assert "eficiencia." in changed.locator(".lt").inner_text()
        link = changed.locator(".changed-by a")
        assert link.get_attribute("href").endswith(f"/amendments/{seen['accepted']}")
        changed.locator(".preview-diff summary").click()
        assert changed.locator(".preview-diff del").first.is_visible()
        person.check(f"accepted-diff-{width}")
        assert not page.evaluate(SIDEWAYS_JS), width
        # Only the accepted one: the item with open amendments reads as before.
        assert "changed" not in page.locator(f"[id='ref-{seen['item']}']").get_attribute("class")
        person.click(f"[id='ref-{seen['other']}'] .changed-by a", f"accepted-amendment-{width}")
        assert page.url.endswith(f"/amendments/{seen['accepted']}")
