from pathlib import PurePath

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from ..consultations.readings import consultation_of, start_refusal
from ..database import read_only
from ..errors import Conflict, InvalidInput, ServiceError
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..uploads import check_size, decode_text
from ..whole_pages import kept_per_reader
from . import (
    activity,
    comparing,
    exports,
    in_text_views,
    layout,
    rendering,
    repairs,
    services,
)
from .forms import DocumentEditForm, ImportForm, NodeEditForm
from .markdown import to_markdown

bp = Blueprint("plans", __name__, url_prefix="/forums/<slug>/plans")

MAX_UPLOAD = 8 * 1024 * 1024
EXPORT_FORMATS = ("md", "html", "pdf", "docx", "odt")


def _version_arg(name: str = "version") -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return int(value)


def _download(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


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
        from .docx_reader import read_docx

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
    ), status


@bp.get("/<int:plan_id>/")
@bp.get("/<int:plan_id>/versions/<int:number>")
@read_only
@kept_per_reader
def show(slug, plan_id, number=None):
    from ..plan_translations import services as translations

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
    old = services.get_version(plan, _version_arg("from") or 1)
    new = services.get_version(plan, _version_arg("to"))
    changes = comparing.compare(old, new)
    if request.args.get("format") == "md":
        text = comparing.changelog_markdown(plan, old, new, changes)
        return _download(
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


@bp.get("/<int:plan_id>/export/<fmt>")
def export(slug, plan_id, fmt):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    from .documents import FORMATS, export_filename, printed_lines, render

    plan = services.plan_for(current_user, slug, plan_id)
    version = services.get_version(plan, _version_arg())
    content_language = _content_language(version)
    nodes = exports.document_nodes(plan, version, content_language)
    filename = export_filename(plan, version, fmt)
    if content_language:  # plan-v3.pdf → plan-v3-pt.pdf
        stem, _dot, extension = filename.rpartition(".")
        filename = f"{stem}-{content_language}.{extension}"
    if fmt == "md":
        text = to_markdown(version.title, nodes)
        return _download(text.encode(), "text/markdown; charset=utf-8", filename)
    lines = printed_lines(nodes, layout.line_length(plan.forum)) if fmt == "pdf" else 0
    if exports.needs_job(fmt, version, len(nodes), lines):
        export = exports.request_export(plan, version, fmt, str(get_locale()), content_language)
        db.session.commit()
        path = exports.file_of(export)
        if path is None:
            return redirect(
                url_for("plans.export_status", slug=slug, plan_id=plan.id, export_id=export.id)
            )
        return send_file(path, mimetype=FORMATS[fmt], as_attachment=True, download_name=filename)
    content, mimetype, _filename = render(fmt, plan, version, nodes)
    return _download(content, mimetype, filename)


def _content_language(version) -> str:
    """?lang=xx asks for the text translated into xx ("" for the original)."""
    from ..config import LOCALES

    asked = request.args.get("lang", "")
    return asked if asked in LOCALES and asked != version.language else ""


def _export_of(slug, plan_id, export_id):
    plan = services.plan_for(current_user, slug, plan_id)
    export = exports.get_export(plan, export_id)
    if export is None:
        abort(404)
    if exports.take_up_if_lost(export):  # its worker died: queued again
        db.session.commit()
    return plan, export


@bp.get("/<int:plan_id>/exports/<int:export_id>")
def export_status(slug, plan_id, export_id):
    """The progress of a document being made, then its download link."""
    plan, export = _export_of(slug, plan_id, export_id)
    return render_template("plans/export_status.html", forum=plan.forum, plan=plan, export=export)


@bp.get("/<int:plan_id>/exports/<int:export_id>/status.json")
def export_status_json(slug, plan_id, export_id):
    _plan, export = _export_of(slug, plan_id, export_id)
    return jsonify(
        state=export.state,
        label=export_state_label(export.state),
        active=export.is_active,
        error=export.error,
    )


EXPORT_STATE_LABELS = {
    "queued": _l("Waiting for a worker"),
    "running": _l("Making the document"),
    "finished": _l("Ready"),
    "failed": _l("Failed"),
}


@bp.app_template_global()
def export_state_label(state: str) -> str:
    return str(EXPORT_STATE_LABELS.get(state, state))


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


STATUS_LABELS = {
    "draft": _l("Draft"),
    "consultation": _l("In consultation"),
    "approved": _l("Approved"),
    "archived": _l("Archived"),
}
ORIGIN_LABELS = {
    "import": _l("imported"),
    "consolidation": _l("consolidated from amendments"),
    "edit": _l("edited by hand"),
}
KIND_LABELS = {
    "section": _l("Section"),
    "paragraph": _l("Paragraph"),
    "item": _l("Item"),
    "bullet": _l("Bullet"),
    "footnote": _l("Footnote"),
    "closing": _l("Closing"),
}
CHANGE_LABELS = {
    "added": _l("added"),
    "removed": _l("removed"),
    "changed": _l("changed"),
    "moved": _l("moved"),
    "unchanged": _l("unchanged"),
}


@bp.app_template_global()
def plan_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def version_origin_label(origin: str) -> str:
    return str(ORIGIN_LABELS.get(origin, origin))


@bp.app_template_global()
def node_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def change_status_label(status: str) -> str:
    return str(CHANGE_LABELS.get(status, status))
