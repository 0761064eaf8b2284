from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..diffing import diff_html
from ..errors import ServiceError
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..plans import services as plans
from . import services

bp = Blueprint("consolidation", __name__)

PLAN = "/forums/<slug>/plans/<int:plan_id>/consolidations"


def _to_consolidation(plan, consolidation):
    return redirect(
        url_for(
            "consolidation.show",
            slug=plan.forum.slug,
            plan_id=plan.id,
            consolidation_id=consolidation.id,
        )
    )


def _index_page(plan, status: int = 200):
    return render_template(
        "consolidation/index.html",
        forum=plan.forum,
        plan=plan,
        pending=services.pending_amendments(plan),
        consolidations=services.recent(plan),
        can_manage=forum_permissions.can_manage(current_user, plan.forum),
        may_request=services.request_refusal(current_user, plan) is None,
    ), status


@bp.get(PLAN + "/")
def index(slug, plan_id):
    return _index_page(plans.plan_for(current_user, slug, plan_id))


@bp.post(PLAN + "/new")
@login_required
def start(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    try:
        consolidation, new = services.request(current_user, plan)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _index_page(plan, error.status)
    db.session.commit()
    if new:
        flash(_("The consolidated draft is being prepared."), "success")
    else:
        flash(_("A consolidated draft of this plan is already being prepared."), "info")
    return _to_consolidation(plan, consolidation)


@bp.get(PLAN + "/<int:consolidation_id>")
def show(slug, plan_id, consolidation_id):
    consolidation = services.get_consolidation(current_user, slug, plan_id, consolidation_id)
    plan = consolidation.plan
    report = consolidation.report or {}
    return render_template(
        "consolidation/show.html",
        forum=plan.forum,
        plan=plan,
        consolidation=consolidation,
        applied=[
            {**entry, "diff": diff_html(entry["before"], entry["after"])}
            for entry in report.get("applied", [])
        ],
        conflicts=report.get("conflicts", []),
        carried_over=report.get("carried_over", []),
        revise=report.get("revise", []),
        can_manage=forum_permissions.can_manage(current_user, plan.forum),
    )


@bp.get(PLAN + "/<int:consolidation_id>/status.json")
def status(slug, plan_id, consolidation_id):
    consolidation = services.get_consolidation(current_user, slug, plan_id, consolidation_id)
    return jsonify(
        state=consolidation.state,
        label=str(consolidation.state.label),
        active=consolidation.is_active,
        items_done=consolidation.items_done,
        items_total=consolidation.items_total,
        error=consolidation.error,
        version=consolidation.version.number if consolidation.version else None,
    )


@bp.app_template_global()
def consolidation_conflict_reason(reason: str) -> str:
    return services.conflict_reason(reason)
