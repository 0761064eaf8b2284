"""Markdown written by members, rendered to HTML that is safe to show.

Two layers, so that a mistake in one is caught by the other:

1. markdown-it-py (CommonMark, raw HTML off, no images, a nesting limit)
   turns the source into HTML; everything the member typed as HTML comes out
   as escaped text.
2. nh3 (ammonia) keeps only an explicit allowlist of tags and attributes,
   only http/https/mailto links (and links within this site) and adds
   ``rel="nofollow noopener noreferrer"`` to every link.

The result is the only way a member's text reaches a page as markup.
"""

import contextlib
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# markdown-it stops nesting blocks and inlines here; deeper markers stay text,
# so 10,000 nested quotes or lists cost linear time, not a recursion error.
MAX_NESTING = 20
# Services accept at most 20,000 characters; anything longer that still reaches
# the renderer (old data, another caller) is shown as plain text, in linear time.
MAX_RENDERED_SOURCE = 100_000

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"

# Comments sit under the page's own headings: "# Title" becomes an h3.
_HEADING_SHIFT = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h6", "h5": "h6", "h6": "h6"}

# Bidirectional embeddings, overrides and isolates: they can make text read
# differently from how it is stored (U+202E "right-to-left override").
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_LINE_ENDINGS = re.compile(r"\r\n?")


def clean_source(text: str | None) -> str:
    """The text normalised as it is stored: NFC, ``\\n`` line endings, without
    control characters (except newline and tab), lone surrogates or bidi overrides."""
    text = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text or ""))
    return "".join(
        ch
        for ch in text
        if ch in "\n\t"
        or (unicodedata.category(ch) not in {"Cc", "Cs"} and ch not in _BIDI_CONTROLS)
    )


def _shift_headings(state) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING_SHIFT.get(token.tag, token.tag)


def _strikethrough_as_del(self, tokens, idx, options, env):
    return "<del>" if tokens[idx].nesting == 1 else "</del>"


def _make_parser() -> MarkdownIt:
    parser = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "breaks": True},
    )
    parser.options["maxNesting"] = MAX_NESTING
    for rule in ("table", "strikethrough"):
        # An older markdown-it-py without this extension renders it as plain text.
        with contextlib.suppress(KeyError, ValueError):
            parser.enable(rule)
    parser.disable("image")
    parser.core.ruler.push("consult_shift_headings", _shift_headings)
    parser.add_render_rule("s_open", _strikethrough_as_del)
    parser.add_render_rule("s_close", _strikethrough_as_del)
    return parser


def _site_relative(url: str) -> str | None:
    """Relative links are kept only when they point within this site ("/…", "#…")."""
    if url.startswith("#"):
        return url
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        return url
    return None


_parser = _make_parser()
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    url_relative=_site_relative,
    link_rel=LINK_REL,
    strip_comments=True,
)


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for a member's Markdown (an empty string for empty text)."""
    source = clean_source(text)
    if not source.strip():
        return Markup("")
    if len(source) > MAX_RENDERED_SOURCE:
        return Markup("<p>%s</p>") % source
    return Markup(_cleaner.clean(_parser.render(source)))  # noqa: S704 (sanitised by nh3)
