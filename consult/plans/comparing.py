"""Two versions of a plan compared item by item (followed by their stable
keys), and the change log a facilitator downloads."""

import difflib
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup

from ..diffing import diff_html
from .models import ChangeStatus, Plan, PlanNode, PlanVersion
from .services import version_nodes

# What the comparison counts and shows, in this order (unchanged nodes are not shown).
SHOWN_CHANGES = (ChangeStatus.CHANGED, ChangeStatus.ADDED, ChangeStatus.REMOVED, ChangeStatus.MOVED)


@dataclass
class NodeChange:
    status: ChangeStatus
    old: PlanNode | None
    new: PlanNode | None

    @property
    def shown(self) -> bool:
        return self.status in SHOWN_CHANGES

    @property
    def moved_from(self) -> str | None:
        """The reference a moved node had, when moving changed it."""
        if self.status == "moved" and self.old.ref != self.new.ref:
            return self.old.ref
        return None

    @property
    def node(self) -> PlanNode:
        return self.new or self.old

    @property
    def diff(self) -> Markup:
        if self.old is not None and self.new is not None:
            return diff_html(self.old.text, self.new.text)
        if self.new is not None:
            return Markup("<ins>{}</ins>").format(self.new.text)
        return Markup("<del>{}</del>").format(self.old.text)


def compare(old_version: PlanVersion, new_version: PlanVersion) -> list[NodeChange]:
    """Every node of both versions, matched by stable key, in the new order
    (removed nodes where they used to be). Moved items are followed by key."""
    old_nodes, new_nodes = version_nodes(old_version), version_nodes(new_version)
    old_by_key = {node.key: node for node in old_nodes}
    new_by_key = {node.key: node for node in new_nodes}
    common_old = [n.key for n in old_nodes if n.key in new_by_key]
    common_new = [n.key for n in new_nodes if n.key in old_by_key]
    in_order: set[str] = set()
    matcher = difflib.SequenceMatcher(a=common_old, b=common_new, autojunk=False)
    for block in matcher.get_matching_blocks():
        in_order.update(common_old[block.a : block.a + block.size])

    changes: list[NodeChange] = []
    for node in new_nodes:
        old = old_by_key.get(node.key)
        if old is None:
            status = ChangeStatus.ADDED
        elif node.key not in in_order or old.parent_key != node.parent_key:
            status = ChangeStatus.MOVED
        elif old.text != node.text or old.number != node.number:
            status = ChangeStatus.CHANGED
        else:
            status = ChangeStatus.UNCHANGED
        changes.append(NodeChange(status, old, node))

    # Removed nodes go back after the nearest earlier node that still exists.
    position = {change.node.key: index for index, change in enumerate(changes)}
    anchor_index = -1
    inserts: list[tuple[int, int, NodeChange]] = []
    for order, node in enumerate(old_nodes):
        if node.key in new_by_key:
            anchor_index = position[node.key]
        else:
            inserts.append((anchor_index, order, NodeChange(ChangeStatus.REMOVED, node, None)))
    # Inserting from the back keeps every earlier index valid and the old order.
    for anchor, _order, change in sorted(inserts, key=lambda x: (x[0], x[1]), reverse=True):
        changes.insert(anchor + 1, change)
    return changes


def changelog_markdown(
    plan: Plan, old: PlanVersion, new: PlanVersion, changes: list[NodeChange]
) -> str:
    """The change log as Markdown, for download."""
    labels = {
        "added": _("Added"),
        "removed": _("Removed"),
        "changed": _("Changed"),
        "moved": _("Moved"),
    }
    lines = [
        f"# {plan.title}",
        "",
        _("Changes from version %(old)d to version %(new)d", old=old.number, new=new.number),
        "",
    ]
    for change in changes:
        if change.status == "unchanged":
            continue
        node = change.node
        lines.append(f"## {node.ref} · {labels[change.status]}")
        lines.append("")
        if change.status == "changed" or (
            change.status == "moved" and change.old.text != change.new.text
        ):
            lines.append("- " + _("Before: %(text)s", text=change.old.text))
            lines.append("- " + _("After: %(text)s", text=change.new.text))
        else:
            lines.append(node.text)
        lines.append("")
    if len(lines) == 4:
        lines.append(_("No differences."))
    return "\n".join(lines) + "\n"
