"""Help (issue 16): a Portuguese member finds the guides from the footer, reads
how to write an amendment by its table of contents, and the privacy notice;
on a phone and a laptop, each page checked with axe-core and for English left
in a Portuguese page."""

from consult.extensions import db
from consult.forums import services as forums

from . import world as w

SIDEWAYS_JS = "document.documentElement.scrollWidth > window.innerWidth"


def test_a_member_reads_the_help_and_the_privacy_notice_in_portuguese(journey):
    journey.name = "help-pt"
    with journey.app_context():
        forum = forums.create_forum(None, f"ajuda-{next(w._numbers)}", "Rede", default_locale="pt")
        email = w.person(forum, name="Joana Ajuda", locale="pt", country="BR").email
        db.session.commit()
    person = journey.person("pt", "member")
    page = person.page
    person.sign_in(email, w.PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})

    person.click("footer a[href='/help/']", "help-index")
    person.click("a[href='/help/member']", "member-guide")
    assert page.locator("h1").inner_text() == "Participar como membro"
    assert not page.evaluate(SIDEWAYS_JS)
    page.locator(".toc a[href='#write-an-amendment']").click()
    assert page.url.endswith("/help/member#write-an-amendment")
    heading = page.locator("#write-an-amendment")
    assert heading.inner_text() == "Como redigir uma emenda"
    assert heading.is_visible() and heading.bounding_box()["y"] < 200  # scrolled to it

    page.set_viewport_size({"width": 1280, "height": 900})
    person.click("footer a[href='/privacy']", "privacy")
    assert "Este aviso explica quais dados seus" in page.locator("main").inner_text()
