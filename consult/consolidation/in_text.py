"""The plan's text together with its amendments, as Antragsgrün offers it: two
readings of the current version besides the plain text (issue 14).

* **With amendments** (``amendments_in_text``): every item followed by the
  amendments to it that the reader may see, each as its word diff, filtered
  by status (the open ones unless told) and by working group (the sections
  the group is in charge of). The text keeps the version's line numbers: it
  *is* the version, annotated.
* **As if the accepted amendments were applied** (``accepted_reading``): the
  text with the accepted amendments that no consolidated draft has applied
  yet, merged by the consolidation's own functions (``consolidation.merge``),
  so the preview shows what the next consolidated draft would hold, conflicts
  included. It is a preview, not the plan: see ``accepted_reading`` for what
  its line numbers mean.

Neither reading is kept in the page cache (the amendments change far more
often than a version), but each costs a fixed number of statements whatever
the number of items and amendments: the version's nodes, the amendments
with their authors, and the working groups' sections when asked for.
"""

import itertools
from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import pagecache
from ..amendments import plan_settings
from ..amendments.models import OPEN_STATUSES, Amendment, AmendmentStatus
from ..amendments.queries import keys_in_sections, supports_per_amendment
from ..diffing import diff_html
from ..errors import InvalidInput
from ..extensions import db
from ..plans import layout
from ..plans import services as plans
from ..plans.models import Plan, PlanNode, PlanVersion
from . import merge
from . import services as consolidation

# ?show= on the plan page: the plain text (nothing), or one of these.
WITH_AMENDMENTS = "amendments"
ACCEPTED = "accepted"
READINGS = (WITH_AMENDMENTS, ACCEPTED)

# The statuses "with amendments" can be filtered by, in the order offered; the
# default is every open one. Drafts are never shown (only their authors see
# them, and not in the plan's text).
FILTER_STATUSES = (
    AmendmentStatus.SUBMITTED,
    AmendmentStatus.ADMITTED,
    AmendmentStatus.VOTING,
    AmendmentStatus.ACCEPTED,
    AmendmentStatus.REJECTED,
)


def asked_reading(value: str | None) -> str | None:
    """The reading ``?show=`` asks for (None: the plain text)."""
    if not value:
        return None
    if value not in READINGS:
        raise InvalidInput(_("There is no such way to show the plan."))
    return value


# --- the text with its amendments -----------------------------------------------------


@dataclass(frozen=True)
class Filters:
    status: str | None = None  # None: every open status
    group_id: int | None = None

    @property
    def statuses(self) -> tuple[str, ...]:
        return (self.status,) if self.status else OPEN_STATUSES


def filters(status: str | None, group: str | None, group_ids: set[int]) -> Filters:
    """The filters of ``?status=&group=``, checked (a translated 400 otherwise)."""
    status = status or None
    if status is not None and status not in FILTER_STATUSES:
        raise InvalidInput(_("Choose one of the statuses offered."))
    group_id = None
    if group:
        if not (group.isascii() and group.isdigit() and len(group) < 10):
            raise InvalidInput(_("Choose one of the working groups offered."))
        group_id = int(group)
        if group_id not in group_ids:
            raise InvalidInput(_("Choose one of the working groups offered."))
    return Filters(status, group_id)


@dataclass
class ShownAmendment:
    amendment: Amendment
    diff: Markup  # the word diff of its change (its whole text for a new one)


@dataclass
class AnnotatedNode:
    entry: layout.NumberedNode  # the node and its numbered lines in the version
    amendments: list[ShownAmendment]


@dataclass
class TextWithAmendments:
    nodes: list[AnnotatedNode]
    # Amendments whose item is not in this version (a new section at the end,
    # an item gone since): listed after the text.
    elsewhere: list[ShownAmendment]
    total: int  # amendments shown
    supports: dict[int, int]  # supports of each amendment shown, by id

    @property
    def items_with_amendments(self) -> int:
        return sum(1 for node in self.nodes if node.amendments)


def kept_diff(old: str, new: str) -> Markup:
    """``diffing.diff_html``, kept in this process's memory by the texts it
    compares (a long diff takes a while, and the same ones come back)."""
    return pagecache.in_memory(
        pagecache.make_key("word-diff", old, new), lambda: diff_html(old, new)
    )


def amendment_diff(amendment: Amendment) -> Markup:
    """What an amendment changes, as the amendment's page shows it: the word
    diff of a replacement, the deleted text, the new text."""
    if amendment.operation == "delete":
        return Markup("<del>{}</del>").format(amendment.original_text)
    if amendment.operation != "replace":
        return Markup("<ins>{}</ins>").format(amendment.proposed_text)
    return kept_diff(amendment.original_text, amendment.proposed_text)


def numbered_nodes(plan: Plan, version: PlanVersion, nodes: list[PlanNode]) -> dict:
    """Each node's ``layout.NumberedNode`` by key, as the plain text numbers
    them. The lines of a version never change: they are kept in this
    process's memory (wrapping a long plan takes a good part of a second)."""

    def lines() -> dict[str, list]:
        numbered = layout.number_lines(nodes, layout.line_length(plan.forum))
        return {entry.node.key: entry.lines for entry in numbered}

    key = pagecache.make_key(
        "numbered-lines", version.id, version.created_at, layout.line_length(plan.forum)
    )
    kept = pagecache.in_memory(
        key, lines, size=lambda found: sum(len(t) + 8 for ls in found.values() for _n, t in ls)
    )
    return {node.key: layout.NumberedNode(node, kept[node.key]) for node in nodes}


def amendments_in_text(plan: Plan, version: PlanVersion, chosen: Filters) -> TextWithAmendments:
    """The version's nodes, each with the amendments to it that ``chosen``
    keeps. With a working group, only the sections it is in charge of (and
    what is in them) are shown. Three statements (nodes, amendments, their
    supports), four with a group."""
    nodes = plans.version_nodes(version)
    if chosen.group_id is not None:
        in_group = set(
            keys_in_sections(nodes, plan_settings.group_section_keys(plan, chosen.group_id))
        )
        shown_nodes = [node for node in nodes if node.key in in_group]
    else:
        shown_nodes = nodes
    numbered = numbered_nodes(plan, version, nodes)
    by_target: dict[str | None, list[ShownAmendment]] = {}
    amendments = _amendments(plan, chosen.statuses)
    for amendment in amendments:
        by_target.setdefault(amendment.target_key, []).append(
            ShownAmendment(amendment, amendment_diff(amendment))
        )
    annotated = [AnnotatedNode(numbered[node.key], by_target.pop(node.key, [])) for node in nodes]
    shown_keys = {node.key for node in shown_nodes}
    annotated = [node for node in annotated if node.entry.node.key in shown_keys]
    # With a group, amendments to items outside its sections are not its own.
    elsewhere = [] if chosen.group_id is not None else list(itertools.chain(*by_target.values()))
    total = sum(len(node.amendments) for node in annotated) + len(elsewhere)
    supports = supports_per_amendment([amendment.id for amendment in amendments])
    return TextWithAmendments(annotated, elsewhere, total, supports)


def _amendments(plan: Plan, statuses) -> list[Amendment]:
    """The plan's amendments in these statuses (never drafts, nor accepted ones
    that a consolidated draft has applied: they are the text now), by number,
    with what their line shows (author, coalition)."""
    statuses = [status for status in statuses if status != AmendmentStatus.DRAFT]
    return list(
        db.session.scalars(
            select(Amendment)
            .options(
                joinedload(Amendment.author),
                joinedload(Amendment.coalition),
            )
            .where(
                Amendment.plan_id == plan.id,
                Amendment.status.in_(statuses),
                Amendment.applied_version_id.is_(None),
            )
            .order_by(Amendment.number)
        )
    )


# --- as if the accepted amendments were applied -----------------------------------------


@dataclass
class PreviewNode:
    """A node of the preview: ``entry`` is the version's node with its numbered
    lines when the node is in the version; ``changed_by`` the accepted
    amendments that changed it or added it; ``removed_before`` the version's
    nodes that the amendments delete, shown just before it."""

    row: dict  # key, parent_key, depth, kind, number, ref, text (merge's rows)
    entry: layout.NumberedNode | None
    changed_by: list[merge.Change] = field(default_factory=list)
    before: str = ""  # the version's text of a changed node
    removed_before: list[tuple[layout.NumberedNode, list[merge.Change]]] = field(
        default_factory=list
    )

    @property
    def is_new(self) -> bool:
        return self.entry is None

    @property
    def is_changed(self) -> bool:
        return bool(self.changed_by)

    @property
    def diff(self) -> Markup:
        return kept_diff(self.before, self.row["text"])


@dataclass
class AcceptedReading:
    nodes: list[PreviewNode]
    removed_last: list[tuple[layout.NumberedNode, list[merge.Change]]]  # after every node
    applied: list[merge.Change]
    conflicts: list[merge.MergeConflict]

    @property
    def changed_nodes(self) -> int:
        return sum(1 for node in self.nodes if node.is_changed)


def _rows(nodes: list[PlanNode]) -> list[dict]:
    keys = ("key", "parent_key", "depth", "kind", "number", "ref", "text")
    return [{name: getattr(node, name) for name in keys} for node in nodes]


def accepted_reading(plan: Plan, version: PlanVersion) -> AcceptedReading:
    """The current version as it would read with every accepted amendment
    that no consolidated draft has applied yet: what the consolidation would
    write (the same merge, the same conflicts), computed per request and never
    stored. Two statements.

    Line numbers belong to the version, and a preview is not a version: the
    nodes it leaves as they are keep the version's numbers (a reader can cite
    them, and find them in the PDF); a changed node shows, in the margin, the
    range of the version's lines it replaces; a new node shows none. The
    references printed beside the nodes are the version's too (a new item's
    number is decided when a consolidated draft renumbers its list), so that
    "4.7" in the preview is "4.7" in the plan.
    """
    nodes = plans.version_nodes(version)
    pending = consolidation.pending_amendments(plan)
    counter = itertools.count(1)
    result = merge.apply_changes(
        _rows(nodes), [merge.Change.of(a) for a in pending], lambda: f"preview-{next(counter)}"
    )
    numbered = numbered_nodes(plan, version, nodes)
    changed: dict[str, list[merge.Change]] = {}
    for applied in result.applied:
        changed.setdefault(applied.key, []).append(applied.change)
    kept = {row["key"] for row in result.rows}
    preview = [
        PreviewNode(
            row=row,
            entry=numbered.get(row["key"]),
            changed_by=changed.get(row["key"], []),
            before=numbered[row["key"]].node.text if row["key"] in numbered else "",
        )
        for row in result.rows
    ]
    # A removed node is shown where it was: before the next node kept after it
    # (after what was inserted in its place or after the node before it).
    at = {node.row["key"]: node for node in preview}
    waiting: list[tuple[layout.NumberedNode, list[merge.Change]]] = []
    last_changes: list[merge.Change] = []
    for node in nodes:
        if node.key in kept:
            at[node.key].removed_before, waiting = waiting, []
            continue
        # What hangs under a deleted node goes with it, by the same amendments.
        last_changes = changed.get(node.key) or last_changes
        waiting.append((numbered[node.key], last_changes))
    return AcceptedReading(
        preview, waiting, [applied.change for applied in result.applied], result.conflicts
    )
