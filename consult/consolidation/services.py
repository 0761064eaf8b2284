"""Consolidated drafts: a facilitator asks, a job builds the plan's next version
from its accepted amendments, and the amendments still open are carried over
to it (or handed back to their authors where they collide).

The job reads everything first and writes the version, the amendments and the
report in one transaction at the end, so a failure (or a worker killed half way)
leaves the plan as it was; only the progress figures are committed on the way.
"""

import time
from datetime import timedelta
from types import SimpleNamespace

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..amendments import rebasing
from ..amendments.models import OPEN_STATUSES, Amendment
from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, NotFound, ServiceError
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums.models import Membership
from ..leases import LeasedWork
from ..notifications.services import notify_many
from ..plans import services as plans
from ..plans import version_writing
from ..plans.models import Plan, PlanVersion
from . import merge
from .models import Consolidation

# A run silent for this long (no heartbeat) died with its worker: the job may
# be taken again (nothing of it was written). Longer than an export's lease:
# two runs at once would both try to write the plan's next version.
WORK = LeasedWork(
    model=Consolidation,
    func_path="workers.consolidation.consolidate",
    prefix="consolidate",
    # A failed one run again (an administrator's retry) builds from the plan as
    # it is then, and holds the plan again (refused while another one does).
    reset_failed=lambda: {
        "active_plan_id": Consolidation.plan_id,
        "error": None,
        "finished_at": None,
    },
    lease=timedelta(minutes=10),
)
# The progress shown while the job runs is written at most this often (each
# write is a commit, which costs the session a pass over everything it holds).
PROGRESS_EVERY = 1.0  # seconds

CONFLICT_REASONS = {
    "overlap": _l("These amendments change the same words."),
    "changed_since": _l("The item changed where the amendment changes it."),
    "delete_and_edit": _l("One amendment deletes the item, another changes it."),
    "target_gone": _l("The item is no longer in the plan."),
}


# --- reading ---------------------------------------------------------------------------


def get_consolidation(user, forum_slug: str, plan_id, consolidation_id) -> Consolidation:
    plan = plans.plan_for(user, forum_slug, plan_id)
    consolidation = (
        db.session.get(Consolidation, consolidation_id)
        if isinstance(consolidation_id, int)
        else None
    )
    if consolidation is None or consolidation.plan_id != plan.id:
        raise NotFound()
    return consolidation


def recent(plan: Plan, limit: int = 10) -> list[Consolidation]:
    return list(
        db.session.scalars(
            select(Consolidation)
            .options(joinedload(Consolidation.version), joinedload(Consolidation.requested_by))
            .where(Consolidation.plan_id == plan.id)
            .order_by(Consolidation.id.desc())
            .limit(limit)
        )
    )


def pending_amendments(plan: Plan) -> list[Amendment]:
    """Accepted amendments that no consolidated version has applied yet (a
    sub-amendment changes its parent's text, so only parents are applied)."""
    return list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == plan.id,
                Amendment.status == "accepted",
                Amendment.applied_version_id.is_(None),
                Amendment.parent_id.is_(None),
            )
            .order_by(Amendment.number)
        )
    )


# --- asking ----------------------------------------------------------------------------


def request_refusal(actor, plan: Plan, *, by_command: bool = False) -> str | None:
    """Why ``actor`` may not ask for a consolidated draft of ``plan`` now, or None."""
    if not by_command and not forum_permissions.can_manage(actor, plan.forum):
        return _("Only the forum's facilitators can ask for a consolidated draft.")
    if plan.status in ("approved", "archived"):
        return _("This plan is approved or archived; its text can no longer change.")
    return None


def request(actor, plan: Plan, *, by_command: bool = False) -> tuple[Consolidation, bool]:
    """Ask for the next consolidated draft; returns it and whether it is new.

    While one is queued or running for this plan, asking again returns that one
    (two facilitators clicking at once start one job). ``by_command``: asked
    from the command line, where there is no signed-in facilitator.
    """
    if not by_command:
        forum_permissions.require_manage(actor, plan.forum)
    if refusal := request_refusal(actor, plan, by_command=by_command):
        raise Conflict(refusal)
    consolidation = Consolidation(
        plan_id=plan.id,
        active_plan_id=plan.id,
        requested_by_id=getattr(actor, "id", None),
        base_version_id=plan.current_version_id,
        report={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(consolidation)
            db.session.flush()
    except IntegrityError:
        running = db.session.scalar(
            select(Consolidation).where(Consolidation.active_plan_id == plan.id)
        )
        if running is None:  # it finished in the meantime: ask again
            return request(actor, plan, by_command=by_command)
        # Its worker died, or its job never reached the queue: run it again
        # (nothing of it was written).
        WORK.take_up(running)
        return running, False
    record("plan.consolidation_requested", consolidation, actor=actor, forum=plan.forum)
    WORK.enqueue(consolidation)
    return consolidation, True


# --- the job ---------------------------------------------------------------------------


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


def _change(amendment: Amendment) -> merge.Change:
    return merge.Change(
        id=amendment.id,
        label=amendment.label,
        number=amendment.number,
        operation=amendment.operation,
        target_key=amendment.target_key,
        original_text=amendment.original_text,
        proposed_text=amendment.proposed_text,
    )


def _build(consolidation: Consolidation) -> None:
    plan = consolidation.plan
    base = plans.get_version(plan)
    nodes = plans.version_nodes(base)
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
    old_refs = {node.key: node.ref for node in nodes}
    pending = pending_amendments(plan)
    changes = [_change(amendment) for amendment in pending]
    authors = {amendment.id: amendment.author_display for amendment in pending}
    consolidation.base_version_id, consolidation.items_total = base.id, len(rows)
    db.session.commit()
    # From here on only the plain rows and changes are read: the nodes and
    # amendments loaded above are expired by the commits and never loaded again.

    result = merge.apply_changes(
        rows, changes, version_writing.new_key, progress=_progress(consolidation.id)
    )
    version = None
    carried, revise = [], []
    if result.applied:
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
        carried, revise = _carry_over_open_amendments(plan, version, result.rows)

    new_refs = {row["key"]: row["ref"] for row in result.rows}
    consolidation.report = {
        "applied": [
            {
                "amendment": applied.change.id,
                "label": applied.change.label,
                "author": authors[applied.change.id],
                "operation": applied.change.operation,
                "key": applied.key,
                "ref": new_refs.get(applied.key) or old_refs.get(applied.key, ""),
                "before": applied.before,
                "after": applied.after,
            }
            for applied in result.applied
        ],
        "conflicts": [
            {
                "key": conflict.key,
                "ref": old_refs.get(conflict.key or "", conflict.ref),
                "reason": conflict.reason,
                "amendments": [change.id for change in conflict.changes],
                "labels": [change.label for change in conflict.changes],
            }
            for conflict in result.conflicts
        ],
        "carried_over": [{"amendment": a.id, "label": a.label} for a in carried],
        "revise": [{"amendment": a.id, "label": a.label} for a in revise],
    }
    consolidation.version_id = version.id if version else None
    consolidation.applied_count = len(result.applied)
    consolidation.conflict_count = len(result.conflicts)
    consolidation.rebased_count = len(carried)
    consolidation.revise_count = len(revise)
    consolidation.items_done = consolidation.items_total
    consolidation.state, consolidation.active_plan_id = "finished", None
    consolidation.finished_at = utcnow()
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
    db.session.commit()


def _carry_over_open_amendments(
    plan: Plan, version: PlanVersion, rows: list[dict]
) -> tuple[list[Amendment], list[Amendment]]:
    """Amendments still open are moved onto the new version: carried over where
    their item changed elsewhere, handed back to the author where it changed at
    their words or disappeared. Amendments in a running vote keep the text the
    vote is about (the next consolidation carries them over when accepted)."""
    by_key = {row["key"]: row for row in rows}
    carried, revise = [], []
    open_amendments = db.session.scalars(
        select(Amendment).where(
            Amendment.plan_id == plan.id,
            Amendment.status.in_([s for s in OPEN_STATUSES if s != "voting"]),
            Amendment.base_version_id != version.id,
        )
    ).all()
    # The new version's nodes as written (key, ref and text are all that is read).
    nodes_by_key = {key: SimpleNamespace(**row) for key, row in by_key.items()}
    moved: list[tuple[Amendment, str | None]] = []  # onto the new version, text unchanged
    to_carry = []  # (amendment, node, proposed): carried over in one go
    for amendment in open_amendments:
        node = nodes_by_key.get(amendment.target_key) if amendment.target_key else None
        if amendment.target_key and amendment.target_key not in by_key:
            rebasing.ask_for_revision(
                amendment,
                _(
                    "Version %(number)d no longer has the item this amendment changes.",
                    number=version.number,
                ),
            )
            revise.append(amendment)
            continue
        if node is None or amendment.operation in ("insert_after", "new_section"):
            moved.append((amendment, node.ref if node is not None else None))
            continue
        if node.text == amendment.original_text:
            moved.append((amendment, node.ref))
            continue
        if amendment.operation == "delete":
            proposed = ""  # still "delete this item", whatever it now says
        else:
            proposed = merge.carry_over(amendment.original_text, amendment.proposed_text, node.text)
        if proposed is None:
            rebasing.ask_for_revision(
                amendment,
                _(
                    "Version %(number)d changed the words this amendment changes.",
                    number=version.number,
                ),
            )
            revise.append(amendment)
        else:
            carried.append(amendment)
            to_carry.append((amendment, node, proposed))
    rebasing.carry_over_many(version, to_carry)
    _move_unchanged(version, moved)
    return carried, revise


def _move_unchanged(version: PlanVersion, moved: list[tuple[Amendment, str | None]]) -> None:
    """Point amendments whose words are untouched at the new version (and their
    item's new reference): one statement for all of them, with the same guard
    as the ORM's, so an amendment edited meanwhile makes the job fail (and be
    run again) instead of being overwritten."""
    if not moved:
        return
    table = Amendment.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lock_version == bindparam("b_lock"))
        .values(
            base_version_id=version.id,
            target_ref=func.coalesce(
                bindparam("b_ref", type_=table.c.target_ref.type), table.c.target_ref
            ),
            lock_version=table.c.lock_version + 1,
        )
    )
    params = [{"b_id": a.id, "b_lock": a.lock_version, "b_ref": ref} for a, ref in moved]
    changed = db.session.execute(statement, params).rowcount
    if changed != len(params):
        raise StaleDataError(
            f"{len(params) - changed} of {len(params)} amendments changed during the consolidation"
        )
    for amendment, ref in moved:
        # What the rows now hold (the job reads them no more, but keep them true).
        set_committed_value(amendment, "base_version_id", version.id)
        set_committed_value(amendment, "lock_version", amendment.lock_version + 1)
        if ref is not None:
            set_committed_value(amendment, "target_ref", ref)


def conflict_reason(reason: str) -> str:
    return str(CONFLICT_REASONS.get(reason, reason))
