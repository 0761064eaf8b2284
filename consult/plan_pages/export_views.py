"""Plan documents for download: Markdown, HTML, PDF, DOCX and ODT of a version,
in its language or a translation's; a large one is made by a worker
(``exports``), and its progress page waits for it."""

from flask import abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..config import LOCALES
from ..extensions import db
from ..plans import layout, services
from ..plans.documents import FORMATS, export_filename, printed_lines, render
from ..plans.markdown import to_markdown
from . import exports
from .blueprint import bp, download, version_arg

EXPORT_FORMATS = ("md", "html", "pdf", "docx", "odt")


@bp.get("/<int:plan_id>/export/<fmt>")
def export(slug, plan_id, fmt):
    if fmt not in EXPORT_FORMATS:
        abort(404)
    plan = services.plan_for(current_user, slug, plan_id)
    version = services.get_version(plan, version_arg())
    content_language = _content_language(version)
    nodes = exports.document_nodes(plan, version, content_language)
    filename = export_filename(plan, version, fmt)
    if content_language:  # plan-v3.pdf → plan-v3-pt.pdf
        stem, _dot, extension = filename.rpartition(".")
        filename = f"{stem}-{content_language}.{extension}"
    if fmt == "md":
        text = to_markdown(version.title, nodes)
        return download(text.encode(), "text/markdown; charset=utf-8", filename)
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
    return download(content, mimetype, filename)


def _content_language(version) -> str:
    """?lang=xx asks for the text translated into xx ("" for the original)."""
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
        label=str(export.state.label),
        active=export.is_active,
        error=export.error,
    )
