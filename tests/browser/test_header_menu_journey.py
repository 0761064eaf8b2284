"""The site header on a phone (issue 14, "Phones and print"): one row, the
brand and a menu button (a <details> disclosure) that opens the links, the
unread count and the language; at 1280 px the links are in the row without a
menu. Signed in as an administrator (the most links) in Portuguese, where
the words are long."""

from consult.extensions import db
from consult.forums import services as forums
from consult.notifications import services as notifications

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"
OPEN_JS = "document.querySelector('details.site-menu').open"


def test_the_header_is_one_row_with_a_menu_on_a_phone(journey):
    journey.name = "header-menu-pt"
    with journey.app_context():
        slug = f"cabecalho-{next(w._numbers)}"
        forum = forums.create_forum(None, slug, "Rede do cabeçalho", default_locale="pt")
        admin = w.person(
            forum, "facilitator", name="Maria da Conceição Albuquerque Figueiredo", locale="pt"
        )
        admin.is_admin = True
        notifications.notify(admin.id, "mention", forum, forum=forum)
        db.session.commit()
        email = admin.email
    person = journey.person("pt", "admin")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    person.go("/", "phone-closed")

    header = page.locator("header.site-header")
    assert header.bounding_box()["height"] < 64, "the header is more than one row"
    button = page.locator("details.site-menu > summary")
    assert button.is_visible()
    assert "1" in button.inner_text()  # the unread count shows on the button
    search = page.locator("nav a[href^='/search']")
    assert not search.is_visible()
    assert not page.evaluate(SIDEWAYS_JS)

    # The keyboard alone: Tab to the button (its focus is visible), Enter opens.
    person.tab_to("details.site-menu > summary")
    assert button.evaluate("(b) => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate(OPEN_JS)
    person.check("phone-open")
    for name in ("Buscar", "Notificações", "Administração", "Sair"):
        assert page.locator(".site-menu-panel").get_by_text(name).first.is_visible(), name
    assert page.locator("#language-select").is_visible()
    assert not page.evaluate(SIDEWAYS_JS)
    # Escape closes the menu and gives the focus back to its button.
    page.keyboard.press("Escape")
    assert not page.evaluate(OPEN_JS)
    assert page.evaluate("document.activeElement.matches('details.site-menu > summary')")

    # The links work.
    button.click()
    person.click("nav a[href^='/search']", "search")
    assert "/search" in page.url
    page.locator("details.site-menu > summary").click()
    person.click(".site-menu-panel a:has-text('Administração')", "administration")
    assert "/admin/" in page.url
    assert page.locator("header.site-header").bounding_box()["height"] < 64

    # On a laptop: every link in the row, no menu button.
    page.set_viewport_size({"width": 1280, "height": 900})
    person.go("/", "laptop")
    assert not button.is_visible()
    for link in ("nav a[href^='/search']", "nav a[href='/notifications/']", "#language-select"):
        assert page.locator(link).is_visible(), link
    assert page.locator("header.site-header").bounding_box()["height"] < 64
    # …reached with the keyboard too, and working.
    person.tab_to("nav a[href^='/search']")
    person.press_and_wait()
    assert "/search" in page.url
