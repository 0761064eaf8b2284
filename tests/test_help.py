"""The help guides: one per role, written natively in each language and served
in the reader's; the sections other pages link to exist in every language."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from consult.config import LOCALES
from consult.help import guides
from consult.plans import services as plans
from consult.votes import setup as votes_setup
from tests.factories import sign_in


class _Page(HTMLParser):
    """The ids, links, <html lang> and visible text of a page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.lang, self.text = set(), [], None, []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], attrs.get("class")))
        if tag in ("script", "style", "code"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(response) -> _Page:
    page = _Page()
    page.feed(response.get_data(as_text=True))
    return page


def guide_article(response) -> str:
    """The text of the guide itself (not the header, footer or menus)."""
    html = response.get_data(as_text=True)
    match = re.search(r'<article class="guide">(.*?)</article>', html, re.S)
    assert match, html[:300]
    page = _Page()
    page.feed(match.group(1))
    return " ".join(page.text)


def read_in(client, lang):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang


def test_the_index_lists_every_guide(client):
    read_in(client, "en")
    page = parse(client.get("/help/"))
    hrefs = {href for href, _ in page.links}
    for guide in guides.GUIDES:
        assert f"/help/{guide.slug}" in hrefs


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("slug", [guide.slug for guide in guides.GUIDES])
def test_each_guide_is_served_in_the_readers_language(client, lang, slug):
    read_in(client, lang)
    response = client.get(f"/help/{slug}")
    assert response.status_code == 200
    page = parse(response)
    assert page.lang == lang
    # Its own text, not the English one served under another language.
    text = guide_article(response)
    english = guide_article(_english_guide(client, slug))
    assert len(text) > 1500
    assert (text == english) == (lang == "en")


def _english_guide(client, slug):
    saved = client.environ_base.get("HTTP_ACCEPT_LANGUAGE")
    read_in(client, "en")
    try:
        return client.get(f"/help/{slug}")
    finally:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = saved


def test_a_signed_in_member_reads_the_guide_in_the_language_of_their_profile(client, make):
    user = make.user(locale="pt")
    sign_in(client, user)
    read_in(client, "en")  # the browser says English; the profile wins
    text = guide_article(client.get("/help/member"))
    assert "Como redigir uma emenda" in text


@pytest.mark.parametrize("lang", LOCALES)
def test_every_linked_section_exists_in_every_language(client, lang):
    read_in(client, lang)
    for section, (slug, anchor) in guides.SECTIONS.items():
        page = parse(client.get(f"/help/{slug}"))
        assert anchor in page.ids, (lang, section)
        # The guide's table of contents reaches every one of its sections.
        hrefs = {href for href, _ in page.links}
        assert f"#{anchor}" in hrefs, (lang, section)


# Very common English words that never appear in Spanish or Portuguese prose.
ENGLISH_WORDS = {"the", "and", "you", "your", "with", "which", "when", "this", "that", "is"}


@pytest.mark.parametrize("lang", ["es", "pt"])
@pytest.mark.parametrize("slug", [guide.slug for guide in guides.GUIDES])
def test_spanish_and_portuguese_guides_have_no_english_sentences(client, lang, slug):
    read_in(client, lang)
    words = re.findall(r"[A-Za-zÀ-ÿ]+", guide_article(client.get(f"/help/{slug}")).lower())
    assert words
    found = sorted(ENGLISH_WORDS.intersection(words))
    assert not found, found


def test_the_english_check_would_catch_an_english_guide(client):
    read_in(client, "en")
    words = re.findall(r"[A-Za-z]+", guide_article(client.get("/help/member")).lower())
    assert ENGLISH_WORDS.intersection(words)


@pytest.mark.parametrize("path", ["/", "/help/", "/sign-in"])
def test_the_footer_links_to_help_and_the_legal_texts(client, path):
    read_in(client, "en")
    html = client.get(path).get_data(as_text=True)
    footer = re.search(r'<footer class="site-footer">(.*?)</footer>', html, re.S).group(1)
    page = _Page()
    page.feed(footer)
    hrefs = {href for href, _ in page.links}
    assert {"/help/", "/privacy", "/terms"} <= hrefs
    for href in ("/help/", "/privacy", "/terms"):
        assert client.get(href).status_code == 200


def _help_link(response, slug, anchor):
    """The page links to the guide's section, and the section is there."""
    assert response.status_code == 200
    hrefs = [href for href, _ in parse(response).links]
    wanted = f"/help/{slug}#{anchor}"
    assert wanted in hrefs, [h for h in hrefs if "help" in h]
    return wanted


@pytest.mark.parametrize("lang", LOCALES)
def test_the_amendment_form_links_to_how_to_write_an_amendment(client, make, lang):
    forum = make.forum()
    plan = make.plan(forum)
    user = make.member(forum, locale=lang).user
    key = plans.version_nodes(plan.current_version)[1].key
    sign_in(client, user)
    response = client.get(f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/amend")
    link = _help_link(response, "member", "write-an-amendment")
    path, anchor = link.split("#")
    assert anchor in parse(client.get(path)).ids


@pytest.mark.parametrize("lang", LOCALES)
def test_the_secret_vote_page_links_to_how_a_secret_vote_is_counted(client, make, lang):
    forum = make.forum()
    plan = make.plan(forum, open_for_input=False)
    facilitator = make.facilitator(forum, locale=lang)
    make.delegate(forum)
    start = datetime.now(UTC) + timedelta(days=1)
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="plan",
        scope="assembly",
        opens_at=start,
        closes_at=start + timedelta(days=2),
    )
    assert poll.secret
    make.session.commit()
    sign_in(client, facilitator)
    response = client.get(f"/forums/{forum.slug}/polls/{poll.id}")
    link = _help_link(response, "delegate", "secret-vote")
    path, anchor = link.split("#")
    page = parse(client.get(path))
    assert anchor in page.ids
    assert urlsplit(path).path == "/help/delegate"
