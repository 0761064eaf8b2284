"""An item's page and proposals to it, the lists of amendments, the triage."""

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    render_template,
    request,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import pagecache
from ..config import LOCALES
from ..database import read_only
from ..diffing import diff_html
from ..errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..plan_translations import rendering as plan_rendering
from ..plan_translations import services as plan_translations
from ..plans import layout
from ..plans import services as plans
from ..timezones import reader_zone
from ..whole_pages import kept_per_reader
from . import (
    amendment_views,  # noqa: F401 (its routes, on the same blueprint)
    conflicts,
    excerpts,
    facilitation_views,  # noqa: F401 (its routes, on the same blueprint)
    permissions,
    plan_settings,
    proposing,
    queries,
    selection,
    triage_views,  # noqa: F401 (its routes, on the same blueprint)
)
from .blueprint import PLAN, bp, comment_thread, int_arg, plan_node, to_detail
from .forms import AmendmentForm
from .models import STATUSES, AmendmentStatus

__all__ = ["bp"]

# The statuses the list can be filtered by, in the order it offers them.
LISTED_STATUSES = (
    AmendmentStatus.SUBMITTED,
    AmendmentStatus.ADMITTED,
    AmendmentStatus.VOTING,
    AmendmentStatus.ACCEPTED,
    AmendmentStatus.REJECTED,
    AmendmentStatus.WITHDRAWN,
    AmendmentStatus.MERGED,
    AmendmentStatus.DRAFT,
)


# --- the item page ------------------------------------------------------------


@bp.get(PLAN + "/items/<key>/")
def item(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    version, node = plan_node(plan, key)
    ordered = plans.version_nodes(version)
    nodes = {n.key: n for n in ordered}
    # Read in the language the plan page was read in (its links carry ?lang=).
    reading = plan_rendering.reading_language(version)
    translation = plan_translations.reading_texts(plan, version, [node], reading).get(node.key)
    # Its lines, numbered as on the plan page (the nodes up to it are enough).
    index = next(i for i, n in enumerate(ordered) if n.key == node.key)
    lines = layout.number_lines(ordered[: index + 1], layout.line_length(plan.forum))[-1]
    listed = queries.list_amendments(current_user, plan, target_keys=[node.key], per_page=100)
    # Words selected on the plan page or here (selection.js): the comment quotes them.
    quote = selection.from_request(
        [node.text, translation or ""], lines.first_line, lines.last_line
    )
    return render_template(
        "amendments/item.html",
        quote=quote,
        comment_prefill=quote.comment_start,
        forum=plan.forum,
        plan=plan,
        version=version,
        node=node,
        nodes=nodes,
        cited_ref=layout.cited_ref(node),
        reading=reading,
        translation=translation,
        lines=lines,
        amendments=listed,
        conflicts=conflicts.conflicts(plan, node.key),
        cannot_amend=permissions.amend_refusal(current_user, plan, node.key, nodes)
        if current_user.is_authenticated
        else _("Sign in to propose amendments."),
        can_compromise=permissions.compromise_refusal(current_user, plan) is None,
        # What votes.create_poll asks of a ranked vote on competing amendments.
        can_rank_competing=forums.can_manage(current_user, plan.forum)
        and sum(a.status == AmendmentStatus.ADMITTED for a in listed.items) >= 2,
        thread=comment_thread(plan, "node", node.key),
    )


# --- proposing ------------------------------------------------------------------


@bp.route(PLAN + "/items/<key>/amend", methods=["GET", "POST"])
@login_required
def propose(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    version, node = plan_node(plan, key)
    if request.method == "GET":
        proposing.require_may_amend(current_user, plan, version, node.key)
        form = _new_proposal_form(plan, node)
    else:
        form = AmendmentForm()
    status = 200
    if form.validate_on_submit():
        amendment, status = _save_proposal(form, plan, node)
        if amendment is not None:
            return to_detail(amendment)
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/propose.html",
        forum=plan.forum,
        plan=plan,
        node=node,
        form=form,
        # Words selected on the plan or item page (selection.js), highlighted.
        quote=selection.from_request([node.text]),
    ), status


def _new_proposal_form(plan, node) -> AmendmentForm:
    """A new proposal starts from the item's text (empty for what is added)."""
    form = AmendmentForm()
    form.operation.data = request.args.get("operation", "replace")
    form.language.data = plan.language
    form.text.data = "" if form.operation.data in ("insert_after", "new_section") else node.text
    return form


def _save_proposal(form, plan, node):
    """The amendment the form proposes, saved, and the flashed word on what
    became of it; (None, the error's status) when the service refused it."""
    try:
        amendment = proposing.propose(
            current_user,
            plan,
            target=node.key,
            operation=form.operation.data,
            text=form.text.data,
            justification=form.justification.data,
            language=form.language.data if form.language.data in LOCALES else None,
            submit=request.form.get("action") == "submit",
            form_token=form.form_token.data,
        )
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None, error.status
    db.session.commit()
    flash(*_saved_message(amendment))
    return amendment, 200


def _saved_message(amendment) -> tuple[str, str]:
    """What the member is told once their proposal is saved, and its category."""
    if amendment.submission_refused:
        return _(
            "%(reason)s Your text has been kept as draft %(label)s.",
            reason=amendment.submission_refused,
            label=amendment.label,
        ), "warning"
    if amendment.status == AmendmentStatus.SUBMITTED:
        return _("Amendment %(label)s has been submitted.", label=amendment.label), "success"
    return _(
        "Your draft %(label)s has been saved. Only you can see it.", label=amendment.label
    ), "success"


@bp.post(PLAN + "/diff")
@login_required
def live_diff(slug, plan_id):
    """The word-level difference the proposal form shows while the member types."""
    plans.plan_for(current_user, slug, plan_id)
    original = request.form.get("original", "")[: proposing.MAX_TEXT]
    proposed = request.form.get("proposed", "")[: proposing.MAX_TEXT]
    return jsonify(html=str(diff_html(original, proposed)))


# --- lists ----------------------------------------------------------------------


@bp.get(PLAN + "/amendments/")
@read_only
@kept_per_reader
def index(slug, plan_id):
    # The forum is kept while the plan is read: the plan's forum is then the
    # same object, not a second query.
    forum = forums.get_forum_for(current_user, slug)
    plan = plans.get_plan(forum, plan_id)
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400)
    sort = request.args.get("sort", "newest")
    if sort not in queries.SORTS:
        abort(400)
    version = plans.get_version(plan)
    sections = plans.section_nodes(version)
    section = request.args.get("section") or None
    group_id = int_arg("group")
    groups = [group for group, _count in forums.list_groups(forum)]
    target_keys = _target_keys(plan, version, sections, section, groups, group_id)
    author_id = int_arg("author")
    if request.args.get("mine") and current_user.is_authenticated:
        author_id = current_user.id
    # The author is found by (part of) their name, matched by the database:
    # a list of a large forum's thousands of authors is not sent on every page.
    author_text = (request.args.get("by") or "").strip()[: queries.MAX_AUTHOR_TEXT] or None
    page = queries.list_amendments(
        current_user,
        plan,
        status=status,
        target_keys=target_keys,
        author_id=author_id,
        author_text=author_text,
        sort=sort,
        page=int_arg("page") or 1,
    )
    author_field = author_text
    if author_field is None and author_id is not None and page.items:
        # A link to one author's amendments (?author=<id>) names them in the
        # field, from their listed amendments only (no other account's name).
        author_field = page.items[0].author_display
    return render_template(
        "amendments/index.html",
        forum=forum,
        plan=plan,
        page=page,
        status=status,
        sort=sort,
        section=section,
        group_id=group_id,
        groups=groups,
        author_id=author_id,
        author_text=author_text,
        author_field=author_field,
        sections=sections,
        statuses=LISTED_STATUSES,
        can_manage=forums.can_manage(current_user, forum),
    )


def _target_keys(plan, version, sections, section, groups, group_id) -> list[str] | None:
    """The keys a list filtered by section and/or working group shows (None:
    every key); a section or group that is not the plan's is not found."""
    if section is None and group_id is None:
        return None
    nodes = plans.version_nodes(version)  # read only to filter
    target_keys = None
    if section:
        if not any(n.key == section for n in sections):
            abort(404)
        target_keys = queries.keys_in_sections(nodes, {section})
    if group_id is not None:
        if group_id not in {group.id for group in groups}:
            abort(404)
        in_group = queries.keys_in_sections(nodes, plan_settings.group_section_keys(plan, group_id))
        target_keys = [k for k in target_keys if k in in_group] if target_keys else in_group
    return target_keys


ROW_TEMPLATE = "amendments/_row.html"


@bp.app_template_global()
def amendment_row(
    amendment, slug: str, support_count: int, comment_count: int | None, excerpt: bool = True
) -> Markup:
    """A line of a list of amendments, kept in this process's memory under
    everything it shows (its state, names, counts, the language, the time
    zone and the template's revision): a page of the list renders none of
    its lines again until one of these changes. Nothing in it depends on who
    reads it (drafts are only listed for their authors, by the query).

    It names the amendment across the forum (``identifier``) and, unless
    ``excerpt`` is false, shows its change in a few words (``excerpts``): an
    edit of its text moves its ``lock_version``, part of the key."""
    key = pagecache.make_key(
        "amendment-row",
        pagecache.source_revision(
            pagecache.template_path(ROW_TEMPLATE),
            pagecache.template_path("amendments/_status.html"),
        ),
        str(get_locale()),
        reader_zone(),
        slug,
        amendment.id,
        amendment.plan.short_name,
        amendment.lock_version,
        excerpt,
        amendment.number,
        amendment.status,
        amendment.target_ref,
        amendment.operation,
        amendment.is_compromise,
        amendment.parent_id,
        amendment.author_display,
        amendment.coalition.name if amendment.coalition else None,
        support_count,
        comment_count,
        amendment.created_at,
    )
    macro = current_app.jinja_env.get_template(ROW_TEMPLATE).module.row

    def render() -> str:
        change = excerpts.change_excerpt(amendment) if excerpt else None
        return str(macro(amendment, slug, support_count, comment_count, change))

    return Markup(pagecache.in_memory(key, render))  # noqa: S704 (the template escapes)


@bp.app_template_global()
def amendment_excerpt(amendment) -> Markup:
    """Its change in a few words (``excerpts.change_excerpt``), for tables."""
    return excerpts.change_excerpt(amendment)
