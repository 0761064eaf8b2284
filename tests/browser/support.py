"""What every page of a journey is checked for, and how a person moves through it.

Each visited page gets a screenshot (tests/browser/artifacts/), an axe-core run
(no serious or critical violation), and, in Spanish and Portuguese, a search of
its visible text for English interface strings that were left untranslated.
"""

import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from consult.catalogs import SAME_AS_ENGLISH_IN, SAME_IN_ALL_LANGUAGES
from consult.paths import project_dir

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
AXE_SCRIPT = HERE / "vendor" / "axe.min.js"
BROWSER_LOCALES = {"es": "es-ES", "en": "en-GB", "pt": "pt-BR"}
SERIOUS = ("serious", "critical")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")

# The page's own visible text and accessible names, leaving out what is
# marked as being in another language (plan text, comments, the language
# menu): that is user content or deliberately foreign, not interface.
VISIBLE_TEXT_JS = """
(pageLang) => {
  const parts = [];
  const foreign = (element) => {
    const marked = element.closest('[lang]');
    return marked && marked.getAttribute('lang').split('-')[0] !== pageLang;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!element || !node.textContent.trim()) continue;
    if (element.closest('script, style, noscript, template')) continue;
    if (foreign(element)) continue;
    const visible = element.checkVisibility({ visibilityProperty: true })
      || element.closest('.visually-hidden, .skip-link');
    if (!visible) continue;
    parts.push(node.textContent);
  }
  for (const element of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (foreign(element)) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      if (element.hasAttribute(name)) parts.push(element.getAttribute(name));
    }
  }
  parts.push(document.title);
  return parts.join('\\n').replace(/[ \\t\\u00a0]+/g, ' ');
}
"""

AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary),
  }));
}
"""


def _messages(path: Path):
    with path.open("rb") as handle:
        return list(read_po(handle))


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@cache
def english_fragments(locale: str) -> tuple[str, ...]:
    """The English interface phrases that must not show in a ``locale`` page.

    From each msgid of the template, the literal runs between placeholders of
    at least two words and ten characters; a run that the locale's own
    catalog also uses (a name, a loan word, "Consult") is not a leak.
    """
    catalog = _messages(project_dir("translations") / locale / "LC_MESSAGES" / "messages.po")
    translated_text = "\n".join(
        string
        for message in catalog
        if message.id
        for string in (message.string if isinstance(message.string, tuple) else (message.string,))
        if string
    )
    same = SAME_IN_ALL_LANGUAGES | SAME_AS_ENGLISH_IN.get(locale, set())
    fragments = set()
    for message in _messages(project_dir("translations") / "messages.pot"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if _key(message) in same:
            continue
        for msgid in ids:
            for run in PLACEHOLDER.split(msgid):
                run = " ".join(run.split()).strip(" .,:;·()“”\"'")
                if len(run) >= 10 and len(run.split()) >= 2 and run not in translated_text:
                    fragments.add(run)
    return tuple(sorted(fragments, key=len, reverse=True))


def english_leaks(text: str, locale: str) -> list[str]:
    text = " ".join(text.split())
    found = []
    for fragment in english_fragments(locale):
        shown = re.search(r"(?<!\w)" + re.escape(fragment) + r"(?!\w)", text)
        if shown and not any(fragment in longer for longer in found):
            found.append(fragment)
    return found


class Journey:
    """The people of one test, each in a browser context of their own."""

    def __init__(self, name: str, browser, server, downloads: Path):
        # Screenshots are named <name>-<step number>-<step>.png; a test may
        # give a shorter name.
        self.name = re.sub(r"[^a-z0-9_-]+", "-", name.lower().removeprefix("test_")).strip("-")
        self.browser = browser
        self.server = server
        self.downloads = downloads
        self.problems: list[str] = []
        self.people: list[Person] = []
        self.shots = 0
        self.checked_pages: list[str] = []

    def person(self, locale: str, who: str) -> "Person":
        context = self.browser.new_context(
            locale=BROWSER_LOCALES[locale],
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
            base_url=self.server.url,
        )
        # Injected through the DevTools protocol before the page's own scripts:
        # the pages keep their Content-Security-Policy (script-src 'self').
        context.add_init_script(path=str(AXE_SCRIPT))
        context.set_default_timeout(15_000)
        person = Person(self, context, locale, who)
        self.people.append(person)
        return person

    def app_context(self):
        return self.server.app.app_context()

    def close(self) -> None:
        for person in self.people:
            person.context.close()

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(
            [f"{len(self.problems)} problem(s) in the pages of this journey:", *self.problems]
        )


class Person:
    def __init__(self, journey: Journey, context, locale: str, who: str):
        self.journey = journey
        self.context = context
        self.locale = locale
        self.who = who
        self.page = context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", self._page_error)
        self.page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        """Forms with data-confirm ask; any other dialog is a script that ran."""
        if dialog.type != "confirm":
            self.journey.problems.append(
                f"{self.who} at {self.page.url}: a script opened an {dialog.type}: "
                f"{dialog.message!r}"
            )
        dialog.accept()

    def _page_error(self, error) -> None:
        self.journey.problems.append(f"{self.who} at {self.page.url}: script error {error}")

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.journey.problems.append(f"{self.who} at {self.page.url}: {message.text}")

    # --- moving around -------------------------------------------------------------

    def go(self, path: str, step: str | None = None):
        response = self.page.goto(path)
        assert response is not None and response.status < 400, (
            f"{path}: {response.status if response else 'no response'}"
        )
        if step:
            self.check(step)
        return response

    def click(self, selector: str, step: str | None = None):
        """Click and wait for the page that the click leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        if step:
            self.check(step)

    def sign_in(self, email: str, password: str, step: str | None = None) -> None:
        self.go("/sign-in")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.click("form.narrow button[type=submit]", step)

    def flash(self) -> str:
        flashes = self.page.locator(".flashes")
        return flashes.inner_text() if flashes.count() else ""

    def lang(self) -> str:
        return self.page.locator("html").get_attribute("lang")

    # --- the checks of every page ----------------------------------------------------

    def check(self, step: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        where = f"{self.who} [{step}] {page.url.removeprefix(self.journey.server.url)}"
        self.journey.checked_pages.append(where)
        self.journey.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(ARTIFACTS / f"{self.journey.name}-{self.journey.shots:02d}-{step}.png"),
            full_page=True,
        )
        if self.lang() != self.locale:
            self.journey.problems.append(f"{where}: page in {self.lang()!r}, not {self.locale!r}")
        for violation in page.evaluate(AXE_RUN_JS):
            if violation["impact"] in SERIOUS:
                self.journey.problems.append(
                    f"{where}: axe {violation['impact']} {violation['id']}: {violation['help']}\n"
                    + "\n".join(f"      {node}" for node in violation["nodes"])
                )
        if self.locale != "en":
            text = page.evaluate(VISIBLE_TEXT_JS, self.locale)
            for leak in english_leaks(text, self.locale):
                self.journey.problems.append(
                    f"{where}: English text in a {self.locale} page: {leak!r}"
                )

    # --- the keyboard alone ----------------------------------------------------------

    def tab_to(self, selector: str, limit: int = 150) -> None:
        """Press Tab until the element matching ``selector`` has the focus."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if self.page.evaluate(
                "(s) => document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
        raise AssertionError(f"{selector} cannot be reached with the Tab key")

    def press_and_wait(self, key: str = "Enter") -> None:
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
