"""PO files for offline translators: the current version exported one unit
per node (keyed by the node's stable key), and translations imported back from
such a file, every unit not imported reported with the reason."""

import io

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.services import clean_text
from ..audit.services import record
from ..errors import InvalidInput
from ..forums.permissions import require
from ..i18n import LANGUAGE_NAMES
from ..plans import services as plans
from ..plans.models import Plan, PlanVersion
from ..uploads import ImportReport, RowResult
from . import permissions, services

# A unit whose translation is already the one in the file: nothing to do.
UNCHANGED = "unchanged"


def export_po(plan: Plan, version: PlanVersion, language: str) -> bytes:
    """A PO file of the version for ``language``: one unit per node, keyed by the
    node's stable key (msgctxt), the source as msgid, the translation as msgstr.
    Outdated translations come marked fuzzy, with the source they translated."""
    require(permissions.language_refusal(plan, language))
    catalog = Catalog(
        locale=language,
        project=plan.title[:100],
        version=str(version.number),
        fuzzy=False,
    )
    found = services.translations_of(plan, language)
    for node in plans.version_nodes(version):
        translation = found.get(node.key)
        outdated = translation is not None and translation.source_text != node.text
        catalog.add(
            node.text,
            translation.text if translation else "",
            auto_comments=[f"{node.ref} ({node.kind})"],
            flags=["fuzzy"] if outdated else [],
            previous_id=[translation.source_text] if outdated else (),
            context=node.key,  # two nodes may share a text: the key tells them apart
        )
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=True)
    return buffer.getvalue()


IMPORT_PROBLEMS = {
    "unknown_key": _l("No item has this key in the current version."),
    "source_changed": _l(
        "The source text in the file is not the current one: translate the new text."
    ),
    "fuzzy": _l("Marked as needing review (fuzzy) in the file: not imported."),
    "kept": _l("A different translation exists: kept (choose to replace existing ones)."),
    "too_long": _l("The translation is too long."),
}


def import_po(actor, plan: Plan, language: str, data: bytes, *, replace: bool) -> ImportReport:
    """Translations from a PO file made by :func:`export_po`. Nothing is applied
    silently: every unit that is not imported is reported with the reason, and
    existing translations are replaced only when ``replace`` is set."""
    require(permissions.translate_refusal(actor, plan, language))
    version = plans.get_version(plan)
    catalog = _read_catalog(data, language)
    nodes = {node.key: node for node in plans.version_nodes(version)}
    existing = services.translations_of(plan, language)
    report = ImportReport()
    for line, message in enumerate((m for m in catalog if m.id), start=1):
        key = message.context or ""
        text = clean_text(message.string if isinstance(message.string, str) else "")
        if not text:
            continue  # not translated yet: nothing to do, nothing to report
        node = nodes.get(key)
        problem = _problem(message, node, text, existing.get(key), replace)
        if problem == UNCHANGED:
            continue
        subject = node.ref if node is not None else key or "?"
        line_number = message.lineno or line
        if problem is not None:
            report.rows.append(
                RowResult(line_number, subject, False, str(IMPORT_PROBLEMS[problem]))
            )
            continue
        services.store_translation(plan, language, node, text, actor, existing.get(key))
        report.rows.append(RowResult(line_number, subject, True, _("Imported.")))
    if report.imported:
        _record_import(actor, plan, language, report)
    return report


def _read_catalog(data: bytes, language: str) -> Catalog:
    """The file's catalog, if it is a PO file and translates into ``language``."""
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError, TypeError, IndexError) as error:
        raise InvalidInput(_("This is not a PO file that Consult can read.")) from error
    file_language = str(catalog.locale) if catalog.locale else None
    if file_language and file_language.split("_")[0] != language:
        raise InvalidInput(
            _(
                "This file is a translation into %(file)s, not %(language)s.",
                file=LANGUAGE_NAMES.get(file_language.split("_")[0], file_language),
                language=LANGUAGE_NAMES[language],
            )
        )
    return catalog


def _problem(message, node, text: str, current, replace: bool) -> str | None:
    """Why a translated unit is not imported (a key of ``IMPORT_PROBLEMS``, or
    ``UNCHANGED``), or None to import it."""
    if node is None:
        return "unknown_key"
    if message.id != node.text:
        return "source_changed"
    if message.fuzzy:
        return "fuzzy"
    if len(text) > services.MAX_TEXT:
        return "too_long"
    if current is None or current.source_text != node.text:
        return None
    if current.text == text:
        return UNCHANGED
    return None if replace else "kept"


def _record_import(actor, plan: Plan, language: str, report: ImportReport) -> None:
    record(
        "plan.translations_imported",
        plan,
        actor=actor,
        forum=plan.forum,
        language=language,
        imported=report.imported,
        rejected=report.rejected,
    )
