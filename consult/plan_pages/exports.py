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
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..database import utcnow
from ..extensions import db
from ..leases import LeasedWork
from ..plan_translations.services import last_change, reading_nodes
from ..plans import documents, services
from ..plans.layout import line_length
from ..plans.models import Plan, PlanExport, PlanVersion

JOB_FORMATS = ("pdf", "docx", "odt")
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "odt": "odt"}

# An export whose worker died (no heartbeat for leases.LEASE) is taken up again
# when someone asks for it, or when an administrator retries its failed job.
WORK = LeasedWork(
    model=PlanExport,
    func_path="workers.exports.render_export",
    prefix="export",
    reset_failed=lambda: {"error": None, "stored_name": None},
)


def needs_job(fmt: str, version: PlanVersion, node_count: int, line_count: int = 0) -> bool:
    """Whether this document is made by a job: any of PDF, DOCX and ODT from
    PLAN_EXPORT_JOB_MIN_NODES nodes, and a PDF from PLAN_EXPORT_PDF_JOB_MIN_LINES
    printed lines (``line_count``), since its cost follows the lines."""
    config = current_app.config
    if fmt == "pdf" and line_count >= config["PLAN_EXPORT_PDF_JOB_MIN_LINES"]:
        return True
    return fmt in JOB_FORMATS and node_count >= config["PLAN_EXPORT_JOB_MIN_NODES"]


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


def request_export(
    plan: Plan, version: PlanVersion, fmt: str, locale: str, content_language: str = ""
) -> PlanExport:
    """The export of this version in this format and interface language (and,
    with ``content_language``, with the text translated into it): the one that
    exists, or a new job. A failed one, one whose file went missing, a
    translated one older than the latest translation, or one whose worker
    died, is made again."""
    width = line_length(plan.forum)
    query = select(PlanExport).where(
        PlanExport.version_id == version.id,
        PlanExport.fmt == fmt,
        PlanExport.locale == locale,
        PlanExport.content_language == content_language,
        PlanExport.line_length == width,
    )
    export = db.session.scalar(query)
    if export is None:
        export = PlanExport(
            plan_id=plan.id,
            version_id=version.id,
            fmt=fmt,
            locale=locale,
            content_language=content_language,
            line_length=width,
        )
        try:
            with db.session.begin_nested():
                db.session.add(export)
                db.session.flush()
        except IntegrityError:  # someone asked at the same moment: theirs it is
            return db.session.scalar(query)
    elif (
        export.state == "failed"
        or (export.state == "finished" and file_of(export) is None)
        or (export.state == "finished" and _translations_changed(plan, export))
    ):
        export.state, export.error, export.stored_name = "queued", None, None
        export.heartbeat_at = utcnow()
    else:
        WORK.take_up(export)
        return export
    WORK.enqueue(export)
    return export


def take_up_if_lost(export: PlanExport) -> bool:
    """Queue again an export whose worker died (the progress page asks)."""
    return WORK.take_up(export)


def _translations_changed(plan: Plan, export: PlanExport) -> bool:
    if not export.content_language:
        return False

    changed = last_change(plan, export.content_language)
    return changed is not None and export.finished_at is not None and changed > export.finished_at


def document_nodes(plan: Plan, version: PlanVersion, content_language: str = ""):
    """The nodes a document shows: the version's, or their translations."""
    nodes = services.version_nodes(version)
    if not content_language or content_language == version.language:
        return nodes

    return reading_nodes(plan, version, nodes, content_language)


def _end_transaction_keeping_objects() -> None:
    """End the job's transaction before the long render, keeping what it read
    loaded: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE),
    which would block the site's writes, and the heartbeat, while it renders."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def run_export(export_id: int) -> PlanExport | None:
    """Render the document (the job). Safe to run twice: only a queued export,
    or one whose worker died, is taken; the file appears under its final name
    only once complete."""
    claimed = WORK.claim(export_id)
    export = db.session.get(PlanExport, export_id)
    if not claimed:
        return export
    attempt = export.attempts
    try:
        with WORK.heartbeat(export_id), force_locale(export.locale):
            version = export.version
            plan = db.session.get(Plan, export.plan_id)
            nodes = list(document_nodes(plan, version, export.content_language))
            _end_transaction_keeping_objects()
            content, _mimetype, _filename = documents.render(export.fmt, plan, version, nodes)
        name = f"{export.id}-{secrets.token_hex(8)}.{EXTENSIONS[export.fmt]}"
        partial = folder() / (name + ".part")
        partial.write_bytes(content)
        os.replace(partial, folder() / name)
    except Exception as error:
        db.session.rollback()
        export = db.session.get(PlanExport, export_id)
        if export.state != "running" or export.attempts != attempt:
            raise  # another run took it over (this one was thought dead): its outcome stands
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
