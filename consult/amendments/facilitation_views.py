"""What facilitators do with a plan's amendments as a whole: compromises,
imports of amendments collected elsewhere, the plan's settings."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..consultations import services as consultations
from ..errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..inputs import database_int
from ..plans import services as plans
from ..plans.short_names import ShortNameRefused
from ..uploads import flash_report
from . import compromises, offline_import, plan_settings, queries
from .blueprint import PLAN, bp, plan_node, to_detail
from .forms import AmendmentImportForm, CompromiseForm, PlanSettingsForm


@bp.route(PLAN + "/items/<key>/compromise", methods=["GET", "POST"])
@login_required
def compromise(slug, plan_id, key):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    _version, node = plan_node(plan, key)
    candidates = queries.compromise_candidates(plan, node.key)
    form = CompromiseForm()
    if request.method == "GET":
        form.text.data = node.text
    chosen = {number for v in request.form.getlist("sources") if (number := database_int(v))}
    status = 200
    if form.validate_on_submit():
        sources = [a for a in candidates if a.id in chosen]
        try:
            made = compromises.create_compromise(
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
            return to_detail(made)
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
            plan_settings.update_settings(
                current_user,
                plan,
                open_for_input=form.open_for_input.data,
                threshold=form.support_threshold.data or 0,
                threshold_kind=form.support_threshold_kind.data,
                # Not sent (an older form): the plan keeps its short name.
                short_name=form.short_name.data if form.short_name.raw_data else None,
            )
            for section in sections:
                raw = request.form.get(f"group-{section.key}", "")
                # A value no group can have is not found, never a database error.
                group_id = (database_int(raw) or 0) if raw else None
                plan_settings.assign_section(current_user, plan, section.key, group_id)
        except ServiceError as error:
            db.session.rollback()
            if isinstance(error, ShortNameRefused):
                form.short_name.errors = [error.message]  # next to what was typed
            else:
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
        assignments=plan_settings.section_assignments(plan),
        consultation=consultations.consultation_of(plan),
        archived=plans.archived_refusal(plan),
    ), status
