"""The minutes as files: a PDF (WeasyPrint) and a DOCX (python-docx) of the
text :func:`.minutes_text.present` gives.

Minutes are short (a session of fifteen points is about eleven pages, laid out
in a second or two), so a file is rendered in the request, not by a job like a
plan's; a draft each time it is asked for (only the chair and the facilitators
read it), signed minutes once per format and language, then kept.
"""

import base64
import io
import logging
from collections.abc import Callable
from pathlib import Path

from flask import current_app, render_template

from .. import pagecache
from ..plans.documents import slug
from . import minutes_text
from .minutes_text import clean as _clean

FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def filename(minutes: dict, fmt: str, lang: str) -> str:
    """A download name safe for Content-Disposition: ``title-12-es.pdf``."""
    session = minutes["session"]
    return f"minutes-{slug(session['title'])}-{session['id']}-{lang}.{fmt}"


# Signed minutes never change: each (format, language) is rendered once and
# kept with the page cache (base64 in its text column), under a key that also
# names the code, templates and compiled translations that render it.
BYTES = pagecache.Codec(
    dump=lambda content: base64.b64encode(content).decode("ascii"),
    load=base64.b64decode,
    size=len,
)
_TEMPLATES = ("assembly/minutes_print.html", "assembly/minutes_body.html")


def _revision(lang: str) -> str:
    paths = [pagecache.template_path(name) for name in _TEMPLATES]
    paths += [__file__, minutes_text.__file__]
    for folder in current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", "").split(";"):
        compiled = Path(current_app.root_path, folder, lang, "LC_MESSAGES", "messages.mo")
        if compiled.is_file():
            paths.append(compiled)
    return pagecache.source_revision(*paths)


def document(session, fmt: str, lang: str, text: Callable[[], dict]) -> bytes:
    """The file of the minutes in ``fmt`` and ``lang``: a draft's rendered each
    time (it may change), signed minutes' rendered once and then kept."""

    def build() -> bytes:
        return pdf(text()) if fmt == "pdf" else docx(text())

    if not session.minutes_signed:
        return build()
    key = pagecache.make_key(
        "assembly-minutes", session.id, session.minutes_signed_at, fmt, lang, _revision(lang)
    )
    return pagecache.fetch(key, f"assembly-minutes:{session.id}:{fmt}:{lang}", build, BYTES)


def pdf_document(text: dict):
    """The PDF's pages as WeasyPrint lays them out (a ``weasyprint.Document``)."""
    from weasyprint import HTML  # slow to import: only when a PDF is asked for

    for name in ("weasyprint.progress", "fontTools"):
        chatty = logging.getLogger(name)
        if chatty.level == logging.NOTSET:
            chatty.setLevel(logging.WARNING)
    try:
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=())  # the document needs nothing from outside
    except ImportError:  # pragma: no cover - older WeasyPrint

        def fetcher(url):
            raise ValueError(f"no external resources: {url}")

    html = render_template("assembly/minutes_print.html", m=text)
    return HTML(string=html, url_fetcher=fetcher).render()


def pdf(text: dict) -> bytes:
    """The PDF of the minutes, rendered in the request: minutes are short."""
    return pdf_document(text).write_pdf()


def docx(text: dict) -> bytes:
    from docx import Document

    document = Document()
    document.core_properties.title = _clean(text["title"])
    document.core_properties.language = text["lang"]
    document.add_heading(_clean(text["title"]), level=0)
    document.add_paragraph(_clean(text["subtitle"]))
    if text["draft"]:
        document.add_paragraph(_clean(text["signature"])).runs[0].bold = True
    _docx_facts(document, text["facts"])
    document.add_heading(_clean(text["attendance_heading"]), level=1)
    _docx_table(document, text["attendance"])
    document.add_heading(_clean(text["points_heading"]), level=1)
    for point in text["points"]:
        _docx_point(document, point)
    document.add_heading(_clean(text["plan_heading"]), level=1)
    for line in text["plan"]:
        document.add_paragraph(_clean(line))
    if not text["draft"]:
        document.add_paragraph(_clean(text["signature"])).runs[0].bold = True
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_facts(document, facts) -> None:
    for name, value in facts:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{_clean(name)}: ").bold = True
        paragraph.add_run(_clean(value))


def _docx_table(document, table: dict) -> None:
    if not table["rows"]:
        return
    grid = document.add_table(rows=1, cols=len(table["columns"]))
    grid.style = "Table Grid"
    for cell, column in zip(grid.rows[0].cells, table["columns"], strict=True):
        cell.text = _clean(column)
        cell.paragraphs[0].runs[0].bold = True
    for row in table["rows"]:
        cells = grid.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _clean(value)


def _docx_point(document, point: dict) -> None:
    document.add_heading(_clean(point["heading"]), level=2)
    document.add_paragraph(_clean(point["about"]))
    if point["description"]:
        document.add_paragraph(_clean(point["description"]))
    document.add_heading(_clean(point["speakers_heading"]), level=3)
    if point["speakers"]["rows"]:
        _docx_table(document, point["speakers"])
    else:
        document.add_paragraph(_clean(point["no_speakers"]))
    vote = point["vote"]
    if vote:
        document.add_heading(_clean(vote["heading"]), level=3)
        _docx_facts(document, vote["facts"])
        if vote.get("table"):
            _docx_table(document, vote["table"])
        for sentence in vote["outcome"]:
            document.add_paragraph(_clean(sentence))
        if vote.get("checksum"):
            _docx_facts(document, [(vote["checksum_label"], vote["checksum"])])
