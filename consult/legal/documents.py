"""Where the legal texts live and who may change them.

Each text is a Markdown file in the instance folder
(``<INSTANCE_DIR>/legal/<document>.<lang>.md``): there is one per document and
language, edited as a whole and never queried, so a file is enough and needs
no table. Until an administrator writes one, the default shipped in
``consult/legal/defaults/`` is shown: a starting point that the platform's
operator must adapt (their name, contact, the law that applies)."""

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..config import LOCALES
from ..errors import InvalidInput, PermissionDenied
from ..inputs import clean_text

DOCUMENTS = {"privacy": _l("Privacy notice"), "terms": _l("Terms of use")}
MAX_LENGTH = 50_000  # characters of Markdown per language
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"


@dataclass(frozen=True)
class LegalText:
    document: str
    lang: str
    source: str  # Markdown
    is_default: bool  # nobody has written this one yet: the shipped template


def _written_path(document: str, lang: str) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "legal" / f"{document}.{lang}.md"


def _default_path(document: str, lang: str) -> Path:
    return DEFAULTS_DIR / f"{document}.{lang}.md"


def _check(document: str, lang: str) -> None:
    if document not in DOCUMENTS or lang not in LOCALES:
        raise LookupError(f"{document}.{lang}")  # never a path built from input


def text_for(document: str, lang: str) -> LegalText:
    """The text an administrator wrote in ``lang``, else the shipped default."""
    _check(document, lang)
    written = _written_path(document, lang)
    if written.is_file():
        return LegalText(document, lang, written.read_text(encoding="utf-8"), False)
    return LegalText(
        document, lang, _default_path(document, lang).read_text(encoding="utf-8"), True
    )


def texts_for(document: str) -> dict[str, LegalText]:
    return {lang: text_for(document, lang) for lang in LOCALES}


def edit_refusal(actor) -> str | None:
    if not (actor and getattr(actor, "is_authenticated", False) and actor.is_admin):
        return _("Only platform administrators can change the privacy notice and the terms.")
    return None


def too_long_message() -> str:
    return _(
        "A text may have at most %(count)s characters; shorten it and save again.",
        count=format_decimal(MAX_LENGTH),
    )


def save(actor, document: str, sources: dict[str, str]) -> list[str]:
    """Write the document's text in each language given; an empty text goes
    back to the default. Returns the languages whose text changed."""
    if refusal := edit_refusal(actor):
        raise PermissionDenied(refusal)
    cleaned = {}
    for lang, source in sources.items():
        _check(document, lang)
        text = clean_text(source or "").strip()
        if len(text) > MAX_LENGTH:
            raise InvalidInput(too_long_message())
        cleaned[lang] = text
    changed = []
    for lang, text in cleaned.items():
        current = text_for(document, lang)
        if text == current.source.strip() or (not text and current.is_default):
            continue  # unchanged (the default saved as it is keeps following the shipped one)
        _store(_written_path(document, lang), text)
        changed.append(lang)
    if changed:
        # On the administrator's account page, with the others' acts on accounts.
        record("legal_text.changed", actor, actor=actor, document=document, languages=changed)
    return changed


def _store(path: Path, text: str) -> None:
    if not text:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.replace(temporary, path)
