"""A plan's settings for amendments: whether members may propose and comment
outside a consultation, the supports an amendment needs before it can be
admitted, and the working group in charge of each section."""

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..forums import services as forums
from ..forums.models import WorkingGroup
from ..plans import services as plans
from ..plans import short_names
from ..plans.models import Plan, PlanNode, SectionGroup
from .models import SupportThresholdKind

MAX_THRESHOLD = 10_000


def update_settings(
    actor,
    plan: Plan,
    *,
    open_for_input: bool,
    threshold: int,
    threshold_kind: str,
    short_name: str | None = None,
) -> None:
    """``short_name``: None keeps the plan's (a form without the field)."""
    forums.require_manage(actor, plan.forum)
    plans.require_not_archived(plan)
    if short_name is not None:
        short_names.rename(plan, short_name)
    if threshold_kind not in SupportThresholdKind._value2member_map_:
        raise InvalidInput(_("Unknown way of counting supports."))
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(_("The threshold must be between 0 and 10000."))
    plan.open_for_input = bool(open_for_input)
    plan.support_threshold = threshold
    plan.support_threshold_kind = threshold_kind
    record(
        "plan.settings",
        plan,
        actor=actor,
        forum=plan.forum,
        open=plan.open_for_input,
        threshold=threshold,
        kind=threshold_kind,
        short_name=plan.short_name,
    )


def assign_section(actor, plan: Plan, section_key: str, group_id: int | None) -> None:
    """Put a section in the hands of a working group (or of everyone)."""
    forums.require_manage(actor, plan.forum)
    plans.require_not_archived(plan)
    nodes = {n.key: n for n in plans.version_nodes(plans.get_version(plan))}
    node = nodes.get(section_key)
    if node is None or node.kind != "section":
        raise NotFound()
    existing = db.session.scalar(
        select(SectionGroup).where(
            SectionGroup.plan_id == plan.id, SectionGroup.section_key == section_key
        )
    )
    if group_id is None:
        if existing is not None:
            db.session.delete(existing)
        return
    group = db.session.get(WorkingGroup, group_id)
    if group is None or group.forum_id != plan.forum_id:
        raise NotFound()
    if existing is None:
        db.session.add(
            SectionGroup(plan_id=plan.id, section_key=section_key, working_group_id=group.id)
        )
    else:
        existing.working_group_id = group.id


def section_assignments(plan: Plan) -> dict[str, int]:
    """The working group in charge of each assigned section, by section key."""
    return dict(
        db.session.execute(
            select(SectionGroup.section_key, SectionGroup.working_group_id).where(
                SectionGroup.plan_id == plan.id
            )
        ).all()
    )


def group_section_keys(plan: Plan, group_id: int) -> set[str]:
    return {key for key, group in section_assignments(plan).items() if group == group_id}


def section_group_id(plan: Plan, nodes_by_key: dict[str, PlanNode], key: str | None) -> int | None:
    """The working group in charge of the nearest enclosing section that has one."""
    assignments = section_assignments(plan)
    node = nodes_by_key.get(key) if key else None
    while node is not None:
        if node.kind == "section" and node.key in assignments:
            return assignments[node.key]
        node = nodes_by_key.get(node.parent_key)
    return None
