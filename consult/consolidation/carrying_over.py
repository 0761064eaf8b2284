"""The amendments still open, moved onto a consolidated version: carried over
where their item changed elsewhere, handed back to their authors where it
changed at their words or disappeared. Amendments in a running vote keep the
text the vote is about (the next consolidation carries them over when accepted).
"""

from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..amendments import rebasing
from ..amendments.models import OPEN_STATUSES, Amendment
from ..extensions import db
from ..plans.models import Plan, PlanVersion
from . import word_merge


class _Outcome:
    """Where each open amendment goes, gathered before anything is written."""

    def __init__(self):
        self.carried: list[Amendment] = []  # carried over to the new text
        self.revise: list[Amendment] = []  # handed back to their authors
        self.moved: list[tuple[Amendment, str | None]] = []  # text unchanged (and new ref)
        self.to_carry: list[tuple] = []  # (amendment, node, proposed): carried over in one go


def carry_over_open_amendments(
    plan: Plan, version: PlanVersion, rows: list[dict]
) -> tuple[list[Amendment], list[Amendment]]:
    """Move the plan's open amendments onto ``version`` (written from ``rows``);
    returns those carried over and those handed back for revision."""
    open_amendments = db.session.scalars(
        select(Amendment).where(
            Amendment.plan_id == plan.id,
            Amendment.status.in_([s for s in OPEN_STATUSES if s != "voting"]),
            Amendment.base_version_id != version.id,
        )
    ).all()
    # The new version's nodes as written (key, ref and text are all that is read).
    nodes_by_key = {row["key"]: SimpleNamespace(**row) for row in rows}
    outcome = _Outcome()
    for amendment in open_amendments:
        _place(amendment, nodes_by_key, version, outcome)
    rebasing.carry_over_many(version, outcome.to_carry)
    _move_unchanged(version, outcome.moved)
    return outcome.carried, outcome.revise


def _place(amendment: Amendment, nodes_by_key: dict, version: PlanVersion, outcome) -> None:
    """Decide where one open amendment goes (handing it back is written now)."""
    node = nodes_by_key.get(amendment.target_key) if amendment.target_key else None
    if amendment.target_key and node is None:
        message = _(
            "Version %(number)d no longer has the item this amendment changes.",
            number=version.number,
        )
        _hand_back(amendment, message, outcome)
        return
    if node is None or amendment.operation in ("insert_after", "new_section"):
        outcome.moved.append((amendment, node.ref if node is not None else None))
        return
    if node.text == amendment.original_text:
        outcome.moved.append((amendment, node.ref))
        return
    if amendment.operation == "delete":
        proposed = ""  # still "delete this item", whatever it now says
    else:
        proposed = word_merge.carry_over(
            amendment.original_text, amendment.proposed_text, node.text
        )
    if proposed is None:
        message = _(
            "Version %(number)d changed the words this amendment changes.",
            number=version.number,
        )
        _hand_back(amendment, message, outcome)
        return
    outcome.carried.append(amendment)
    outcome.to_carry.append((amendment, node, proposed))


def _hand_back(amendment: Amendment, message: str, outcome: _Outcome) -> None:
    rebasing.ask_for_revision(amendment, message)
    outcome.revise.append(amendment)


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
