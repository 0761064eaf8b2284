"""The HTML download: a complete, well-formed document with the line numbers."""

import re
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import escape

from ...config import DEFAULT_LOCALE
from .model import LIST_KINDS, Block, Export

_SCREEN_CSS = """
:root { color-scheme: light; }
body { margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1a1a1a;
  background: #fff; font: 1rem/1.5 Georgia, "DejaVu Serif", "Times New Roman", serif; }
.doc-header { font: .875rem/1.4 "DejaVu Sans", Arial, sans-serif; color: #444;
  border-bottom: 1px solid #bbb; padding-bottom: .5rem; margin-bottom: 1.5rem; }
.doc-header p { margin: 0; }
main { position: relative; padding-left: 3.75rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1.25rem; }
h2 { font-size: 1.3rem; margin: 1.75rem 0 .75rem; }
h3 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
h4, h5, h6 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
p.node { margin: 0 0 .6rem; }
.line { display: block; }
.ln { position: absolute; left: 0; width: 2.75rem; text-align: right; color: #595959;
  font: .75rem/2 "DejaVu Sans", Arial, sans-serif; font-variant-numeric: tabular-nums; }
.ref { color: #595959; font: 600 .75rem "DejaVu Sans", Arial, sans-serif;
  text-decoration: none; margin-right: .4em; }
a.ref:hover, a.ref:focus { text-decoration: underline; }
.list { list-style: none; margin: 0 0 .6rem; padding: 0 0 0 1.75rem; }
article > .list { padding-left: 0; }
.list li > p.node { margin-bottom: .35rem; }
.marker { margin-right: .35em; }
.closing { margin-top: 1.5rem; font-style: italic; }
.footnotes { margin-top: 2rem; border-top: 1px solid #bbb; font-size: .9rem; }
.footnotes h2 { font-size: 1.1rem; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; white-space: nowrap; }
@media screen { .vh { clip-path: inset(50%); } }
"""


def _anchor(ref: str, used: set[str]) -> str:
    """``ref-2.A.1``: unique in the document and free of spaces."""
    base = "ref-" + (re.sub(r"\s+", "-", ref) or "node")
    anchor, n = base, 2
    while anchor in used:
        anchor, n = f"{base}-{n}", n + 1
    used.add(anchor)
    return anchor


def _node_html(block: Block, tag: str, anchor: str, hidden: str, link: bool = True) -> str:
    """A node: its reference first, then its lines, each with its number.

    ``hidden`` is the "Line" word for screen readers, shown before every number;
    ``link`` makes the reference a link to the node (the PDF has no use for it)."""
    parts = [f'<{tag} class="node {block.kind}" id="{anchor}">']
    ref = ""
    if block.ref:
        ref = (
            f'<a class="ref" href="#{anchor}">{escape(block.ref)}</a>'
            if link
            else f'<span class="ref">{escape(block.ref)}</span>'
        )
    for index, line in enumerate(block.lines):
        parts.append(f'<span class="line"><span class="ln">{hidden}{line.number}</span>')
        if index == 0:
            parts.append(ref)
            if block.kind == "bullet":
                parts.append('<span class="marker" aria-hidden="true">•</span>')
        parts.append(f"{escape(line.text)}</span>")
    parts.append(f"</{tag}>")
    return "".join(parts)


def _body_html(export: Export, used: set[str], hidden: str, link: bool = True) -> list[str]:
    """The body with items and bullets nested in lists under their parents.

    One pass with a stack of open list items (no recursion, so no depth limit).
    The lists keep role="list": some screen readers drop it with list-style: none.
    """
    body = _NestedLists()
    for block in export.body:
        body.close_items_until(block.node.parent_key)
        is_list = block.kind in LIST_KINDS
        body.switch_list(is_list, "ol" if block.kind == "item" else "ul")
        anchor = _anchor(block.anchor_ref, used)
        if is_list:
            body.open_item(block.node.key, _node_html(block, "p", anchor, hidden, link))
        elif block.kind == "section":
            level = min(block.section_level + 1, 6)
            body.out.append(_node_html(block, f"h{level}", anchor, hidden, link))
        else:
            body.out.append(_node_html(block, "p", anchor, hidden, link))
    return body.close()


@dataclass
class _NestedLists:
    """The HTML written so far, with its open lists: a stack of open list
    items, each ``[key of the <li>, tag of its open child list or None]``, and
    the list open directly under a section, if any."""

    out: list[str] = field(default_factory=list)
    frames: list[list] = field(default_factory=list)
    top_list: str | None = None

    def close_items_until(self, parent_key) -> None:
        """Close the open items down to the block's parent."""
        while self.frames and self.frames[-1][0] != parent_key:
            self._close_item()

    def switch_list(self, is_list: bool, tag: str) -> None:
        """Open a list before a list block, close it before any other block."""
        if self.frames:
            frame = self.frames[-1]
            frame[1] = self._switched(frame[1], is_list, tag)
        else:
            self.top_list = self._switched(self.top_list, is_list, tag)

    def open_item(self, key, node_html: str) -> None:
        self.out.append("<li>" + node_html)
        self.frames.append([key, None])

    def close(self) -> list[str]:
        while self.frames:
            self._close_item()
        if self.top_list is not None:
            self.out.append(f"</{self.top_list}>")
        return self.out

    def _switched(self, open_list: str | None, is_list: bool, tag: str) -> str | None:
        if is_list and open_list is None:
            self.out.append(f'<{tag} class="list" role="list">')
            return tag
        if not is_list and open_list is not None:
            self.out.append(f"</{open_list}>")
            return None
        return open_list

    def _close_item(self) -> None:
        _key, child_list = self.frames.pop()
        if child_list:
            self.out.append(f"</{child_list}>")
        self.out.append("</li>")


def _html_document(export: Export) -> str:
    """A complete, standalone HTML5 document (also well-formed XML)."""
    locale = str(get_locale() or DEFAULT_LOCALE).replace("_", "-")
    # The plan's text keeps its own language; the "Line" label inside it does not.
    label_lang = f' lang="{escape(locale)}"' if locale != export.language else ""
    line_word = _("Line")  # outside the f-string, where pybabel finds it
    hidden = f'<span class="vh"{label_lang}>{escape(line_word)} </span>'
    used: set[str] = set()
    date = (
        f'<time class="doc-date" datetime="{escape(export.iso_date)}">{escape(export.date)}</time>'
        if export.iso_date
        else f'<span class="doc-date">{escape(export.date)}</span>'
    )
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(locale)}">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>{escape(export.title)} · {escape(export.version_label)}</title>",
        f"<style>{_SCREEN_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="doc-header"><p>',
        f'<span class="doc-plan" lang="{escape(export.language)}">{escape(export.title)}</span>',
        f' · <span class="doc-version">{escape(export.version_label)}</span> · {date}',
        "</p></header>",
        "<main>",
        f'<article lang="{escape(export.language)}">',
        f"<h1>{escape(export.title)}</h1>",
    ]
    out += _body_html(export, used, hidden)
    if export.footnotes:
        out.append('<section class="footnotes" role="doc-endnotes" aria-labelledby="footnotes">')
        out.append(f'<h2 id="footnotes"{label_lang}>{escape(export.footnotes_label)}</h2>')
        for block in export.footnotes:
            out.append(_node_html(block, "p", _anchor(block.anchor_ref, used), hidden))
        out.append("</section>")
    out += ["</article>", "</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def html_bytes(export: Export) -> bytes:
    return _html_document(export).encode("utf-8")
