"""Members' Markdown rendered to safe HTML: formatting kept, every script vector gone,
bounded time on pathological nesting."""

import re
import time
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from consult.richtext import clean_source, render_markdown

# Script vectors seen in the advisories of comparable platforms (RELIABILITY (a) 1 to 4).
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body { display: none }</style>",
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<details open ontoggle=alert(1)>x</details>",
    '<object data="javascript:alert(1)"></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '"><svg onload=alert(1)>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](https://ok.example/" onmouseover="alert(1))',
    "[x]: javascript:alert(1)\n\nSee [x].",
    "![x](javascript:alert(1))",
    "![x](https://evil.example/track.png)",
    "<javascript:alert(1)>",
    "<JaVaScRiPt:alert(1)>",
    "<data:text/html;base64,PHNjcmlwdD4=>",
    "<vbscript:msgbox(1)>",
    "[x](\x01javascript:alert(1))",
]

DANGEROUS_TAGS = {"script", "iframe", "svg", "img", "style", "object", "embed", "math", "form"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe_html(html: str, allowed_tags=()) -> None:
    """No script element, no event handler, no style, no dangerous link, as a
    browser would parse it (entities decoded, case and blanks ignored).
    ``allowed_tags``: those a whole page has of its own (its forms)."""
    assert "<script" not in html.lower()
    collector = _Collector()
    collector.feed(html)
    collector.close()
    for tag, attrs in collector.tags:
        assert tag not in DANGEROUS_TAGS - set(allowed_tags), (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, html)
            assert name not in ("style", "srcdoc", "formaction"), (tag, name, html)
            if name in ("href", "src", "action", "data", "xlink:href"):
                squashed = re.sub(r"[\x00-\x20]", "", value or "").lower()
                assert not squashed.startswith(DANGEROUS_SCHEMES), (tag, name, value, html)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_script_vectors_do_not_survive_rendering(payload):
    assert_safe_html(str(render_markdown(payload)))


def test_the_checker_itself_catches_what_it_should():
    for unsafe in (
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        "<p onclick=alert(1)>x</p>",
        "<img src=x>",
    ):
        with pytest.raises(AssertionError):
            assert_safe_html(unsafe)


def test_markdown_formatting_is_kept():
    html = str(
        render_markdown(
            "**bold** *italics* ~~struck~~ `code`\n\n> quoted\n\n- one\n- two\n\n"
            "1. first\n2. second\n\n```\nblock\n```"
        )
    )
    for fragment in (
        "<strong>bold</strong>",
        "<em>italics</em>",
        "<del>struck</del>",
        "<code>code</code>",
        "<blockquote>",
        "<ul>",
        "<ol>",
        "<li>one</li>",
        "<pre><code>block",
    ):
        assert fragment in html, html


def test_line_breaks_in_a_paragraph_are_kept():
    assert "<br>" in str(render_markdown("first line\nsecond line"))


def test_headings_start_below_the_page_headings():
    html = str(render_markdown("# Big\n\n## Smaller\n\n###### Smallest"))
    assert "<h1" not in html and "<h2" not in html
    assert "<h3>Big</h3>" in html and "<h4>Smaller</h4>" in html and "<h6>Smallest</h6>" in html


def test_links_are_kept_for_web_and_mail_addresses_with_a_safe_rel():
    html = str(
        render_markdown(
            "[site](https://example.org/a?b=1) [plain](http://example.org) "
            "[mail](mailto:ana@example.org) <https://auto.example.org>"
        )
    )
    assert html.count('rel="nofollow noopener noreferrer"') == 4
    for href in (
        "https://example.org/a?b=1",
        "http://example.org",
        "mailto:ana@example.org",
        "https://auto.example.org",
    ):
        assert f'href="{href}"' in html


def test_links_within_the_site_are_kept_and_protocol_relative_ones_dropped():
    html = str(render_markdown("[item](/forums/x/plans/1/#ref-4.7) [far](//evil.example/)"))
    assert 'href="/forums/x/plans/1/#ref-4.7"' in html
    assert "evil.example" not in html


def test_images_are_not_rendered():
    html = str(render_markdown("![a chart](https://example.org/chart.png)"))
    assert "<img" not in html


def test_raw_html_is_shown_as_text():
    html = str(render_markdown("<b>not bold</b>"))
    assert "<b>" not in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html


def test_the_result_is_markup_and_empty_text_renders_nothing():
    assert isinstance(render_markdown("x"), Markup)
    assert render_markdown("") == Markup("")
    assert render_markdown(None) == Markup("")
    assert render_markdown(" \n\t") == Markup("")


def test_text_is_normalised_to_nfc():
    decomposed = "acc\u0327a\u0303o"  # "acção" with combining marks
    assert clean_source(decomposed) == "acção"
    assert "acção" in str(render_markdown(decomposed))


def test_control_characters_are_removed_except_newlines_and_tabs():
    assert clean_source("a\x00b\x07c\u202ed\r\ne\tf\rg") == "abcd\ne\tf\ng"
    html = str(render_markdown("a\x00b\u202ec"))
    assert "\x00" not in html and "\u202e" not in html and "abc" in html


@pytest.mark.parametrize(
    "source",
    [
        "<b>" * 10_000,
        "<ul>" * 10_000,
        ">" * 10_000 + " deep",
        "> " * 10_000 + "deep",
        "- " * 10_000 + "deep",
        "1. " * 10_000 + "deep",
        "*" * 10_000 + "x" + "*" * 10_000,
        "[" * 10_000 + "x" + "](y)" * 10_000,
        "\n".join(">" * depth + " x" for depth in range(1, 200)),
    ],
    ids=[
        "b",
        "ul-tags",
        "quotes",
        "spaced-quotes",
        "bullets",
        "numbers",
        "emphasis",
        "links",
        "quote-stairs",
    ],
)
def test_pathological_nesting_renders_in_bounded_time(source):
    # This thread's CPU time, not wall time (a busy machine makes the renderer
    # wait, not work more) nor the process's (other tests leave threads running
    # in it). Each case takes well under 0.1 s; a parser that went quadratic on
    # it would take tens of seconds.
    started = time.thread_time()
    html = str(render_markdown(source))
    assert time.thread_time() - started < 1.0
    assert_safe_html(html)


def test_very_long_text_is_shown_as_plain_text():
    html = str(render_markdown("<b>**x**</b>" * 20_000))
    assert "<strong>" not in html and "&lt;b&gt;" in html
