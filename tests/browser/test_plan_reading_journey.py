"""Reading a plan in Portuguese on a laptop and a phone: numbered lines never
wrap from 1024 px up, the translated and untranslated items read as such, the
sections stay in reach, and nothing scrolls sideways on a phone."""

from pathlib import Path

from consult.extensions import db
from consult.plan_translations import services as translations
from consult.plans import services as plans

from . import world as w

DEMO = Path(__file__).resolve().parents[2] / "consult" / "demo"
DATA = Path(__file__).resolve().parents[1] / "data"

# Per numbered line of the text: whether it takes more than one line on screen.
WRAPPED_LINES_JS = """
() => [...document.querySelectorAll('.plan-text .node-body:not(.translated) .lt')]
  .filter((line) => {
    const height = parseFloat(getComputedStyle(line).lineHeight);
    return line.getBoundingClientRect().height > height * 1.5;
  })
  .map((line) => line.textContent.trim())
"""
SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_a_plan_reads_in_portuguese_without_wrapped_numbered_lines(journey):
    journey.name = "reading-pt"
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("leitura-pt", "pt")
        reader = w.person(forum, name="Leitora Ana", locale="pt", country="BR")
        first = plans.find_node(plan.current_version, place.items[0])
        translations.save(
            facilitator, plan, "pt", {first.key: ("Texto traduzido do primeiro item.", first.text)}
        )
        paths = [place.plan_path]
        for sample in [*sorted(DEMO.glob("*.txt")), *sorted(DATA.glob("*.txt"))]:
            other = plans.import_plan(facilitator, forum, sample.read_text())
            db.session.flush()
            paths.append(f"/forums/{place.slug}/plans/{other.id}/")
        db.session.commit()
        email, ref = reader.email, first.ref

    person = journey.person("pt", "reader")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        for number, path in enumerate(paths):
            person.go(path, f"plan-{number}-{width}")
            assert page.evaluate(WRAPPED_LINES_JS) == [], f"{path} at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})
    person.go(place.plan_path)
    translated = page.locator(f"[id='ref-{ref}'] .translated")
    assert "Texto traduzido" in translated.inner_text()
    assert page.locator(f"[id='ref-{ref}'] .range").inner_text().startswith("lin. ")  # pt
    assert page.locator(".plan-outline").is_visible()
    # Scrolled to the end, the sections list is still on screen.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.locator(".plan-outline").is_visible()
    box = page.locator(".plan-outline").bounding_box()
    assert box is not None and 0 <= box["y"] < 900

    # A phone: a jump menu instead of the sidebar, no sideways scroll.
    page.set_viewport_size({"width": 390, "height": 800})
    person.go(place.plan_path, "plan-390")
    assert not page.evaluate(SIDEWAYS_JS)
    assert page.evaluate(WRAPPED_LINES_JS)  # here lines do wrap (hanging): the check sees it
    assert not page.locator(".plan-outline").is_visible()
    jump = page.locator(".plan-jump summary")
    jump.click()
    page.locator(".plan-jump a").last.click()
    assert page.locator(".plan-jump details").get_attribute("open") is None  # closed again
    assert page.locator(".plan-jump").is_visible()  # and still at the top of the screen
    assert page.locator(".plan-jump").bounding_box()["y"] < 5
