"""Administration (issue 16): a platform administrator finds a member in the
account list and deactivates them with a reason; the member, signed in
elsewhere, is signed out on their next request; the forum's administrator
then reads the forum's audit log, filters it by kind of action, and finds an
archived plan there with its reason. In Spanish (the administrators) and
Portuguese (the member), each page checked with axe-core."""

from consult.accounts import services as accounts
from consult.extensions import db

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_an_administrator_deactivates_a_member_who_is_signed_out_at_once(journey):
    journey.name = "administration"
    with journey.app_context():
        place, forum, _plan, _facilitator = w.forum_with_plan("admin", "es")
        member = w.person(forum, name="Paulo Desativado", locale="pt", country="BR")
        admin = accounts.create_user(
            f"plataforma.{place.slug}@journeys.example",
            "Administradora Plataforma",
            w.PASSWORD,
            locale="es",
            is_admin=True,
        )
        forum_admin = w.person(forum, "admin", name="Administradora Foro", locale="es")
        db.session.commit()
        emails = {"member": member.email, "admin": admin.email, "forum_admin": forum_admin.email}
        member_id = member.id

    paulo = journey.person("pt", "member")
    paulo.sign_in(emails["member"], w.PASSWORD)
    paulo.go(place.plan_path, "member-reads")

    chief = journey.person("es", "platform admin")
    page = chief.page
    chief.sign_in(emails["admin"], w.PASSWORD)
    chief.go("/admin/users", "accounts")
    page.fill("#q", "Desativado")
    chief.click("form.filters button[type=submit]", "found")
    chief.click(f"a[href='/admin/users/{member_id}']", "account")
    page.fill("#reason", "Cuenta compartida por varias personas.")
    chief.click(f"form[action='/admin/users/{member_id}/deactivate'] button", "deactivated")
    assert "Cuenta compartida" in page.locator("main").inner_text()

    # The member's next request: signed out, sent to sign in again.
    response = paulo.page.goto(place.plan_path)
    assert response.status == 404  # the private forum, to someone signed out
    paulo.page.goto("/")
    header = paulo.page.locator("header.site-header")
    assert header.locator("a[href^='/sign-in']").count() == 1
    assert "Paulo Desativado" not in header.inner_text()

    # The forum's administrator archives the plan, then reads the audit log.
    keeper = journey.person("es", "forum admin")
    keeper.sign_in(emails["forum_admin"], w.PASSWORD)
    keeper.go(f"/forums/{place.slug}/plans/{place.plan_id}/settings", "plan-settings")
    keeper.page.fill("#archive-reason", "Sustituido por el plan 2027.")
    keeper.click(f"form[action$='/plans/{place.plan_id}/archive'] button", "archived")
    for width in (1280, 390):
        keeper.page.set_viewport_size({"width": width, "height": 900})
        keeper.go(f"/forums/{place.slug}/manage/audit", f"audit-{width}")
        assert not keeper.page.evaluate(SIDEWAYS_JS), width
    keeper.page.select_option("#action", "plan.archived")
    keeper.click("form.filters button[type=submit]", "audit-filtered")
    rows = keeper.page.locator("main table tbody").inner_text()
    assert "Sustituido por el plan 2027." in rows and "Administradora Foro" in rows
