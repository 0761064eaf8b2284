"""A member's first day, in Spanish: accept the invitation, open the plan,
propose an amendment, support someone else's, reply to a comment. And the
amendment journey again in Portuguese, with the keyboard alone."""

from sqlalchemy import select

from consult.amendments.models import Amendment, AmendmentSupport
from consult.comments.models import Comment
from consult.extensions import db
from consult.forums import invitations as forum_invitations

from . import world as w


def test_an_invited_member_signs_up_amends_supports_and_replies_in_spanish(journey):
    journey.name = "member-es"
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("red-es", "es")
        colleague = w.person(forum, name="Lucía Pereyra", locale="es")
        other = w.amendment(
            colleague,
            plan,
            place.items[1],
            "Intercambiar experiencias sobre políticas públicas de eficiencia energética.",
            justification="Un texto más breve.",
        )
        talk = w.comment(colleague, forum, plan, place.items[2], "¿Qué instituciones incluye?")
        email = "nueva.miembro@journeys.example"
        forum_invitations.invite(facilitator, forum, email=email, display_name="", locale="es")
        db.session.commit()
        place.ids.update(other=other.id, talk=talk.id)
        invitation = w.invitation_path(email)

    member = journey.person("es", "invited member")
    member.go(invitation, "invitation")
    member.page.fill("#display_name", "Marta Quispe")
    assert member.page.locator("#locale").input_value() == "es"
    member.page.fill("#password", w.PASSWORD)
    member.page.fill("#confirm", w.PASSWORD)
    member.click("form.narrow button[type=submit]", "forum-welcome")
    assert member.page.url.endswith(f"/forums/{place.slug}/")
    assert "Marta Quispe" in member.page.locator("header").inner_text()

    member.click(f"a[href='/forums/{place.slug}/plans/']", "plans")
    member.click(f"a[href='{place.plan_path}']", "plan")
    target = place.items[0]
    member.click(f"a[href='{place.item_path(target)}']", "item")
    member.click(f"a[href='{place.item_path(target)}amend']", "propose")
    proposal = "Promover la cooperación regional y comunitaria en materia de energías renovables."
    member.page.fill("#text", proposal)
    member.page.fill("#justification", "Las comunidades también cooperan.")
    member.page.locator("#live-diff ins").first.wait_for()
    member.check("propose-with-diff")
    member.click("form.amend-form button[value=submit]", "amendment-submitted")

    member.go(place.amendment_path("other"), "other-amendment")
    member.click("form[action$='/support'] button", "supported")
    assert "Marta Quispe" in member.page.locator("#support-heading + p + ul").inner_text()

    member.go(place.item_path(place.items[2]), "discussion")
    card = member.page.locator(f"#comment-{place.ids['talk']}")
    card.locator("details.comment-action summary").first.click()
    reply = "Las bibliotecas y los museos, sobre todo."
    card.locator("textarea[name=body]").first.fill(reply)
    with member.page.expect_navigation():
        card.locator("form.comment-form button[type=submit]").first.click()
    member.check("replied")
    assert reply in member.page.locator(f"#comment-{place.ids['talk']}").inner_text()

    with journey.app_context():
        mine = db.session.scalar(select(Amendment).where(Amendment.proposed_text == proposal))
        assert mine is not None and mine.status == "submitted"
        assert mine.author.display_name == "Marta Quispe"
        supports = db.session.scalars(
            select(AmendmentSupport).where(AmendmentSupport.amendment_id == place.ids["other"])
        ).all()
        assert [s.user.display_name for s in supports] == ["Marta Quispe"]
        answer = db.session.scalar(select(Comment).where(Comment.parent_id == place.ids["talk"]))
        assert answer is not None and answer.body == reply


def test_the_amendment_journey_can_be_done_with_the_keyboard_alone_in_portuguese(journey):
    journey.name = "keyboard-pt"
    with journey.app_context():
        place, forum, _plan, _facilitator = w.forum_with_plan("rede-pt", "pt")
        member = w.person(forum, name="João Teclado", locale="pt", country="BR")
        db.session.commit()
        email = member.email

    person = journey.person("pt", "keyboard member")
    page = person.page
    person.go("/sign-in", "sign-in")
    person.tab_to("#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(w.PASSWORD)
    person.press_and_wait("Enter")
    person.check("signed-in")

    person.go(place.plan_path, "plan")
    target = place.items[0]
    person.tab_to(f"a[href='{place.item_path(target)}']")
    person.press_and_wait("Enter")
    person.check("item")
    person.tab_to(f"a[href='{place.item_path(target)}amend']")
    person.press_and_wait("Enter")
    person.check("propose")
    person.tab_to("#text")
    page.keyboard.press("Control+A")
    proposal = "Promover a cooperação regional em energias renováveis e comunitárias."
    page.keyboard.type(proposal)
    person.tab_to("#justification")
    page.keyboard.type("Texto escrito só com o teclado.")
    person.tab_to("form.amend-form button[value=submit]")
    person.press_and_wait("Enter")
    person.check("submitted")

    with journey.app_context():
        mine = db.session.scalar(select(Amendment).where(Amendment.proposed_text == proposal))
        assert mine is not None and mine.status == "submitted"
        assert mine.justification == "Texto escrito só com o teclado."
