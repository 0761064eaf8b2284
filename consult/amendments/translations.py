"""An amendment's proposed text in the forum's other languages, written by its
author, a translator or a facilitator (the rule:
``plan_translations.permissions.translate_amendment_refusal``)."""

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.services import clean_text
from ..config import LOCALES
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..forums.permissions import require
from ..plan_translations import permissions
from ..plan_translations.services import MAX_TEXT
from .models import Amendment, AmendmentTranslation


def amendment_translations(amendment: Amendment) -> dict[str, AmendmentTranslation]:
    rows = db.session.scalars(
        select(AmendmentTranslation).where(AmendmentTranslation.amendment_id == amendment.id)
    )
    return {row.language: row for row in rows}


def translate_amendment(actor, amendment: Amendment, language: str, text: str) -> None:
    """The proposed text in another language (by its author, a translator or a
    facilitator); empty removes it."""
    require(permissions.translate_amendment_refusal(actor, amendment))
    if language not in LOCALES or language == amendment.language:
        raise InvalidInput(_("Choose a language other than the amendment's own."))
    text = clean_text(text)
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("The text is too long (at most %(count)d characters).", count=MAX_TEXT)
        )
    current = amendment_translations(amendment).get(language)
    if not text:
        if current is not None:
            db.session.delete(current)
        return
    if current is None:
        db.session.add(
            AmendmentTranslation(
                amendment_id=amendment.id,
                language=language,
                text=text,
                source_text=amendment.proposed_text,
                translator_id=actor.id,
                updated_at=utcnow(),
            )
        )
    else:
        current.text, current.source_text = text, amendment.proposed_text
        current.translator_id, current.updated_at = actor.id, utcnow()
