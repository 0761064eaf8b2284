"""Checks of the translation catalogs, shared by `make i18n` and the tests.

English is the source language: its catalog is filled from the msgids. The es
and pt catalogs must be complete, without fuzzy entries, and actually
translated (an msgstr equal to its English msgid is suspicious unless allowed).
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from .config import LOCALES
from .paths import project_dir

# Strings that are the same in every language.
SAME_IN_ALL_LANGUAGES = {
    "Consult",
    "Email",
    "Español",
    "English",
    "Português",
    "CSV",
    "%(num)s",
    "Total",
    "Status",
    "Error %(status)s",
}
# Strings that one language writes as English does.
SAME_AS_ENGLISH_IN = {
    "es": {"No", "no", "original", "Asia", "Australia"},
    "pt": {"original", "Menu"},
}


def catalog_path(locale: str) -> Path:
    return project_dir("translations") / locale / "LC_MESSAGES" / "messages.po"


def _load(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def problems(locale: str) -> list[str]:
    """What is wrong with one catalog, as readable lines (empty when all is well)."""
    catalog = _load(catalog_path(locale))
    template = _load(project_dir("translations") / "messages.pot")
    found = []
    wanted = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in template
        if message.id
    }
    present = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id
    }
    for missing in sorted(wanted - present):
        found.append(f"{locale}: not in catalog (run make i18n): {missing!r}")
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            found.append(f"{locale}: fuzzy: {key!r}")
        if not all(strings):
            found.append(f"{locale}: untranslated: {key!r}")
        elif (
            locale != "en"
            and strings[0] == key
            and key not in SAME_IN_ALL_LANGUAGES
            and key not in SAME_AS_ENGLISH_IN.get(locale, set())
        ):
            found.append(f"{locale}: same as the English source: {key!r}")
    return found


def fill_english() -> int:
    """Copy each English msgid to its msgstr (English is the source language)."""
    path = catalog_path("en")
    catalog = _load(path)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    return filled


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "fill-english":
        print(f"en: {fill_english()} messages filled from the sources")
        return 0
    issues = [line for locale in LOCALES for line in problems(locale)]
    for line in issues:
        print(line)
    print(f"{len(issues)} problem(s) in the catalogs")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
