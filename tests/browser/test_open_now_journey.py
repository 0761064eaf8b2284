"""What is open now (issue 15): a Portuguese member starts from the forum page
and reaches each thing that waits for them in one click — the vote that awaits
their ballot, their draft, their amendment short of supports, the open
consultation — on a phone and on a laptop, every page checked with axe-core."""

from datetime import timedelta

from consult.amendments import plan_settings, supports
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.database import utcnow
from consult.extensions import db
from consult.forums import permissions as forum_permissions
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import setup as votes_setup

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_a_member_reaches_what_waits_for_them_in_one_click(journey):
    journey.name = "open-now-pt"
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("aberto", "pt")
        member = w.person(forum, name="Joana Delegada", locale="pt", country="BR")
        forum_permissions.membership_of(member, forum).is_delegate = True
        now = utcnow()
        poll = votes_setup.create_poll(
            facilitator,
            plan,
            subject="plan",
            scope="assembly",
            opens_at=now,
            closes_at=now + timedelta(days=3),
            settings=votes_setup.PollSettings(title="Aprovação do plano de ação"),
        )
        votes_lifecycle.open_poll(facilitator, poll)
        plan_settings.update_settings(
            facilitator, plan, open_for_input=True, threshold=2, threshold_kind="members"
        )
        draft = w.amendment(member, plan, place.items[0], "Um rascunho meu.", submit=False)
        short = w.amendment(member, plan, place.items[1], "Uma emenda com um apoio.")
        supports.support(w.person(forum, name="Ana Apoio", locale="pt"), short)
        consultations.create_consultation(
            facilitator,
            plan,
            title="Consulta 2026",
            phases=[
                consultations.PhaseInput(
                    "voting", now - timedelta(days=1), now + timedelta(days=20)
                )
            ],
        )
        phase_scheduler.advance_due(now)
        db.session.commit()
        place.ids.update(poll=poll.id, draft=draft.id, short=short.id)
        email = member.email
    forum_page = f"/forums/{place.slug}/"
    targets = {
        "vote": f"/forums/{place.slug}/polls/{place.ids['poll']}",
        "draft": f"/forums/{place.slug}/amendments/{place.ids['draft']}",
        "short": f"/forums/{place.slug}/amendments/{place.ids['short']}",
        "consultation": place.plan_path,
    }

    person = journey.person("pt", "member")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        person.go(forum_page, f"forum-{width}")
        assert not page.evaluate(SIDEWAYS_JS), width
        box = page.locator("section.whats-open")
        text = box.inner_text()
        assert "aguarda o seu voto" in text and "Esperando por você" in text, text
        assert "1 dos 2 apoios necessários" in text, text
        for name, target in targets.items():
            person.go(forum_page)
            link = box.locator(f"a[href='{target}']")
            assert link.count() == 1, name
            person.click(f"section.whats-open a[href='{target}']", f"{name}-{width}")
            assert page.url.endswith(target), (name, page.url)
            assert not page.evaluate(SIDEWAYS_JS), (name, width)
    # The vote's page lets her vote at once.
    person.go(targets["vote"])
    assert page.locator("form.ballot").count() == 1
