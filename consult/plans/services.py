"""Plans and their versions: import, read, edit (always into a new version),
approve, and whether a plan is archived. Writing a version is in
``version_writing``, archiving and restoring in ``admin/plan_archiving``, comparing two
versions in ``comparing``."""

from pathlib import PurePath

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..config import LOCALES
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..forums.models import Forum
from ..inputs import clean_text
from . import importer, repairs, short_names, version_writing
from .import_lines import clean_inline, normalise
from .models import Plan, PlanNode, PlanVersion
from .parsed import ParsedPlan

MAX_NODE_TEXT = 20_000


# --- reading ------------------------------------------------------------------


def list_plans(forum: Forum) -> list[Plan]:
    return list(
        db.session.scalars(
            select(Plan)
            .options(joinedload(Plan.current_version))
            .where(Plan.forum_id == forum.id)
            .order_by(Plan.created_at.desc(), Plan.id.desc())
        )
    )


def get_plan(forum: Forum, plan_id) -> Plan:
    plan = db.session.get(Plan, plan_id) if isinstance(plan_id, int) else None
    if plan is None or plan.forum_id != forum.id:
        raise NotFound()
    return plan


def plan_for(user, forum_slug: str, plan_id) -> Plan:
    """The plan if ``user`` may read its forum (the same 404 otherwise)."""
    return get_plan(forums.get_forum_for(user, forum_slug), plan_id)


def versions(plan: Plan) -> list[PlanVersion]:
    return list(
        db.session.scalars(
            select(PlanVersion)
            .options(joinedload(PlanVersion.created_by))
            .where(PlanVersion.plan_id == plan.id)
            .order_by(PlanVersion.number.desc())
        )
    )


def get_version(plan: Plan, number=None) -> PlanVersion:
    """Version ``number`` of the plan, or its current version."""
    if number is None:
        version = plan.current_version
    elif isinstance(number, int):
        version = db.session.scalar(
            select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.number == number)
        )
    else:
        version = None
    if version is None:
        raise NotFound()
    return version


def version_nodes(version: PlanVersion) -> list[PlanNode]:
    """Every node of a version in document order: one query, whatever the size."""
    return list(
        db.session.scalars(
            select(PlanNode).where(PlanNode.version_id == version.id).order_by(PlanNode.position)
        )
    )


def section_nodes(version: PlanVersion) -> list[PlanNode]:
    """The version's headings in document order (what ``outline`` gives,
    without reading every node)."""
    return list(
        db.session.scalars(
            select(PlanNode)
            .where(PlanNode.version_id == version.id, PlanNode.kind == "section")
            .order_by(PlanNode.position)
        )
    )


def find_node(version: PlanVersion, reference: str) -> PlanNode:
    """A node by the reference people cite (``4.7``) or by its stable key."""
    reference = (reference or "").strip()
    node = db.session.scalar(
        select(PlanNode).where(
            PlanNode.version_id == version.id,
            (PlanNode.ref == reference) | (PlanNode.key == reference),
        )
    )
    if node is None:
        raise NotFound(_("There is no item %(ref)s in this version.", ref=reference))
    return node


def outline(nodes: list[PlanNode]) -> list[PlanNode]:
    """The headings, for the section navigation."""
    return [node for node in nodes if node.kind == "section"]


# --- import -----------------------------------------------------------------


def repair_source(text: str, fix: str) -> str:
    """The source with one of the preview's repairs made (``"join:16"``: see
    ``repairs.apply_fix``)."""
    kind, _sep, line = (fix or "").partition(":")
    try:
        return repairs.apply_fix(text, kind, int(line) if line.isdigit() else 0)
    except ValueError:
        raise InvalidInput(
            _("That repair no longer fits the text (it has changed): preview it again.")
        ) from None


def preview(text: str, title: str | None = None) -> ParsedPlan:
    if not (text or "").strip():
        raise InvalidInput(_("The document is empty."))
    return importer.parse(text, title)


def import_plan(
    actor, forum: Forum, text: str, *, title: str = "", language: str = "es", filename: str = ""
) -> Plan:
    """A new plan from a document's text; its first version is the import."""
    forum_permissions.require_manage_open(actor, forum)
    if language not in LOCALES:
        raise InvalidInput(_("Unknown language."))
    title = clean_text(title, multiline=False)
    parsed = preview(text, title or None)
    if not any(True for _node in parsed.walk()):
        raise InvalidInput(_("No text was found in the document."))
    stem = clean_text(PurePath(filename).stem, multiline=False)
    plan_title = (parsed.title or title or stem or _("Untitled plan"))[:300]
    plan = Plan(
        forum_id=forum.id,
        title=plan_title,
        short_name=short_names.suggest_for(forum.id, plan_title),
        status="draft",
        language=language,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(plan)
    db.session.flush()
    note = _("Imported from %(name)s", name=filename) if filename else _("Imported")
    version_writing.write_version(
        plan,
        version_writing.rows_from_parsed(parsed),
        title=plan_title,
        origin="import",
        actor=actor,
        note=note,
    )
    return plan


def replace_text(actor, plan: Plan, base: PlanVersion, text: str, note: str = "") -> PlanVersion:
    """A new version from the whole document edited as text (keys kept where possible)."""
    forum_permissions.require_manage(actor, plan.forum)
    _require_editable(plan)
    parsed = preview(text, base.title)
    keys = version_writing.match_keys(parsed, version_nodes(base))
    rows = version_writing.rows_from_parsed(parsed, keys)
    return version_writing.write_version(
        plan,
        rows,
        title=parsed.title or base.title,
        origin="edit",
        actor=actor,
        note=note or _("Edited by hand"),
        based_on=base,
    )


def edit_node(
    actor, plan: Plan, base: PlanVersion, key: str, new_text: str, note: str = ""
) -> PlanVersion:
    """A new version in which one node's text is replaced."""
    forum_permissions.require_manage(actor, plan.forum)
    _require_editable(plan)
    new_text = clean_inline(normalise(new_text or "").replace("\n", " "))
    if not new_text:
        raise InvalidInput(_("The text cannot be empty; to remove an item, propose its deletion."))
    if len(new_text) > MAX_NODE_TEXT:
        raise InvalidInput(
            _("The text is too long (at most %(count)d characters).", count=MAX_NODE_TEXT)
        )
    nodes = version_nodes(base)
    if not any(node.key == key for node in nodes):
        raise NotFound()
    rows = [
        {
            "key": node.key,
            "parent_key": node.parent_key,
            "position": node.position,
            "depth": node.depth,
            "kind": node.kind,
            "number": node.number,
            "ref": node.ref,
            "text": new_text if node.key == key else node.text,
        }
        for node in nodes
    ]
    return version_writing.write_version(
        plan, rows, title=base.title, origin="edit", actor=actor, note=note, based_on=base
    )


def approve(plan: Plan, version: PlanVersion, reason: str) -> None:
    """The assembly approved ``version``: it becomes the plan's final text, and the
    plan is read-only from now on (no edits, amendments, supports or comments)."""
    _require_editable(plan)
    if version.plan_id != plan.id:
        raise NotFound()
    version.is_final = True
    plan.status = "approved"
    plan.open_for_input = False
    record("plan.approved", plan, forum=plan.forum, version=version.number, reason=reason)


def edit_refusal(plan: Plan) -> str | None:
    """Why the plan's text cannot be edited by hand now (None when it can): the
    rule the editing services enforce and the plan page asks before offering."""
    if refusal := archived_refusal(plan):
        return refusal
    if plan.status == "approved":
        return _("This plan is approved or archived; its text can no longer change.")
    return None


def _require_editable(plan: Plan) -> None:
    if refusal := edit_refusal(plan):
        raise Conflict(refusal)


# --- archiving ----------------------------------------------------------------


def archived_refusal(plan: Plan) -> str | None:
    """Why nothing can be written on this plan (None when it is not archived):
    the one predicate of every service that writes on a plan, its amendments,
    comments or translations. An archived plan stays readable where it was,
    as does every plan of an archived forum."""
    if refusal := forum_permissions.archived_refusal(plan.forum):
        return refusal
    if plan.status == "archived":
        return _(
            "This plan is archived: it can still be read, but nothing can be added "
            "to it or changed."
        )
    return None


def require_not_archived(plan: Plan) -> None:
    if refusal := archived_refusal(plan):
        raise Conflict(refusal)
