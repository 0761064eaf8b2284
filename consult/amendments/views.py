from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from .. import pagecache
from ..config import LOCALES
from ..database import read_only
from ..diffing import diff_html
from ..errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..inputs import database_int
from ..plan_translations import services as plan_translations
from ..plans import layout
from ..plans import rendering as plan_rendering
from ..plans import services as plans
from ..timezones import reader_zone
from ..uploads import flash_report
from ..votes import services as votes
from . import conflicts, offline_import, services
from .forms import (
    AmendmentForm,
    AmendmentImportForm,
    CompromiseForm,
    CosponsorForm,
    DecisionForm,
    DraftForm,
    PlanSettingsForm,
    ReasonForm,
    SubAmendmentForm,
    TranslationForm,
)
from .models import STATUSES

bp = Blueprint("amendments", __name__)

PLAN = "/forums/<slug>/plans/<int:plan_id>"
AMENDMENT = "/forums/<slug>/amendments/<int:amendment_id>"


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        abort(400)
    return int(value)


def _node(plan, key):
    version = plans.get_version(plan)
    return version, plans.find_node(version, key)


def _comment_thread(plan, target_type: str, target_key: str):
    """The comment thread of a target, when the comments feature provides one."""
    from ..comments import services as comments

    return comments.thread(current_user, plan.forum, plan, target_type, target_key, page=1)


def _to_detail(amendment):
    return redirect(
        url_for("amendments.detail", slug=amendment.plan.forum.slug, amendment_id=amendment.id)
    )


# --- the item page ------------------------------------------------------------


@bp.get(PLAN + "/items/<key>/")
def item(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    version, node = _node(plan, key)
    ordered = plans.version_nodes(version)
    nodes = {n.key: n for n in ordered}
    # Read in the language the plan page was read in (its links carry ?lang=).
    reading = plan_rendering.reading_language(version)
    translation = plan_translations.reading_texts(plan, version, [node], reading).get(node.key)
    # Its lines, numbered as on the plan page (the nodes up to it are enough).
    index = next(i for i, n in enumerate(ordered) if n.key == node.key)
    lines = layout.number_lines(ordered[: index + 1])[-1]
    return render_template(
        "amendments/item.html",
        forum=plan.forum,
        plan=plan,
        version=version,
        node=node,
        cited_ref=layout.cited_ref(node),
        reading=reading,
        translation=translation,
        lines=lines,
        amendments=services.list_amendments(
            current_user, plan, target_keys=[node.key], per_page=100
        ),
        conflicts=conflicts.conflicts(plan, node.key),
        cannot_amend=services.may_amend(current_user, plan, node.key, nodes)
        if current_user.is_authenticated
        else _("Sign in to propose amendments."),
        can_manage=forums.can_manage(current_user, plan.forum),
        thread=_comment_thread(plan, "node", node.key),
    )


# --- proposing ------------------------------------------------------------------


@bp.route(PLAN + "/items/<key>/amend", methods=["GET", "POST"])
@login_required
def propose(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    version, node = _node(plan, key)
    if request.method == "GET":
        nodes = {n.key: n for n in plans.version_nodes(version)}
        services.require_amend(current_user, plan, node.key, nodes)
    form = AmendmentForm()
    if request.method == "GET":
        form.operation.data = request.args.get("operation", "replace")
        form.language.data = plan.language
        form.text.data = "" if form.operation.data in ("insert_after", "new_section") else node.text
    status = 200
    if form.validate_on_submit():
        try:
            amendment = services.propose(
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
            status = error.status
        else:
            db.session.commit()
            if amendment.submission_refused:
                flash(
                    _(
                        "%(reason)s Your text has been kept as draft %(label)s.",
                        reason=amendment.submission_refused,
                        label=amendment.label,
                    ),
                    "warning",
                )
            elif amendment.status == "submitted":
                flash(
                    _("Amendment %(label)s has been submitted.", label=amendment.label), "success"
                )
            else:
                flash(
                    _(
                        "Your draft %(label)s has been saved. Only you can see it.",
                        label=amendment.label,
                    ),
                    "success",
                )
            return _to_detail(amendment)
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/propose.html", forum=plan.forum, plan=plan, node=node, form=form
    ), status


@bp.post(PLAN + "/diff")
@login_required
def live_diff(slug, plan_id):
    """The word-level difference the proposal form shows while the member types."""
    plans.plan_for(current_user, slug, plan_id)
    original = request.form.get("original", "")[: services.MAX_TEXT]
    proposed = request.form.get("proposed", "")[: services.MAX_TEXT]
    return jsonify(html=str(diff_html(original, proposed)))


# --- lists ----------------------------------------------------------------------


@bp.get(PLAN + "/amendments/")
@read_only
def index(slug, plan_id):
    # The forum is kept while the plan is read: the plan's forum is then the
    # same object, not a second query.
    forum = forums.get_forum_for(current_user, slug)
    plan = plans.get_plan(forum, plan_id)
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400)
    sort = request.args.get("sort", "newest")
    if sort not in services.SORTS:
        abort(400)
    version = plans.get_version(plan)
    sections = plans.section_nodes(version)
    nodes = None  # every node, read only to filter by section or group
    target_keys = None
    section = request.args.get("section") or None
    if section:
        if not any(n.key == section for n in sections):
            abort(404)
        nodes = plans.version_nodes(version)
        target_keys = services.keys_in_sections(nodes, {section})
    group_id = _int_arg("group")
    groups = [group for group, _count in forums.list_groups(forum)]
    if group_id is not None:
        if group_id not in {group.id for group in groups}:
            abort(404)
        nodes = nodes if nodes is not None else plans.version_nodes(version)
        in_group = services.keys_in_sections(nodes, services.group_section_keys(plan, group_id))
        target_keys = [k for k in target_keys if k in in_group] if target_keys else in_group
    author_id = _int_arg("author")
    if request.args.get("mine") and current_user.is_authenticated:
        author_id = current_user.id
    # The author is found by (part of) their name, matched by the database:
    # a list of a large forum's thousands of authors is not sent on every page.
    author_text = (request.args.get("by") or "").strip()[: services.MAX_AUTHOR_TEXT] or None
    page = services.list_amendments(
        current_user,
        plan,
        status=status,
        target_keys=target_keys,
        author_id=author_id,
        author_text=author_text,
        sort=sort,
        page=_int_arg("page") or 1,
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
        can_manage=forums.can_manage(current_user, forum),
    )


ROW_TEMPLATE = "amendments/_row.html"


@bp.app_template_global()
def amendment_row(amendment, slug: str, support_count: int, comment_count: int | None) -> Markup:
    """A line of a list of amendments, kept in this process's memory under
    everything it shows (its state, names, counts, the language, the time
    zone and the template's revision): a page of the list renders none of
    its lines again until one of these changes. Nothing in it depends on who
    reads it (drafts are only listed for their authors, by the query)."""
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
    return Markup(  # noqa: S704 (rendered by the template, which escapes)
        pagecache.in_memory(key, lambda: str(macro(amendment, slug, support_count, comment_count)))
    )


@bp.get(PLAN + "/amendments/triage")
@login_required
def triage(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    submitted = services.list_amendments(
        current_user,
        plan,
        status="submitted",
        sort="target",
        per_page=100,
        page=_int_arg("page") or 1,
    )
    return render_template(
        "amendments/triage.html",
        forum=plan.forum,
        plan=plan,
        page=submitted,
        conflicts=conflicts.conflicts(plan),
        tallies={a.id: services.support_tally(a) for a in submitted.items},
    )


# --- one amendment ------------------------------------------------------------------


def _detail_page(amendment, status: int = 200, **forms):
    plan = amendment.plan
    supporting = services.supporters(amendment)
    return render_template(
        "amendments/detail.html",
        forum=plan.forum,
        plan=plan,
        amendment=amendment,
        diff=diff_html(amendment.original_text, amendment.proposed_text),
        supporters=supporting,
        tally=services.support_tally(amendment),
        threshold_met=services.threshold_met(amendment),
        supported=any(s.user_id == getattr(current_user, "id", None) for s in supporting),
        sponsors=services.sponsors(amendment),
        history=services.history(amendment),
        subs=services.sub_amendments(amendment),
        is_author=services.is_author(current_user, amendment),
        can_manage=forums.can_manage(current_user, plan.forum),
        is_member=forums.membership_of(current_user, plan.forum) is not None,
        decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
        reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
        cosponsor_form=forms.get("cosponsor_form") or CosponsorForm(formdata=None),
        translation_form=forms.get("translation_form") or TranslationForm(formdata=None),
        translations=plan_translations.amendment_translations(amendment),
        can_translate=plan_translations.can_translate_amendment(current_user, amendment)
        if current_user.is_authenticated
        else False,
        thread=_comment_thread(plan, "amendment", str(amendment.id)),
        polls=votes.polls_about(plan, [amendment.id]),
    ), status


@bp.get(AMENDMENT)
def detail(slug, amendment_id):
    return _detail_page(services.get_amendment(current_user, slug, amendment_id))


def _act(slug, amendment_id, action, message, **forms):
    """Load → check (in the service) → change → commit → back to the amendment.
    On a refusal the page is shown again with the message and what was typed."""
    amendment = services.get_amendment(current_user, slug, amendment_id)
    try:
        action(amendment)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _detail_page(amendment, error.status, **forms)
    db.session.commit()
    flash(message, "success")
    return _to_detail(amendment)


@bp.post(AMENDMENT + "/submit")
@login_required
def submit(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: services.submit_amendment(current_user, a),
        _("The amendment has been submitted."),
    )


@bp.post(AMENDMENT + "/translations")
@login_required
def translate(slug, amendment_id):
    form = TranslationForm()
    if not form.validate_on_submit():
        amendment = services.get_amendment(current_user, slug, amendment_id)
        return _detail_page(amendment, 400, translation_form=form)
    return _act(
        slug,
        amendment_id,
        lambda a: plan_translations.translate_amendment(
            current_user, a, form.language.data, form.text.data or ""
        ),
        _("The translation has been saved."),
        translation_form=form,
    )


@bp.post(AMENDMENT + "/withdraw")
@login_required
def withdraw(slug, amendment_id):
    form = ReasonForm()
    return _act(
        slug,
        amendment_id,
        lambda a: services.withdraw(current_user, a, form.reason.data or ""),
        _("The amendment has been withdrawn."),
        reason_form=form,
    )


@bp.post(AMENDMENT + "/support")
@login_required
def support(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: services.support(current_user, a),
        _("You support this amendment."),
    )


@bp.post(AMENDMENT + "/unsupport")
@login_required
def unsupport(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: services.withdraw_support(current_user, a),
        _("You no longer support this amendment."),
    )


@bp.post(AMENDMENT + "/decide")
@login_required
def decide(slug, amendment_id):
    amendment = services.get_amendment(current_user, slug, amendment_id)
    forums.require_manage(current_user, amendment.plan.forum)
    form = DecisionForm()
    if not form.validate_on_submit() or form.status.data not in STATUSES:
        abort(400)
    return _act(
        slug,
        amendment_id,
        lambda a: services.decide(current_user, a, form.status.data, form.reason.data or ""),
        _("The decision has been recorded."),
        decision_form=form,
    )


@bp.post(AMENDMENT + "/cosponsors")
@login_required
def invite_cosponsor(slug, amendment_id):
    if not services.is_author(
        current_user, services.get_amendment(current_user, slug, amendment_id)
    ):
        abort(403)
    form = CosponsorForm()
    if not form.validate_on_submit():
        amendment = services.get_amendment(current_user, slug, amendment_id)
        return _detail_page(amendment, 400, cosponsor_form=form)
    return _act(
        slug,
        amendment_id,
        lambda a: services.invite_cosponsor(current_user, a, form.email.data),
        _("The co-sponsor has been invited."),
        cosponsor_form=form,
    )


@bp.post(AMENDMENT + "/cosponsors/accept")
@login_required
def accept_cosponsorship(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: services.accept_cosponsorship(current_user, a),
        _("You co-sponsor this amendment."),
    )


@bp.route(AMENDMENT + "/edit", methods=["GET", "POST"])
@login_required
def edit_draft(slug, amendment_id):
    amendment = services.get_amendment(current_user, slug, amendment_id)
    if not services.is_author(current_user, amendment):
        abort(403)
    form = DraftForm(obj=amendment if request.method == "GET" else None)
    if request.method == "GET":
        form.text.data = amendment.proposed_text
    status = 200
    if form.validate_on_submit():
        try:
            if amendment.status == "revise":
                services.revise(
                    current_user,
                    amendment,
                    text=form.text.data,
                    justification=form.justification.data,
                )
            else:
                services.update_draft(
                    current_user,
                    amendment,
                    text=form.text.data,
                    justification=form.justification.data,
                )
                if request.form.get("action") == "submit":
                    services.submit_amendment(current_user, amendment)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The amendment has been saved."), "success")
            return _to_detail(amendment)
    elif request.method == "POST":
        status = 400
    target = services.current_target(amendment) if amendment.status == "revise" else None
    return render_template(
        "amendments/edit.html",
        forum=amendment.plan.forum,
        plan=amendment.plan,
        amendment=amendment,
        form=form,
        base_text=target.text if target is not None else amendment.original_text,
    ), status


@bp.route(AMENDMENT + "/amend", methods=["GET", "POST"])
@login_required
def sub_amend(slug, amendment_id):
    parent = services.get_amendment(current_user, slug, amendment_id)
    services.check_sub_amendable(current_user, parent)
    form = SubAmendmentForm()
    if request.method == "GET":
        form.text.data = parent.proposed_text
    status = 200
    if form.validate_on_submit():
        try:
            sub = services.propose_sub_amendment(
                current_user,
                parent,
                text=form.text.data,
                justification=form.justification.data or "",
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Sub-amendment %(label)s has been submitted.", label=sub.label), "success")
            return _to_detail(sub)
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/sub_amend.html",
        forum=parent.plan.forum,
        plan=parent.plan,
        parent=parent,
        form=form,
    ), status


# --- facilitators ------------------------------------------------------------------


@bp.route(PLAN + "/items/<key>/compromise", methods=["GET", "POST"])
@login_required
def compromise(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    _version, node = _node(plan, key)
    candidates = services.compromise_candidates(plan, node.key)
    form = CompromiseForm()
    if request.method == "GET":
        form.text.data = node.text
    chosen = {number for v in request.form.getlist("sources") if (number := database_int(v))}
    status = 200
    if form.validate_on_submit():
        sources = [a for a in candidates if a.id in chosen]
        try:
            made = services.create_compromise(
                current_user,
                plan,
                sources,
                text=form.text.data,
                justification=form.justification.data or "",
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(
                _("Compromise %(label)s replaces the chosen amendments.", label=made.label),
                "success",
            )
            return _to_detail(made)
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/compromise.html",
        forum=plan.forum,
        plan=plan,
        node=node,
        candidates=candidates,
        chosen=chosen,
        form=form,
    ), status


@bp.route(PLAN + "/amendments/import", methods=["GET", "POST"])
@login_required
def import_csv(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    form = AmendmentImportForm()
    report = None
    if form.validate_on_submit():
        report = offline_import.import_amendments(current_user, plan, form.file.data.read())
        db.session.commit()
        flash_report(report)
    status = 400 if request.method == "POST" and (report is None or report.error) else 200
    return render_template(
        "amendments/import.html",
        forum=plan.forum,
        plan=plan,
        form=form,
        report=report,
        columns=offline_import.COLUMNS,
    ), status


@bp.route(PLAN + "/settings", methods=["GET", "POST"])
@login_required
def settings(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    form = PlanSettingsForm(obj=plan)
    nodes = plans.version_nodes(plans.get_version(plan))
    sections = plans.outline(nodes)
    groups = [group for group, _count in forums.list_groups(plan.forum)]
    status = 200
    if form.validate_on_submit():
        try:
            services.update_settings(
                current_user,
                plan,
                open_for_input=form.open_for_input.data,
                threshold=form.support_threshold.data or 0,
                threshold_kind=form.support_threshold_kind.data,
            )
            for section in sections:
                raw = request.form.get(f"group-{section.key}", "")
                # A value no group can have is not found, never a database error.
                group_id = (database_int(raw) or 0) if raw else None
                services.assign_section(current_user, plan, section.key, group_id)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The plan's settings have been saved."), "success")
            return redirect(url_for("amendments.settings", slug=slug, plan_id=plan.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/settings.html",
        forum=plan.forum,
        plan=plan,
        form=form,
        sections=sections,
        groups=groups,
        assignments=services.section_assignments(plan),
        consultation=services.consultations.consultation_of(plan),
        archived=plans.archived_refusal(plan),
    ), status


@bp.app_template_global()
def amendment_status_label(status: str) -> str:
    return str(services.STATUS_LABELS.get(status, status))


@bp.app_template_global()
def operation_label(operation: str) -> str:
    return str(services.OPERATION_LABELS.get(operation, operation))


DECISION_LABELS = {
    "admitted": _l("Admit"),
    "accepted": _l("Accept"),
    "rejected": _l("Reject"),
    "voting": _l("Put to a vote"),
}


@bp.app_template_global()
def decision_label(status: str) -> str:
    return str(DECISION_LABELS.get(status, status))
