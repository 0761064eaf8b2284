"""The PDF download, laid out by WeasyPrint from the print HTML."""

import logging

from flask_babel import get_locale
from markupsafe import escape

from ...config import DEFAULT_LOCALE
from .html import _anchor, _body_html, _node_html
from .model import Export


def _css_string(text: str) -> str:
    """A CSS string literal; anything but letters, digits and spaces is escaped."""
    # The space after an escape ends it (and is not part of the string).
    escaped = (ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
    return '"' + "".join(escaped) + '"'


def _print_html(export: Export) -> str:
    """The document WeasyPrint lays out: the HTML export's title, body and
    footnotes, without what only a screen needs. The page margins carry the
    plan, version and date (so page 1 has one header, like every page), and
    the references are not links to themselves."""
    locale = str(get_locale() or DEFAULT_LOCALE).replace("_", "-")
    label_lang = f' lang="{escape(locale)}"' if locale != export.language else ""
    used: set[str] = set()
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(locale)}">',
        '<head><meta charset="utf-8" />',
        f"<title>{escape(export.title)} · {escape(export.version_label)}</title>",
        "</head>",
        "<body>",
        f'<article lang="{escape(export.language)}">',
        f"<h1>{escape(export.title)}</h1>",
    ]
    out += _body_html(export, used, "", link=False)
    if export.footnotes:
        out.append('<section class="footnotes">')
        out.append(f"<h2{label_lang}>{escape(export.footnotes_label)}</h2>")
        for block in export.footnotes:
            out.append(_node_html(block, "p", _anchor(block.anchor_ref, used), "", link=False))
        out.append("</section>")
    out += ["</article>", "</body>", "</html>", ""]
    return "\n".join(out)


# One font family (the first of these the system has), in two faces: regular,
# and bold for the headings. Every face used is subset into the PDF, the
# largest single cost of a short PDF, so the line numbers, references and page
# margins use the regular face, smaller and grey, rather than a third face.
_PRINT_CSS = """
@page {
  size: A4;
  margin: 20mm 14mm 20mm 24mm;
  @top-left { content: @@header@@; font-size: 8pt; color: #555; }
  @bottom-left { content: @@date@@; font-size: 8pt; color: #555; }
  @bottom-right { content: @@pages@@; font-size: 8pt; color: #555; }
}
html { font: 9.5pt/1.45 "Liberation Serif", "Times New Roman", Times, "DejaVu Serif", serif;
  color: #1a1a1a; }
body { margin: 0; }
article { position: relative; }
h1, h2, h3, h4, h5, h6 { font-weight: bold; line-height: 1.25; break-after: avoid; }
/* Sizes chosen so that most numbered lines stay one printed line (a longer one
   wraps, and its number stays beside its first printed line). */
h1 { font-size: 15pt; margin: 0 0 1.25rem; }
h2 { font-size: 12pt; margin: 1.75rem 0 .75rem; }
h3 { font-size: 11pt; margin: 1.5rem 0 .5rem; }
h4, h5, h6 { font-size: 10pt; margin: 1.25rem 0 .5rem; }
p { margin: 0 0 .6rem; }
.line { display: block; }
.ln { position: absolute; left: -13mm; width: 10mm; text-align: right; color: #595959;
  font-size: 7.5pt; font-weight: normal; }
.ref { color: #595959; font-size: 7.5pt; font-weight: normal; margin-right: .4em; }
.list { list-style: none; margin: 0 0 .6rem; padding: 0 0 0 1.25rem; }
li > p { margin-bottom: .35rem; }
.marker { margin-right: .35em; }
.closing { margin-top: 1.5rem; }
.footnotes { margin-top: 2rem; border-top: 1px solid #bbb; font-size: .9rem; }
.footnotes h2 { font-size: 1.1rem; }
"""


def _print_css(export: Export) -> str:
    """The print rules with this export's header, date and "Page X of Y" (in
    the interface language) in the page margins."""
    counters = {"page": "counter(page)", "pages": "counter(pages)"}
    page_content = " ".join(
        counters[kind] if kind in counters else _css_string(text)
        for kind, text in export.page_label()
    )
    header = _css_string(f"{export.title} · {export.version_label}")
    return (
        _PRINT_CSS.replace("@@header@@", header)
        .replace("@@date@@", _css_string(export.date) if export.date else '""')
        .replace("@@pages@@", page_content)
    )


def pdf_layout(plan, version, nodes):
    """The PDF's pages as WeasyPrint lays them out (a ``weasyprint.Document``,
    whose pages' boxes say what is printed where), before they are written."""
    return _pdf_layout(Export.build(plan, version, nodes))


def _pdf_layout(export: Export):
    from weasyprint import CSS, HTML  # slow to import: only when a PDF is asked for

    # WeasyPrint and fontTools report every step at INFO, the app's log level.
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

    html = HTML(string=_print_html(export), url_fetcher=fetcher)
    return html.render(stylesheets=[CSS(string=_print_css(export), url_fetcher=fetcher)])


def pdf_bytes(export: Export) -> bytes:
    return _pdf_layout(export).write_pdf()
