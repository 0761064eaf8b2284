from pathlib import PurePath

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from ..consultations.readings import consultation_of, start_refusal
from ..database import read_only
from ..errors import Conflict, InvalidInput, ServiceError
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..plan_translations import rendering
from ..plan_translations import services as translations
from ..plans import comparing, repairs, services
from ..plans.docx_reader import read_docx
from ..plans.forms import DocumentEditForm, ImportForm, NodeEditForm
from ..plans.markdown import to_markdown
from ..uploads import check_size, decode_text
from ..whole_pages import kept_per_reader
from . import activity, in_text_views
from .blueprint import bp, download, version_arg
from .export_views import EXPORT_FORMATS

MAX_UPLOAD = 8 * 1024 * 1024


@bp.get("/")
def index(slug):
    forum = forums.get_forum_for(current_user, slug)
    return render_template(
        "plans/index.html",
        forum=forum,
        plans=services.list_plans(forum),
        can_manage=forum_permissions.can_manage(current_user, forum),
    )


def _uploaded_text(form: ImportForm) -> str | None:
    upload = form.file.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    data = upload.read()
    check_size(data, MAX_UPLOAD)
    name = PurePath(upload.filename).name[:255]
    form.filename.data = name
    suffix = PurePath(name).suffix.lower()
    if suffix == ".docx":
        return read_docx(data)
    if suffix in ("", ".txt", ".md", ".markdown", ".text"):
        return decode_text(data)
    raise InvalidInput(_("Choose a .txt, .md or .docx file."))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_plan(slug):
    forum = forums.get_forum_for(current_user, slug)
    forum_permissions.require_manage(current_user, forum)
    form = ImportForm()
    if request.method == "GET":
        form.language.data = forum.default_locale
        return render_template("plans/import.html", forum=forum, form=form, parsed=None)
    parsed, status = None, 200
    if form.validate_on_submit():
        try:
            uploaded = _uploaded_text(form)
            if uploaded is not None:
                form.text.data = uploaded
            if fix := request.form.get("fix"):
                form.text.data = services.repair_source(form.text.data or "", fix)
            elif request.form.get("action") == "save":
                plan = services.import_plan(
                    current_user,
                    forum,
                    form.text.data or "",
                    title=form.title.data or "",
                    language=form.language.data,
                    filename=form.filename.data or "",
                )
                db.session.commit()
                flash(_("The plan has been imported as version 1."), "success")
                return redirect(url_for("plans.show", slug=slug, plan_id=plan.id))
            parsed = services.preview(form.text.data or "", form.title.data or None)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
    else:
        status = 400
    return render_template(
        "plans/import.html",
        forum=forum,
        form=form,
        parsed=parsed,
        source_lines=repairs.source_lines(form.text.data or "") if parsed else [],
        repair_labels=repairs.FIXES,
        preview_split_points=repairs.preview_split_points,
    ), status


@bp.get("/<int:plan_id>/")
@bp.get("/<int:plan_id>/versions/<int:number>")
@read_only
@kept_per_reader
def show(slug, plan_id, number=None):
    plan = services.plan_for(current_user, slug, plan_id)
    version = services.get_version(plan, number)
    reading = rendering.reading_language(version)
    stamps = translations.stamps(plan)
    # With amendments, or as if the accepted ones were applied: rendered per request.
    shown = in_text_views.shown_reading()
    is_current = version.id == plan.current_version_id
    can_manage = forum_permissions.can_manage(current_user, plan.forum)
    consultation = consultation_of(plan)
    archived = services.archived_refusal(plan)
    # Offered exactly when the editing services would accept it.
    may_edit = can_manage and is_current and services.edit_refusal(plan) is None
    edit_url = rendering.edit_url(plan) if may_edit else None
    html = render_template(
        "plans/show.html",
        reading=reading,
        shown=shown,
        plan_text=in_text_views.reading_text(shown, plan, version, is_current)
        if shown
        else Markup(rendering.TEXT_MARK),  # noqa: S704 (a constant)
        completeness=translations.kept_completeness(plan, version, stamps),
        consultation=consultation,
        # Its last consultation is over: a facilitator may start the next reading.
        may_start_reading=can_manage
        and consultation is not None
        and start_refusal(plan, consultation) is None,
        forum=plan.forum,
        plan=plan,
        version=version,
        is_current=is_current,
        can_manage=can_manage,
        may_edit=may_edit,
        archived=archived,
        formats=EXPORT_FORMATS,
    )
    if shown:
        return html
    text = rendering.render_plan_text(plan, version, reading, stamps)
    counts, counts_key = activity.counts_and_key(plan)
    return rendering.page(html, text, counts, edit_url, counts_key)


@bp.get("/<int:plan_id>/history")
def history(slug, plan_id):
    plan = services.plan_for(current_user, slug, plan_id)
    return render_template(
        "plans/history.html", forum=plan.forum, plan=plan, versions=services.versions(plan)
    )


@bp.get("/<int:plan_id>/compare")
def compare(slug, plan_id):
    plan = services.plan_for(current_user, slug, plan_id)
    old = services.get_version(plan, version_arg("from") or 1)
    new = services.get_version(plan, version_arg("to"))
    changes = comparing.compare(old, new)
    if request.args.get("format") == "md":
        text = comparing.changelog_markdown(plan, old, new, changes)
        return download(
            text.encode(), "text/markdown; charset=utf-8", f"changes-v{old.number}-v{new.number}.md"
        )
    summary = {}
    for change in changes:
        summary[change.status] = summary.get(change.status, 0) + 1
    return render_template(
        "plans/compare.html",
        forum=plan.forum,
        plan=plan,
        old=old,
        new=new,
        changes=changes,
        summary=summary,
        shown_changes=comparing.SHOWN_CHANGES,
        versions=services.versions(plan),
    )


@bp.route("/<int:plan_id>/nodes/<key>/edit", methods=["GET", "POST"])
@login_required
def edit_node(slug, plan_id, key):
    plan = services.plan_for(current_user, slug, plan_id)
    forum_permissions.require_manage(current_user, plan.forum)
    current = services.get_version(plan)
    node = services.find_node(current, key)
    form = NodeEditForm()
    if request.method == "GET":
        form.text.data, form.base_version.data = node.text, current.number
    status, conflict = 200, None
    if form.validate_on_submit():
        base = services.get_version(plan, form.base_version.data)
        try:
            version = services.edit_node(
                current_user, plan, base, node.key, form.text.data, form.note.data or ""
            )
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            status, conflict = 409, services.find_node(current, node.key)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Saved as version %(number)d.", number=version.number), "success")
            return redirect(url_for("plans.show", slug=slug, plan_id=plan.id) + f"#ref-{node.ref}")
    elif request.method == "POST":
        status = 400
    return render_template(
        "plans/edit_node.html", forum=plan.forum, plan=plan, node=node, form=form, conflict=conflict
    ), status


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit_document(slug, plan_id):
    plan = services.plan_for(current_user, slug, plan_id)
    forum_permissions.require_manage(current_user, plan.forum)
    current = services.get_version(plan)
    form = DocumentEditForm()
    if request.method == "GET":
        form.text.data = to_markdown(current.title, services.version_nodes(current))
        form.base_version.data = current.number
    status, conflict = 200, None
    if form.validate_on_submit():
        base = services.get_version(plan, form.base_version.data)
        try:
            version = services.replace_text(
                current_user, plan, base, form.text.data, form.note.data or ""
            )
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 409
            conflict = to_markdown(current.title, services.version_nodes(current))
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Saved as version %(number)d.", number=version.number), "success")
            return redirect(url_for("plans.show", slug=slug, plan_id=plan.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "plans/edit_document.html",
        forum=plan.forum,
        plan=plan,
        form=form,
        version=current,
        conflict=conflict,
    ), status
