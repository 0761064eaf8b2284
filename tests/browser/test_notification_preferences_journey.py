"""Notification preferences (issue 16) in a browser: a member opens the
settings from the profile, finds one table per forum, chooses a frequency with
the keyboard alone and saves; then follows an amendment from its page and
sees that they follow it. At 390 and 1280 px, with axe on every page."""

from consult.extensions import db
from consult.notifications.models import NotificationPreference, NotificationWatch

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_a_member_chooses_per_forum_and_follows_an_amendment(journey):
    journey.name = "notification-preferences-en"
    with journey.app_context():
        world, forum, plan, _facilitator = w.forum_with_plan("avisos", "en")
        author = w.person(forum, name="Ana Author", locale="en")
        member = w.person(forum, name="Marco Member", locale="en")
        amendment = w.amendment(author, plan, world.items[0], "A clearer text.")
        db.session.commit()
        email, member_id = member.email, member.id
        forum_id, amendment_id = forum.id, amendment.id
    person = journey.person("en", "member")
    page = person.page
    person.sign_in(email, w.PASSWORD)

    page.set_viewport_size({"width": 390, "height": 844})
    person.go("/profile")
    person.click("a[href='/notifications/preferences']", "settings-phone")
    assert not page.evaluate(SIDEWAYS_JS)
    select = f"#frequency-{forum_id}-group_sections"
    assert page.locator(select).input_value() == "daily"  # the default
    # The keyboard alone: to the select, one choice down, then to Save.
    person.tab_to(select)
    page.keyboard.press("ArrowDown")
    assert page.locator(select).input_value() == "weekly"
    person.tab_to(".notification-preferences button[type=submit]")
    person.press_and_wait()
    person.check("saved-phone")
    assert "saved" in person.flash()
    assert page.locator(select).input_value() == "weekly"
    with journey.app_context():
        assert db.session.scalars(
            db.select(NotificationPreference.frequency).where(
                NotificationPreference.user_id == member_id
            )
        ).all() == ["weekly"]

    page.set_viewport_size({"width": 1280, "height": 900})
    person.go(f"/forums/{world.slug}/amendments/{amendment_id}", "amendment")
    person.click("form.watch-buttons button[value=follow]", "following")
    assert page.locator("form.watch-buttons").get_by_text("Stop following").is_visible()
    with journey.app_context():
        assert db.session.scalars(
            db.select(NotificationWatch.state).where(NotificationWatch.user_id == member_id)
        ).all() == ["follow"]
    # The link of an email lands on its row, highlighted.
    person.go(f"/notifications/preferences#forum-{forum_id}-replies_mentions", "anchor")
    row = page.locator(f"#forum-{forum_id}-replies_mentions")
    assert row.evaluate("(r) => getComputedStyle(r).backgroundColor") != "rgba(0, 0, 0, 0)"
