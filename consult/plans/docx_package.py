"""The .docx package of an upload, opened safely before anything is parsed:
entry count, declared sizes and compression ratios checked with
:mod:`zipfile` (no decompression bomb), macros and old or encrypted formats
refused, and every XML part parsed with a hardened lxml parser (no entities,
no network, no DTD, no huge trees); and the WordprocessingML names its parts
are read with. Used by :mod:`consult.plans.docx_reader`."""

import io
import posixpath
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _
from lxml import etree

from ..errors import InvalidInput

MAX_ENTRIES = 2_000
MAX_ENTRY_SIZE = 50 * 1024 * 1024
MAX_TOTAL_SIZE = 100 * 1024 * 1024
MAX_RATIO = 200
# Below this size an entry cannot be a bomb; very repetitive small parts
# (empty tables, blank styles) legitimately compress more than MAX_RATIO.
RATIO_MIN_SIZE = 1024 * 1024

DOCUMENT_PART = "word/document.xml"
CONTENT_TYPES_PART = "[Content_Types].xml"
DOCUMENT_RELS_PART = "word/_rels/document.xml.rels"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
W_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # ISO "strict" documents
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _reject(message: str) -> InvalidInput:
    return InvalidInput(message)


def not_a_docx() -> InvalidInput:
    return _reject(_("This file is not a Word document (.docx)."))


def too_large() -> InvalidInput:
    return _reject(_("This Word document is too large or damaged to be read."))


def unreadable() -> InvalidInput:
    return _reject(
        _(
            "This Word document could not be read. It may be damaged: open it in your "
            "word processor and save it again as .docx."
        )
    )


def _macros() -> InvalidInput:
    return _reject(
        _("Documents with macros (.docm) are not accepted. Save it as a .docx without macros.")
    )


def _old_format() -> InvalidInput:
    return _reject(
        _(
            "This is an old Word document (.doc) or a password-protected one. Save it as a "
            ".docx without a password and try again."
        )
    )


def open_package(data: bytes) -> zipfile.ZipFile:
    """The zip archive, after the checks that need no decompression."""
    if not data or data.startswith(b"%PDF"):
        raise not_a_docx()
    if data.startswith(OLE_MAGIC):
        raise _old_format()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.LargeZipFile as error:
        raise too_large() from error
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise not_a_docx() from error
    entries = archive.infolist()
    _check_sizes(entries)
    names = {entry.filename for entry in entries}
    if DOCUMENT_PART not in names:
        raise not_a_docx()
    if any("vbaproject" in name.lower() for name in names):
        raise _macros()
    return archive


def _check_sizes(entries: list[zipfile.ZipInfo]) -> None:
    """No more entries than MAX_ENTRIES, none too large or too compressed, and
    not too much in all (from the declared sizes: nothing is decompressed)."""
    if len(entries) > MAX_ENTRIES:
        raise too_large()
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > MAX_ENTRY_SIZE or total > MAX_TOTAL_SIZE or _is_bomb(entry):
            raise too_large()


def _is_bomb(entry: zipfile.ZipInfo) -> bool:
    return entry.file_size >= RATIO_MIN_SIZE and (
        entry.compress_size <= 0 or entry.file_size / entry.compress_size > MAX_RATIO
    )


def read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """An entry's bytes (None when absent), never more than its declared size."""
    try:
        entry = archive.getinfo(name)
    except KeyError:
        return None
    with archive.open(entry) as stream:
        data = stream.read(MAX_ENTRY_SIZE + 1)
    if len(data) > min(entry.file_size, MAX_ENTRY_SIZE):
        raise too_large()
    return data


def parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )
    root = etree.fromstring(data, parser)  # the hardened parser above
    docinfo = root.getroottree().docinfo
    # Word never writes a DOCTYPE; one is only there to declare entities.
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise unreadable()
    return root


def check_content_types(archive: zipfile.ZipFile) -> None:
    data = read_part(archive, CONTENT_TYPES_PART)
    if data is None:
        return
    root = parse_xml(data)
    for element in root.iter():
        for value in element.attrib.values():
            lowered = value.lower()
            if "macroenabled" in lowered or "vbaproject" in lowered:
                raise _macros()


def related_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """The parts the main document points at, by relationship type."""
    parts = {
        "styles": "word/styles.xml",
        "numbering": "word/numbering.xml",
        "footnotes": "word/footnotes.xml",
        "endnotes": "word/endnotes.xml",
    }
    data = read_part(archive, DOCUMENT_RELS_PART)
    if data is None:
        return parts
    for relationship in parse_xml(data).iter(f"{{{RELS_NS}}}Relationship"):
        kind = relationship.get("Type", "").rsplit("/", 1)[-1]
        target = relationship.get("Target", "")
        if kind in parts and target and relationship.get("TargetMode") != "External":
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join("word", target))
            parts[kind] = path
    return parts


# --- WordprocessingML names ---------------------------------------------------------


def to_int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass
class WordXml:
    """Element and attribute names in the document's namespace (one of
    ``W_NAMESPACES``): what the readers of styles, numbering and body share."""

    ns: str

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def val(self, element: etree._Element | None, name: str = "val") -> str | None:
        return None if element is None else element.get(self.q(name))
