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
is never part of it: the text keeps a *slot* for each, and ``fill`` puts the
reader's overlay into the slots on every request (a loop over short strings,
no template). The header of the page (status, phase, what this reader may do)
is rendered per request by ``templates/plans/show.html``.
"""

from dataclasses import dataclass
from urllib.parse import quote

from flask import has_request_context, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select

from .. import pagecache
from ..extensions import db
from . import layout
from .models import NodeTranslation, Plan, PlanVersion

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

    def __len__(self) -> int:
        return sum(len(part) for part in self.parts)


def _dump(text: PlanText) -> str:
    import json

    return json.dumps({"parts": text.parts, "nodes": text.nodes}, ensure_ascii=False)


def _load(content: str) -> PlanText:
    import json

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


def translations_stamp(plan: Plan, language: str) -> list:
    """How many translations of the plan into ``language`` there are and when
    the last changed (one query): part of the key of a translated reading."""
    count, latest = db.session.execute(
        select(func.count(), func.max(NodeTranslation.updated_at)).where(
            NodeTranslation.plan_id == plan.id, NodeTranslation.language == language
        )
    ).one()
    return [count, latest]


def text_key(plan: Plan, version: PlanVersion, reading: str) -> tuple[str, str]:
    """``(key, scope)`` of the rendered text of ``version`` read in ``reading``
    by a reader whose interface is in the current locale."""
    locale = str(get_locale())
    stamp = translations_stamp(plan, reading) if reading != version.language else None
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
    )
    return key, f"plan-text:{version.id}:{reading}:{locale}"


def render_plan_text(plan: Plan, version: PlanVersion, reading: str) -> PlanText:
    """The text of ``version`` read in ``reading``, built once and kept."""
    key, scope = text_key(plan, version, reading)
    return pagecache.fetch(key, scope, lambda: _build(plan, version, reading), CODEC)


def _build(plan: Plan, version: PlanVersion, reading: str) -> PlanText:
    from ..plan_translations import services as translations
    from . import services

    nodes = services.version_nodes(version)
    html = render_template(
        TEMPLATE,
        plan=plan,
        forum=plan.forum,
        version=version,
        reading=reading,
        translated=translations.reading_texts(plan, version, nodes, reading),
        outline=services.outline(nodes),
        numbered=layout.number_lines(nodes),
        slot=Markup(SLOT),  # noqa: S704 (a constant)
    )
    parts = html.split(SLOT)
    refs = [(node.key, str(escape(node.ref))) for node in nodes]
    if len(parts) != SLOTS_PER_NODE * len(refs) + 1:
        raise RuntimeError(f"{TEMPLATE} must leave {SLOTS_PER_NODE} slots per node")
    return PlanText(parts, refs)


def fill(
    text: PlanText,
    activity: dict[str, dict[str, int]],
    edit_url: str | None = None,
) -> Markup:
    """The text with this reader's overlay: each node's counts of amendments
    and comments (``activity``: key → {"amendments": n, "comments": n}) and,
    when ``edit_url`` is given (a URL with ``{key}`` for the node's key), the
    link to edit it."""
    amendments: dict[int, str] = {}
    comments: dict[int, str] = {}
    edit_label = str(escape(_("Edit")))
    out = [text.parts[0]]
    parts = text.parts
    for index, (key, ref) in enumerate(text.nodes):
        figures = activity.get(key)
        a = figures.get("amendments", 0) if figures else 0
        c = figures.get("comments", 0) if figures else 0
        if a not in amendments:
            amendments[a] = str(escape(ngettext("%(num)s amendment", "%(num)s amendments", a)))
        if c not in comments:
            comments[c] = str(escape(ngettext("%(num)s comment", "%(num)s comments", c)))
        out.append(f"{amendments[a]} · {comments[c]}")
        out.append(parts[2 * index + 1])
        if edit_url is not None:
            href = escape(edit_url.replace("{key}", quote(key, safe="")))
            out.append(
                f' · <a class="node-edit" href="{href}">{edit_label}'
                f'<span class="visually-hidden"> {ref}</span></a>'
            )
        out.append(parts[2 * index + 2])
    return Markup("".join(out))  # noqa: S704 (parts rendered by the template, overlays escaped)


def edit_url(plan: Plan) -> str:
    """The edit link of a node, with ``{key}`` for its key."""
    url = url_for("plans.edit_node", slug=plan.forum.slug, plan_id=plan.id, key="KEY")
    head, _sep, tail = url.rpartition("/KEY/")
    return f"{head}/{{key}}/{tail}"
