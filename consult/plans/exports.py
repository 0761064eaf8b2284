"""Documents of big versions (PDF, DOCX, ODT) rendered by a background job.

A 2,000-item PDF takes seconds to render: too long for a request. Above a size
(PLAN_EXPORT_JOB_MIN_NODES nodes) the download link asks for a job, shows its
progress, and serves the file once it exists. A version never changes, so each
(version, format, language) is rendered once and then served from disk.
"""

import os
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from ..jobs import enqueue_after_commit
from .models import Plan, PlanExport, PlanVersion

JOB_FORMATS = ("pdf", "docx", "odt")
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "odt": "odt"}


def needs_job(fmt: str, version: PlanVersion, node_count: int) -> bool:
    return fmt in JOB_FORMATS and node_count >= current_app.config["PLAN_EXPORT_JOB_MIN_NODES"]


def folder() -> Path:
    path = Path(current_app.config["INSTANCE_DIR"]) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_of(export: PlanExport) -> Path | None:
    """The rendered file, if it is (still) there."""
    if export.state != "finished" or not export.stored_name:
        return None
    path = folder() / export.stored_name
    return path if path.is_file() else None


def get_export(plan: Plan, export_id) -> PlanExport | None:
    export = db.session.get(PlanExport, export_id) if isinstance(export_id, int) else None
    return export if export is not None and export.plan_id == plan.id else None


def request_export(plan: Plan, version: PlanVersion, fmt: str, locale: str) -> PlanExport:
    """The export of this version in this format and language: the one that
    exists, or a new job. A failed one, or one whose file went missing, is
    tried again."""
    query = select(PlanExport).where(
        PlanExport.version_id == version.id, PlanExport.fmt == fmt, PlanExport.locale == locale
    )
    export = db.session.scalar(query)
    if export is None:
        export = PlanExport(plan_id=plan.id, version_id=version.id, fmt=fmt, locale=locale)
        try:
            with db.session.begin_nested():
                db.session.add(export)
                db.session.flush()
        except IntegrityError:  # someone asked at the same moment: theirs it is
            return db.session.scalar(query)
    elif export.state == "failed" or (export.state == "finished" and file_of(export) is None):
        export.state, export.error, export.stored_name = "queued", None, None
    else:
        return export
    enqueue_after_commit(
        db.session, "workers.exports.render_export", export.id, job_id=f"export-{export.id}"
    )
    return export


def run_export(export_id: int) -> PlanExport | None:
    """Render the document (the job). Safe to run twice: only a queued export is
    taken, and the file appears under its final name only once complete."""
    from . import services
    from .documents import render

    claimed = db.session.execute(
        update(PlanExport)
        .where(PlanExport.id == export_id, PlanExport.state == "queued")
        .values(state="running", started_at=utcnow())
    ).rowcount
    db.session.commit()
    export = db.session.get(PlanExport, export_id)
    if not claimed:
        return export
    try:
        version = export.version
        plan = db.session.get(Plan, export.plan_id)
        with force_locale(export.locale):
            content, _mimetype, _filename = render(
                export.fmt, plan, version, services.version_nodes(version)
            )
        name = f"{export.id}-{secrets.token_hex(8)}.{EXTENSIONS[export.fmt]}"
        partial = folder() / (name + ".part")
        partial.write_bytes(content)
        os.replace(partial, folder() / name)
    except Exception as error:
        db.session.rollback()
        export = db.session.get(PlanExport, export_id)
        with force_locale(export.locale):
            export.error = _(
                "The document could not be made (%(error)s).", error=type(error).__name__
            )
        export.state, export.finished_at = "failed", utcnow()
        db.session.commit()
        raise
    export.state, export.stored_name, export.size = "finished", name, len(content)
    export.finished_at = utcnow()
    db.session.commit()
    return export
