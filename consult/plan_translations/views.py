from babel import Locale, UnknownLocaleError
from flask import Blueprint, Response, abort, flash, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..diffing import diff_html
from ..errors import ServiceError
from ..extensions import db
from ..forums.permissions import require
from ..i18n import LANGUAGE_NAMES
from ..plans import services as plans
from ..uploads import check_size, flash_report
from . import permissions, po_files, services
from .forms import ImportForm, items_form

bp = Blueprint("plan_translations", __name__)

PLAN = "/forums/<slug>/plans/<int:plan_id>/translations"
PER_PAGE = 50
MAX_UPLOAD = 8 * 1024 * 1024
FILTERS = ("all", "missing", "outdated")


def _page_number() -> int:
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
        abort(400)
    return int(value)


@bp.get(PLAN + "/")
def overview(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    version = plans.get_version(plan)
    return render_template(
        "plan_translations/overview.html",
        forum=plan.forum,
        plan=plan,
        version=version,
        figures=services.completeness(plan, version),
        allowed=permissions.allowed(current_user, plan),
    )


def _workspace(plan, language, status=200, typed=None, stale=(), form=None):
    require(permissions.language_refusal(plan, language))
    version = plans.get_version(plan)
    shown = request.args.get("show", "all")
    if shown not in FILTERS:
        shown = "all"
    states = services.states(plan, plans.version_nodes(version), language)
    if shown != "all":
        states = [state for state in states if state.status == shown]
    page = _page_number()
    pages = max(1, -(-len(states) // PER_PAGE))
    page = min(page, pages)
    chosen = states[(page - 1) * PER_PAGE : page * PER_PAGE]
    return render_template(
        "plan_translations/workspace.html",
        forum=plan.forum,
        plan=plan,
        version=version,
        language=language,
        language_name=language_name(language),
        states=chosen,
        diffs={
            state.node.key: diff_html(state.translation.source_text, state.node.text)
            for state in chosen
            if state.status == "outdated"
        },
        shown=shown,
        page=page,
        pages=pages,
        typed=typed or {},
        stale=set(stale),
        errors=form.errors if form is not None else {},
        figures=services.completeness(plan, version)[language],
        allowed=permissions.allowed(current_user, plan, language),
    ), status


@bp.route(PLAN + "/<language>", methods=["GET", "POST"])
@login_required
def workspace(slug, plan_id, language):
    plan = plans.plan_for(current_user, slug, plan_id)
    require(permissions.review_refusal(current_user, plan))
    if language not in LANGUAGE_NAMES:
        abort(404)
    if request.method == "GET":
        return _workspace(plan, language)
    keys = [name[2:] for name in request.form if name.startswith("t-")][:PER_PAGE]
    form = items_form(keys, request.form)
    entries = form.entries(keys)
    if not form.validate():
        flash(_("Some of the information given is not valid."), "error")
        return _workspace(plan, language, 400, typed=form.typed(), form=form)
    try:
        result = services.save(current_user, plan, language, entries)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _workspace(plan, language, error.status, typed=form.typed())
    db.session.commit()
    if result.stale:
        flash(
            _(
                "The source of %(count)d items changed while you were translating; your text "
                "for them is below, not saved. Check it against the new source.",
                count=len(result.stale),
            ),
            "warning",
        )
        typed = {key: entries[key][0] for key in result.stale}
        return _workspace(plan, language, 409, typed=typed, stale=result.stale)
    flash(
        _(
            "Saved: %(saved)d translations, %(removed)d removed.",
            saved=result.saved,
            removed=result.removed,
        ),
        "success",
    )
    return redirect(request.full_path.rstrip("?"))


@bp.get(PLAN + "/<language>.po")
def download_po(slug, plan_id, language):
    plan = plans.plan_for(current_user, slug, plan_id)
    if language not in LANGUAGE_NAMES:
        abort(404)
    version = plans.get_version(plan)
    content = po_files.export_po(plan, version, language)
    response = Response(content, mimetype="text/x-gettext-translation; charset=utf-8")
    filename = f"plan-{plan.id}-v{version.number}-{language}.po"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.route(PLAN + "/<language>/import", methods=["GET", "POST"])
@login_required
def import_po(slug, plan_id, language):
    plan = plans.plan_for(current_user, slug, plan_id)
    require(permissions.review_refusal(current_user, plan))
    if language not in LANGUAGE_NAMES:
        abort(404)
    require(permissions.language_refusal(plan, language))
    version = plans.get_version(plan)
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(MAX_UPLOAD + 1) if upload else b""
        try:
            if not data:
                raise services.InvalidInput(_("Choose a PO file to import."))
            check_size(data, MAX_UPLOAD)
            report = po_files.import_po(
                current_user, plan, language, data, replace=form.replace.data
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash_report(report)
    elif request.method == "POST":
        status = 400
    return render_template(
        "plan_translations/import.html",
        forum=plan.forum,
        plan=plan,
        version=version,
        language=language,
        language_name=language_name(language),
        report=report,
        form=form,
        allowed=permissions.allowed(current_user, plan, language),
    ), status


@bp.app_template_global()
def language_name(code: str) -> str:
    """A language's name in the reader's language, for a sentence: "Traducir al
    inglés", "written in Spanish"."""
    try:
        return Locale.parse(code).get_display_name(get_locale()) or LANGUAGE_NAMES.get(code, code)
    except (ValueError, TypeError, UnknownLocaleError):
        return LANGUAGE_NAMES.get(code, code)


@bp.app_template_global()
def language_endonym(code: str) -> str:
    """A language's name in itself ("English", "Português"), for a link or a
    heading marked with that language (``lang``), as a language menu shows it."""
    return LANGUAGE_NAMES.get(code, code)
