"""Amendments collected outside the platform (in a meeting, by email), imported
from a CSV file by a facilitator. Each row is its own savepoint: a bad row is
reported with its line number and never aborts the good ones."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, IntegrityError

from ..accounts.services import clean_text
from ..errors import InvalidInput, PermissionDenied, ServiceError
from ..extensions import db
from ..forums import services as forums
from ..plans import services as plans
from ..plans.models import Plan
from ..uploads import ImportReport, RowResult, decode_text, read_csv
from .lifecycle import record_event
from .models import OPERATIONS, Amendment
from .proposing import clean_proposal, insert_numbered

COLUMNS = ("target", "operation", "text", "justification", "author", "coalition", "status")
REQUIRED = ("target", "operation", "text")
IMPORTABLE_STATUSES = ("submitted", "admitted", "accepted", "rejected")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000


class RowError(Exception):
    pass


def _author(forum, value: str) -> tuple[int | None, str]:
    """A member found by email, else the name (or address) as written."""
    value = clean_text(value)[:200]
    if "@" in value:
        try:
            email = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            return None, value
        membership = forums.membership_by_email(forum, email)
        if membership is not None:
            return membership.user_id, ""
    return None, value


def _import_row(actor, plan: Plan, nodes: dict, row: dict, report: ImportReport) -> str:
    target = clean_text(row.get("target"))
    operation = clean_text(row.get("operation")).lower()
    if operation not in OPERATIONS:
        raise RowError(
            _(
                "Unknown operation “%(value)s” (use %(choices)s).",
                value=operation,
                choices=", ".join(OPERATIONS),
            )
        )
    node = nodes.get(target)
    if node is None and (target or operation != "new_section"):
        raise RowError(_("There is no item %(ref)s in this version.", ref=target or "—"))
    text = clean_proposal(row.get("text"))
    if operation != "delete" and not text:
        raise RowError(_("The text is missing."))
    status = clean_text(row.get("status")).lower() or "submitted"
    if status not in IMPORTABLE_STATUSES:
        raise RowError(
            _(
                "Unknown status “%(value)s” (use %(choices)s).",
                value=status,
                choices=", ".join(IMPORTABLE_STATUSES),
            )
        )
    author_id, author_name = _author(plan.forum, row.get("author") or "")
    coalition = None
    if coalition_name := clean_text(row.get("coalition"))[:200]:
        coalition = forums.find_coalition(plan.forum, coalition_name)
        if coalition is None:
            coalition = forums.save_coalition(actor, plan.forum, coalition_name, None)
            report.new_coalitions.append(coalition.name)
    amendment = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=plan.current_version_id,
        target_key=node.key if node else None,
        target_ref=node.ref if node else "",
        operation=operation,
        original_text=node.text if node else "",
        proposed_text="" if operation == "delete" else text,
        justification=clean_proposal(row.get("justification")),
        language=plan.language,
        status=status,
        origin="import",
        author_id=author_id,
        author_name=author_name,
        coalition_id=coalition.id if coalition else None,
    )
    insert_numbered(amendment)
    amendment.submitted_at = amendment.created_at
    if status in ("accepted", "rejected"):
        amendment.decided_at = amendment.created_at
    record_event(amendment, actor, "", status, _("Imported from a file."))
    return amendment.label


def import_amendments(actor, plan: Plan, data: bytes) -> ImportReport:
    """Import offline amendments from CSV bytes. The caller commits."""
    if not forums.can_manage(actor, plan.forum):
        raise PermissionDenied(_("Only the forum's facilitators can import amendments."))
    report = ImportReport()
    if len(data) > MAX_BYTES:
        report.error = _("The file is too large (at most %(size)d MB).", size=MAX_BYTES // 2**20)
        return report
    try:
        table = read_csv(
            decode_text(data), max_rows=MAX_ROWS, header=lambda name: clean_text(name).lower()
        )
    except InvalidInput as error:
        report.error = error.message
        return report
    headers = table.headers
    missing = [column for column in REQUIRED if column not in headers]
    if missing:
        report.error = _(
            "The file must have a header row with the columns %(columns)s; missing: %(missing)s.",
            columns=", ".join(COLUMNS),
            missing=", ".join(missing),
        )
        return report
    version = plans.get_version(plan)
    nodes = {}
    for node in plans.version_nodes(version):
        nodes[node.ref] = node
        nodes.setdefault(node.key, node)
    for index, (line, row) in enumerate(table.rows):
        if index >= MAX_ROWS:
            report.error = _("Only the first %(count)d rows were read.", count=MAX_ROWS)
            break
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        label = clean_text(row.get("target"))[:60]
        savepoint = db.session.begin_nested()
        coalitions_before = len(report.new_coalitions)
        try:
            message = _import_row(actor, plan, nodes, row, report)
        except (RowError, ServiceError, DataError, IntegrityError) as error:
            savepoint.rollback()
            del report.new_coalitions[coalitions_before:]
            reason = (
                str(error)
                if isinstance(error, RowError | ServiceError)
                else _(
                    "This row could not be saved; check the lengths and characters of its cells."
                )
            )
            report.rows.append(RowResult(line, label, False, reason))
            continue
        savepoint.commit()
        report.rows.append(RowResult(line, label, True, message))
    return report
