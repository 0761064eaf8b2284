"""Which guides exist, and which file holds a guide in the reader's language.

Other pages link to sections of a guide by anchor (``SECTIONS``); every
language's file carries the same anchors, which tests/test_help.py checks."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..config import LOCALES

FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    summary: str


GUIDES = (
    Guide(
        "member",
        _l("Taking part as a member"),
        _l("Reading the plan, proposing amendments, supporting them and commenting."),
    ),
    Guide(
        "facilitator",
        _l("Running a consultation"),
        _l("Phases, working groups, triage of amendments, votes and consolidated drafts."),
    ),
    Guide(
        "translator",
        _l("Translating the plan"),
        _l("Translating item by item or with a file, and keeping translations up to date."),
    ),
    Guide(
        "delegate",
        _l("Voting as a delegate"),
        _l("The assembly session on your phone, proxies, secret votes and receipt codes."),
    ),
    Guide(
        "administrator",
        _l("Administering the platform"),
        _l("Forums, accounts, failed emails and jobs, the privacy notice and the terms."),
    ),
)
BY_SLUG = {guide.slug: guide for guide in GUIDES}

# Sections that other pages link to: (guide, anchor).
SECTIONS = {
    "write-an-amendment": ("member", "write-an-amendment"),
    "sub-amendments": ("member", "sub-amendments"),
    "secret-vote": ("delegate", "secret-vote"),
    "votes": ("delegate", "votes"),
    "phases": ("facilitator", "phases"),
    "triage": ("facilitator", "triage"),
    "translate": ("translator", "translate"),
}


def template_for(slug: str, locale: str | None) -> str:
    """The guide's template in ``locale``, else in English (every guide is
    written in each of LOCALES; tests/test_help.py checks it)."""
    lang = locale if locale in LOCALES else FALLBACK_LOCALE
    return f"help/{lang}/{slug}.html"
