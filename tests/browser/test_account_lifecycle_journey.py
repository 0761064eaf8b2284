"""A member's account (issue 16), on a phone: their data read and downloaded,
a new email address asked for, and the account deleted with the password (a
wrong one first); afterwards the password no longer signs in. In Portuguese,
so every page is also checked for English left in it."""

import json

from consult.extensions import db
from consult.forums import services as forums

from . import world as w

LOCALE = "pt"


def test_a_member_downloads_their_data_and_deletes_their_account(journey):
    journey.name = f"account-lifecycle-{LOCALE}"
    with journey.app_context():
        forum = forums.create_forum(
            None, f"conta-{next(w._numbers)}", "Rede da conta", default_locale=LOCALE
        )
        member = w.person(forum, name="Joana Saída", locale=LOCALE)
        db.session.commit()
        email = member.email
    person = journey.person(LOCALE, "member")
    page = person.page
    page.set_viewport_size({"width": 390, "height": 844})
    person.sign_in(email, w.PASSWORD)
    person.go("/profile", "profile")

    person.click("a[href='/profile/data']", "my-data")
    assert email in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.locator("a[href='/profile/data.json']").click()
    data = json.loads(download.value.path().read_text())
    assert data["profile"]["email"] == email
    assert [m["forum"] for m in data["memberships"]] == ["Rede da conta"]

    person.go("/profile", "profile-again")
    page.fill("#em-new_email", "joana.nova@journeys.example")
    page.fill("#em-current_password", w.PASSWORD)
    person.click("form[action^='/profile/email'] button[type=submit]", "email-asked")
    assert "joana.nova@journeys.example" in person.flash()

    person.go("/profile/delete", "delete")
    page.fill("#current_password", "not the password at all")
    person.click("main form button[type=submit]", "delete-wrong-password")
    assert page.locator("#current_password-error").is_visible()
    page.fill("#current_password", w.PASSWORD)
    person.click("main form button[type=submit]", "deleted")
    assert page.url.rstrip("/") == journey.server.url
    assert person.flash()

    person.go("/sign-in")
    page.fill("#email", email)
    page.fill("#password", w.PASSWORD)
    person.click("form.narrow button[type=submit]", "signed-out-for-good")
    assert "/sign-in" in page.url
