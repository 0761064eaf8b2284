"""Downloadable documents of a plan version: HTML, PDF, DOCX and ODT.

Every format shows the same thing: the plan title, "Version N" and the date,
every node preceded by the reference people cite (``2.A.1``), sections as
headings by depth, items and bullets indented under their parents, and the
footnotes in a final section. The HTML and the PDF also carry the line numbers
of :mod:`.layout`, so that "line 112" is the same line on screen and on paper.

Labels come from the interface language of the person downloading (Babel's
current locale); the plan's own text keeps the plan's language. All the work is
linear in the number of nodes.
"""

import re
import unicodedata

from ..layout import display_text
from .html import html_bytes
from .model import Export
from .office import docx_bytes, odt_bytes
from .pdf import pdf_bytes, pdf_layout

FORMATS = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
MAX_SLUG = 60


def render(fmt: str, plan, version, nodes) -> tuple[bytes, str, str]:
    """The version as a document: ``(content, mimetype, filename)``.

    ``nodes`` are the version's nodes in document order
    (:func:`.services.version_nodes`).
    """
    builders = {"html": html_bytes, "pdf": pdf_bytes, "docx": docx_bytes, "odt": odt_bytes}
    if fmt not in builders:
        raise ValueError(f"unknown document format: {fmt!r}")
    export = Export.build(plan, version, nodes)
    return builders[fmt](export), FORMATS[fmt], export_filename(plan, version, fmt)


def slug(title: str) -> str:
    """ASCII, lower case, words joined by hyphens, at most 60 characters."""
    ascii_text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-") or "plan"


def export_filename(plan, version, fmt: str) -> str:
    """A download name safe for Content-Disposition: ``plan-title-v3.pdf``."""
    return f"{slug(plan.title)}-v{int(version.number)}.{fmt}"


def printed_lines(nodes, width: int = 80) -> int:
    """About how many numbered lines the document has (what a PDF's cost
    follows), without wrapping the text: each node's characters over the
    line length, rounded up."""
    return sum(len(display_text(node)) // width + 1 for node in nodes)


__all__ = ["FORMATS", "export_filename", "pdf_layout", "printed_lines", "render", "slug"]
