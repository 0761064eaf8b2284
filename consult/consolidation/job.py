"""The consolidation job: builds the plan's next version from its accepted
amendments, carries the amendments still open over to it, and writes the report.

The job reads everything first and writes the version, the amendments and the
report in one transaction at the end, so a failure (or a worker killed half way)
leaves the plan as it was; only the progress figures are committed on the way.
It holds its row by a lease (``services.WORK``): claimed, kept alive by a
heartbeat, and taken up again if its worker dies.
"""

import time
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..amendments.models import Amendment
from ..audit.services import record
from ..database import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..forums.models import Membership
from ..notifications.services import notify_many
from ..plans import services as plans
from ..plans import version_writing
from ..plans.models import Plan, PlanVersion
from . import merge
from .carrying_over import carry_over_open_amendments
from .models import Consolidation
from .services import WORK, pending_amendments

# The progress shown while the job runs is written at most this often (each
# write is a commit, which costs the session a pass over everything it holds).
PROGRESS_EVERY = 1.0  # seconds


def run(consolidation_id: int) -> Consolidation | None:
    """Build the consolidated draft. Safe to run twice: a finished or failed
    consolidation is left alone, and a rerun after a crash starts again from a
    plan that nothing was written to."""
    claimed = WORK.claim(consolidation_id)
    consolidation = db.session.get(Consolidation, consolidation_id)
    if not claimed:
        return consolidation
    attempt = consolidation.attempts
    try:
        with WORK.heartbeat(consolidation_id):
            _build(consolidation)
    except Exception as error:
        db.session.rollback()
        _fail(consolidation_id, attempt, error)
        raise
    return consolidation


def _fail(consolidation_id: int, attempt: int, error: Exception) -> None:
    consolidation = db.session.get(Consolidation, consolidation_id)
    if consolidation.state != "running" or consolidation.attempts != attempt:
        return  # another run took it over (this one was thought dead): its outcome stands
    if isinstance(error, ServiceError):
        reason = str(error.message)
    else:
        reason = _(
            "An unexpected error stopped the job (%(error)s). The plan is unchanged.",
            error=type(error).__name__,
        )
    consolidation.state, consolidation.active_plan_id = "failed", None
    consolidation.error, consolidation.finished_at = reason[:2000], utcnow()
    db.session.commit()


def _progress(consolidation_id: int):
    """The merge's progress callback: writes how many items are done, at most
    every PROGRESS_EVERY seconds."""
    last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < PROGRESS_EVERY:
            return
        last = now
        db.session.execute(
            update(Consolidation)
            .where(Consolidation.id == consolidation_id)
            .values(items_done=done)
        )
        db.session.commit()

    return report


@dataclass
class _Base:
    """What the job reads before it merges: the version it builds on, as plain
    rows, and the accepted amendments, as the merge's changes."""

    version: PlanVersion
    rows: list[dict]
    old_refs: dict[str, str]
    changes: list[merge.Change]
    authors: dict[int, str]


@dataclass
class _Written:
    """What the job wrote: the new version (None when nothing applied) and the
    open amendments carried over to it or handed back to their authors."""

    version: PlanVersion | None = None
    carried: list[Amendment] = field(default_factory=list)
    revise: list[Amendment] = field(default_factory=list)


def _build(consolidation: Consolidation) -> None:
    plan = consolidation.plan
    base = _read_base(consolidation, plan)
    # From here on only the plain rows and changes are read: the nodes and
    # amendments loaded above are expired by the commits and never loaded again.
    result = merge.apply_changes(
        base.rows, base.changes, version_writing.new_key, progress=_progress(consolidation.id)
    )
    written = _Written()
    if result.applied:
        written = _write_version(consolidation, plan, base.version, result)
    consolidation.report = _report(base, result, written)
    _mark_finished(consolidation, result, written)
    _announce(consolidation, plan, result, written.version)
    db.session.commit()


def _read_base(consolidation: Consolidation, plan: Plan) -> _Base:
    """Read the plan's current version and its pending amendments, and commit
    how many items there are to go through."""
    version = plans.get_version(plan)
    nodes = plans.version_nodes(version)
    rows = [
        {
            "key": node.key,
            "parent_key": node.parent_key,
            "depth": node.depth,
            "kind": node.kind,
            "number": node.number,
            "ref": node.ref,
            "text": node.text,
        }
        for node in nodes
    ]
    pending = pending_amendments(plan)
    base = _Base(
        version=version,
        rows=rows,
        old_refs={node.key: node.ref for node in nodes},
        changes=[merge.Change.of(amendment) for amendment in pending],
        authors={amendment.id: amendment.author_display for amendment in pending},
    )
    consolidation.base_version_id, consolidation.items_total = version.id, len(rows)
    db.session.commit()
    return base


def _write_version(
    consolidation: Consolidation, plan: Plan, base: PlanVersion, result: merge.Result
) -> _Written:
    """The plan's next version from the merged rows, its amendments marked
    applied, and the open ones moved onto it."""
    requester = consolidation.requested_by
    locale = requester.locale if requester is not None else plan.language
    with force_locale(locale):
        note = _("Consolidated draft: %(count)d amendments applied.", count=len(result.applied))
    version = version_writing.write_version(
        plan,
        result.rows,
        title=base.title,
        origin="consolidation",
        actor=requester,
        note=note,
        based_on=base,
    )
    db.session.execute(
        update(Amendment)
        .where(Amendment.id.in_({applied.change.id for applied in result.applied}))
        .values(applied_version_id=version.id)
        .execution_options(synchronize_session=False)
    )
    carried, revise = carry_over_open_amendments(plan, version, result.rows)
    return _Written(version, carried, revise)


def _report(base: _Base, result: merge.Result, written: _Written) -> dict:
    """The report shown on the consolidation's page: what was applied, where
    amendments collided, and what became of the amendments still open."""
    new_refs = {row["key"]: row["ref"] for row in result.rows}
    return {
        "applied": [
            {
                "amendment": applied.change.id,
                "label": applied.change.label,
                "author": base.authors[applied.change.id],
                "operation": applied.change.operation,
                "key": applied.key,
                "ref": new_refs.get(applied.key) or base.old_refs.get(applied.key, ""),
                "before": applied.before,
                "after": applied.after,
            }
            for applied in result.applied
        ],
        "conflicts": [
            {
                "key": conflict.key,
                "ref": base.old_refs.get(conflict.key or "", conflict.ref),
                "reason": conflict.reason,
                "amendments": [change.id for change in conflict.changes],
                "labels": [change.label for change in conflict.changes],
            }
            for conflict in result.conflicts
        ],
        "carried_over": [{"amendment": a.id, "label": a.label} for a in written.carried],
        "revise": [{"amendment": a.id, "label": a.label} for a in written.revise],
    }


def _mark_finished(consolidation: Consolidation, result: merge.Result, written: _Written) -> None:
    version = written.version
    consolidation.version_id = version.id if version else None
    consolidation.applied_count = len(result.applied)
    consolidation.conflict_count = len(result.conflicts)
    consolidation.rebased_count = len(written.carried)
    consolidation.revise_count = len(written.revise)
    consolidation.items_done = consolidation.items_total
    consolidation.state, consolidation.active_plan_id = "finished", None
    consolidation.finished_at = utcnow()


def _announce(consolidation: Consolidation, plan: Plan, result: merge.Result, version) -> None:
    """The audit log's entry, and the forum's members told a draft is ready."""
    record(
        "plan.consolidated",
        consolidation,
        actor=consolidation.requested_by,
        forum=plan.forum,
        version=version.number if version else None,
        applied=len(result.applied),
        conflicts=len(result.conflicts),
    )
    if version is not None:
        notify_many(
            select(Membership.user_id).where(Membership.forum_id == plan.forum_id),
            "draft_ready",
            plan,
            forum=plan.forum,
            title=plan.title,
            number=version.number,
        )
