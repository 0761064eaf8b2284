"""A facilitator triages five amendments in one pass on the desk (issue 15),
in Spanish, on a laptop and on a phone: checks the rows, gives one reason,
admits them, then rejects two of the admitted ones; each author's amendment
says why. Nothing scrolls sideways at 390 px."""

from consult.amendments.models import Amendment, AmendmentStatus
from consult.extensions import db

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"
TEXTS = (
    "Fortalecer las redes nacionales de coaliciones con encuentros anuales.",
    "Crear un fondo común para la participación de las coaliciones pequeñas.",
    "Publicar un informe anual sobre la diversidad de las expresiones culturales.",
    "Traducir los documentos de la red al portugués, al inglés y al francés.",
    "Incluir a las coaliciones del Caribe en el comité de seguimiento.",
)


def test_a_facilitator_triages_five_amendments_in_one_pass(journey):
    journey.name = "triage-desk-es"
    with journey.app_context():
        place, forum, plan, _facilitator = w.forum_with_plan("mesa", "es")
        author = w.person(forum, name="Beatriz Autora", locale="es")
        for n, text in enumerate(TEXTS):
            place.ids[f"e{n}"] = w.amendment(author, plan, place.items[n], text).id
        db.session.commit()
    desk = f"/forums/{place.slug}/plans/{place.plan_id}/amendments/triage"

    chair = journey.person("es", "facilitator")
    page = chair.page
    chair.sign_in(place.emails["facilitator"], w.PASSWORD)
    page.set_viewport_size({"width": 390, "height": 900})
    chair.go(desk, "desk-390")
    assert not page.evaluate(SIDEWAYS_JS)
    page.set_viewport_size({"width": 1280, "height": 900})
    chair.go(desk, "desk-1280")

    # Five rows checked, one reason, one click.
    for n in range(len(TEXTS)):
        page.check(f"#select-{place.ids[f'e{n}']}")
    page.fill("#bulk-waiting-reason", "Cumplen los criterios de la consulta.")
    chair.click("#bulk-waiting button[value=admitted]", "admitted")
    assert "5" in chair.flash()
    assert page.locator("#waiting-heading").inner_text().endswith("(0)")
    assert page.locator("#admitted-heading").inner_text().endswith("(5)")

    # Two of the admitted ones rejected together, on the phone.
    page.set_viewport_size({"width": 390, "height": 900})
    for n in (3, 4):
        page.check(f"#select-{place.ids[f'e{n}']}")
    page.fill("#bulk-admitted-reason", "Ya figura en el plan regional.")
    chair.click("#bulk-admitted button[value=rejected]", "rejected-390")
    assert not page.evaluate(SIDEWAYS_JS)
    assert page.locator("#admitted-heading").inner_text().endswith("(3)")

    with journey.app_context():
        statuses = [db.session.get(Amendment, place.ids[f"e{n}"]).status for n in range(len(TEXTS))]
    assert statuses == [AmendmentStatus.ADMITTED] * 3 + [AmendmentStatus.REJECTED] * 2
    chair.go(place.amendment_path("e4"), "rejected-amendment")
    assert "Ya figura en el plan regional." in page.locator("main").inner_text()
