"""A consultation's own thread (issue 15): on a phone, a member in Portuguese
goes from the plan's phase banner to the consultation's questions, asks one,
and a facilitator in Spanish answers it from the consultation's page, where
the member then reads the answer. Every page is checked (axe, language)."""

from datetime import timedelta

from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.database import utcnow
from consult.extensions import db

from . import world as w

DAY = timedelta(days=1)
SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_a_member_asks_about_the_consultation_and_a_facilitator_answers(journey):
    journey.name = "consultation-thread"
    with journey.app_context():
        world, forum, plan, facilitator = w.forum_with_plan("consulta", "es", open_for_input=False)
        member = w.person(forum, name="Beatriz Membro", locale="pt")
        now = utcnow()
        consultation = consultations.create_consultation(
            facilitator,
            plan,
            title="Consulta sobre o plano",
            timezone="America/Bogota",
            phases=[
                consultations.PhaseInput("amendments", now - timedelta(hours=1), now + 9 * DAY)
            ],
        )
        phase_scheduler.advance_due(now)
        db.session.commit()
        page_path = f"/forums/{world.slug}/consultations/{consultation.id}"
        member_email, facilitator_email = member.email, facilitator.email

    asker = journey.person("pt", "member")
    phone = asker.page
    phone.set_viewport_size({"width": 390, "height": 844})
    asker.sign_in(member_email, w.PASSWORD)
    asker.go(world.plan_path)  # its own journeys check the plan page
    asker.click(".phase-banner a[href$='#discussion']", "consultation-questions")
    assert phone.url.endswith(f"{page_path}#discussion")
    phone.fill("#comment-body-new", "Quando se reúne a assembleia?")
    asker.click(".comment-new button[type=submit]", "question-published")
    assert "Quando se reúne a assembleia?" in phone.locator("#discussion").inner_text()
    assert not phone.evaluate(SIDEWAYS_JS)

    chair = journey.person("es", "facilitator")
    chair.sign_in(facilitator_email, w.PASSWORD)
    chair.go(page_path, "facilitator-reads")
    desk = chair.page
    desk.locator("#discussion details.comment-action:has(textarea) > summary").first.click()
    desk.locator("#discussion textarea[id^='comment-body-reply-']").first.fill(
        "La próxima semana, en Bogotá."
    )
    chair.click("#discussion form.comment-form:has(input[name=parent_id]) button", "answered")
    assert "La próxima semana, en Bogotá." in desk.locator("#discussion").inner_text()

    asker.go(page_path, "member-reads-the-answer")
    assert "La próxima semana, en Bogotá." in phone.locator("#discussion").inner_text()
