"""The plan page's text: rendered once per version and language, then reused.

``render_plan_text`` is the one place that turns a version into the HTML of its
text (outline and numbered lines); change the layout there and in
``templates/plans/_text.html``. Its result is kept in ``consult.pagecache``
under a key made of everything that changes it:

* the version (id *and* creation time: an id reused after a deletion is not
  the same version), its language, the plan's language, the forum's slug and
  the URL root (links to items are part of the text);
* the reading language and, when it is not the version's own, a stamp of the
  plan's translations into it (how many, and when the last one changed), so a
  new or updated translation shows at once;
* the interface language (labels, titles);
* the revision of the template and of the modules that render it.

What differs per reader or changes while the version does not — the counts of
amendments and comments of each item, the edit links that facilitators see —
is never part of it: the text keeps a *slot* for each, and ``fill_bytes`` puts
the reader's overlay into the slots (a loop over short strings, no template;
the result is kept in the process's memory for as long as the counts and the
links do not change). The header of the page (status, phase, what this reader
may do) is rendered per request by ``templates/plans/show.html`` and ``page``
splices the text into it as bytes, with an ETag made from what the text is
made of rather than from its megabyte.
"""

import json
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import current_app, has_request_context, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from .. import http, pagecache, whole_pages
from ..config import LOCALES
from ..plans import layout, services
from ..plans.models import Plan, PlanVersion
from . import services as translations

# Left in the rendered text where a per-request overlay goes. Text from the
# database can never produce it: templates escape "<".
SLOT = "<!--consult:slot-->"
SLOTS_PER_NODE = 2  # the activity counts, then the edit link
TEMPLATE = "plans/_text.html"


@dataclass
class PlanText:
    """A version's rendered text: ``parts`` with the slots between them (two
    per node), and each node's ``(key, escaped ref)`` in document order."""

    parts: list[str]
    nodes: list[tuple[str, str]]
    key: str = ""  # the cache key it was kept under
    _encoded: list[bytes] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)

    @property
    def encoded(self) -> list[bytes]:
        """``parts`` in UTF-8, encoded once per process (the object is kept)."""
        if self._encoded is None:
            self._encoded = [part.encode() for part in self.parts]
        return self._encoded


def _dump(text: PlanText) -> str:
    return json.dumps({"parts": text.parts, "nodes": text.nodes}, ensure_ascii=False)


def _load(content: str) -> PlanText:
    data = json.loads(content)
    text = PlanText(list(data["parts"]), [tuple(node) for node in data["nodes"]])
    if len(text.parts) != SLOTS_PER_NODE * len(text.nodes) + 1:
        raise ValueError("a plan text with the wrong number of slots")
    return text


CODEC = pagecache.Codec(dump=_dump, load=_load, size=len)


def _revision() -> str:
    return pagecache.source_revision(
        pagecache.template_path(TEMPLATE), layout.__file__, __file__, pagecache.__file__
    )


def text_key(
    plan: Plan, version: PlanVersion, reading: str, stamps: dict[str, list]
) -> tuple[str, str]:
    """``(key, scope)`` of the rendered text of ``version`` read in ``reading``
    by a reader whose interface is in the current locale; ``stamps`` are the
    plan's translations' (``plan_translations.services.stamps``)."""
    locale = str(get_locale())
    stamp = stamps.get(reading, [0, None]) if reading != version.language else None
    key = pagecache.make_key(
        "plan-text",
        _revision(),
        version.id,
        version.created_at,
        version.language,
        plan.id,
        plan.language,
        plan.forum.slug,
        request.script_root if has_request_context() else "",
        reading,
        locale,
        stamp,
        layout.line_length(plan.forum),
    )
    return key, f"plan-text:{version.id}:{reading}:{locale}"


def render_plan_text(
    plan: Plan, version: PlanVersion, reading: str, stamps: dict[str, list] | None = None
) -> PlanText:
    """The text of ``version`` read in ``reading``, built once and kept."""
    stamps = translations.stamps(plan) if stamps is None else stamps
    key, scope = text_key(plan, version, reading, stamps)
    text = pagecache.fetch(key, scope, lambda: _build(plan, version, reading), CODEC)
    text.key = key
    return text


def _build(plan: Plan, version: PlanVersion, reading: str) -> PlanText:
    nodes = services.version_nodes(version)
    width = layout.line_length(plan.forum)
    numbered = layout.number_lines(nodes, width)
    html = render_template(
        TEMPLATE,
        plan=plan,
        forum=plan.forum,
        version=version,
        reading=reading,
        translated=translations.reading_texts(plan, version, nodes, reading),
        outline=services.outline(nodes),
        numbered=numbered,
        cited_ref=layout.cited_ref,
        line_length=width,
        interface=str(get_locale()),
        slot=Markup(SLOT),  # noqa: S704 (a constant)
    )
    parts = html.split(SLOT)
    # What screen readers hear after "Edit": the reference, or the line of a
    # paragraph nobody cites by reference (its key is never printed).
    refs = [
        (
            entry.node.key,
            str(
                escape(
                    layout.cited_ref(entry.node) or _("line %(number)d", number=entry.first_line)
                )
            ),
        )
        for entry in numbered
    ]
    if len(parts) != SLOTS_PER_NODE * len(refs) + 1:
        raise RuntimeError(f"{TEMPLATE} must leave {SLOTS_PER_NODE} slots per node")
    return PlanText(parts, refs)


def _overlays(
    text: PlanText, activity: dict[str, dict[str, int]], edit_url: str | None
) -> list[str]:
    """Per node, what goes into its two slots: the counts of amendments and
    comments (``activity``: key → {"amendments": n, "comments": n}) and, when
    ``edit_url`` is given (a URL with ``{key}`` for the node's key), the link
    to edit it."""
    amendments: dict[int, str] = {}
    comments: dict[int, str] = {}
    edit_label = str(escape(_("Edit")))
    overlays = []
    for key, ref in text.nodes:
        figures = activity.get(key)
        a = figures.get("amendments", 0) if figures else 0
        c = figures.get("comments", 0) if figures else 0
        if a not in amendments:
            amendments[a] = str(escape(ngettext("%(num)s amendment", "%(num)s amendments", a)))
        if c not in comments:
            comments[c] = str(escape(ngettext("%(num)s comment", "%(num)s comments", c)))
        overlays.append(f"{amendments[a]} · {comments[c]}")
        if edit_url is None:
            overlays.append("")
        else:
            href = escape(edit_url.replace("{key}", quote(key, safe="")))
            overlays.append(
                f' · <a class="node-edit" href="{href}">{edit_label}'
                f'<span class="visually-hidden"> {ref}</span></a>'
            )
    return overlays


def fill_bytes(
    text: PlanText, activity: dict[str, dict[str, int]], edit_url: str | None = None
) -> bytes:
    """The text with this reader's overlay (see ``_overlays``), in UTF-8 from
    the parts encoded once: the plan page sends these bytes as they are,
    without encoding the whole text again."""
    encoded = text.encoded
    seen: dict[str, bytes] = {}
    out = [encoded[0]]
    for overlay, part in zip(_overlays(text, activity, edit_url), encoded[1:], strict=True):
        data = seen.get(overlay)
        if data is None:
            data = seen[overlay] = overlay.encode()
        out += (data, part)
    return b"".join(out)


# Where the page's template puts the text (``page``): never produced by data,
# which templates escape.
TEXT_MARK = "<!--consult:plan-text-->"


def page(html: str, text: PlanText, activity, edit_url: str | None, state: str):
    """The plan page: ``html`` (the page rendered with ``TEXT_MARK`` where the
    text goes) with the text and this reader's overlay spliced in as bytes.

    Its ETag is a digest of the page around the text and of what the text is
    made of (its cache key, ``state``: the key of the counts, and whether the
    edit links are shown), so the 1 MB text is neither encoded nor hashed on
    each request."""
    head, _mark, tail = html.partition(TEXT_MARK)
    head_bytes, tail_bytes = head.encode(), tail.encode()
    etag = http.digest(head_bytes, tail_bytes, f"{text.key}|{state}|{edit_url}".encode())
    response = current_app.response_class(mimetype="text/html")
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = http.REVALIDATE
    if http.client_has(etag):
        response.status_code = 304
        return response
    # The filled text is the same for every reader with the same counts and
    # edit links: kept in this process's memory while they last.
    filled = pagecache.in_memory(
        pagecache.make_key("plan-text-filled", text.key, state, edit_url),
        lambda: fill_bytes(text, activity, edit_url),
    )
    # Sent as three parts: the filled text is not copied for each reader
    # (``whole_pages`` keeps this list as it is).
    response.response = [head_bytes, whole_pages.share(filled), tail_bytes]
    return response


def reading_language(version: PlanVersion) -> str:
    """The language to read ``version`` in: ``?lang=`` if given (``source``
    for the original), else the interface language. The plan page and the
    item page choose alike, and the plan page's links to items carry it."""
    asked = request.args.get("lang", "")
    if asked == "source":
        return version.language
    if asked in LOCALES:
        return asked
    return str(get_locale())


def edit_url(plan: Plan) -> str:
    """The edit link of a node, with ``{key}`` for its key."""
    url = url_for("plans.edit_node", slug=plan.forum.slug, plan_id=plan.id, key="KEY")
    head, _sep, tail = url.rpartition("/KEY/")
    return f"{head}/{{key}}/{tail}"
