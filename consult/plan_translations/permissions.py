"""Who may translate a plan's items and an amendment's text: one predicate per rule.

Each rule is ``<action>_refusal(actor, object, …) -> str | None``: why ``actor``
may not do it now (translated), or None when they may. The services raise with
it (``forums.permissions.require``: 403 for who the actor is, 409 for an
archived plan, 400 for a language the text cannot be translated into), and
the views build ``allowed`` from the same predicates, so a page never offers
what the service would refuse.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from ..config import LOCALES
from ..forums import permissions as forum_permissions
from ..forums.permissions import InputRefusal, Refusal, StateRefusal
from ..plans.models import Plan
from ..plans.services import archived_refusal


def is_translator(actor, plan: Plan) -> bool:
    """Members with the translator role, and the forum's facilitators."""
    forum = plan.forum
    membership = forum_permissions.membership_of(actor, forum)
    if forum_permissions.can_manage(actor, forum, membership):
        return True
    return bool(membership and membership.is_translator)


def review_refusal(actor, plan: Plan) -> str | None:
    """Why ``actor`` may not open the translators' workspace of ``plan`` (every
    item's translation, what changed in its source since): translators and
    facilitators only. Reading the translated plan is everyone's."""
    if not is_translator(actor, plan):
        return Refusal(_("Only translators and facilitators can translate the plan."))
    return None


def language_refusal(plan: Plan, language: str) -> str | None:
    """Why the plan cannot be translated into ``language``: not one of the
    forum's languages, or the one its current version is written in."""
    version = plan.current_version
    own = version.language if version is not None else None
    if language not in LOCALES or language == own:
        return InputRefusal(_("Choose a language other than the plan's own."))
    return None


def translate_refusal(actor, plan: Plan, language: str) -> str | None:
    """Why ``actor`` may not save translations of ``plan``'s items into
    ``language`` now (by hand or from a PO file): who they are, an archived
    plan, a language the plan is not translated into."""
    if refusal := review_refusal(actor, plan):
        return refusal
    if refusal := archived_refusal(plan):
        return StateRefusal(refusal)
    return language_refusal(plan, language)


def translate_amendment_refusal(actor, amendment) -> str | None:
    """Why ``actor`` may not translate ``amendment``'s proposed text: its
    author, translators and facilitators may, while it proposes a text on a
    plan that is not archived."""
    if not (amendment.is_by(actor) or is_translator(actor, amendment.plan)):
        return Refusal(
            _("Only the author, translators and facilitators can translate an amendment.")
        )
    if refusal := archived_refusal(amendment.plan):
        return StateRefusal(refusal)
    if amendment.operation == "delete":
        return StateRefusal(_("An amendment that deletes an item has no text to translate."))
    return None


@dataclass(frozen=True)
class TranslationActions:
    """What the translation pages offer ``actor`` on a plan: the answers of the
    rules above, for the page's language (``translate``) or for each of the
    plan's other languages (``languages``, on the overview)."""

    review: bool = False
    translate: bool = False
    languages: frozenset[str] = frozenset()

    def translate_into(self, language: str) -> bool:
        return language in self.languages


def allowed(actor, plan: Plan, language: str | None = None) -> TranslationActions:
    """What ``actor`` may do with ``plan``'s translations (into ``language``, or
    into each language the plan is translated into when None)."""
    if not getattr(actor, "is_authenticated", False) or review_refusal(actor, plan):
        return TranslationActions()
    if language is not None:
        return TranslationActions(
            review=True, translate=translate_refusal(actor, plan, language) is None
        )
    languages = frozenset(code for code in LOCALES if translate_refusal(actor, plan, code) is None)
    return TranslationActions(review=True, languages=languages)
