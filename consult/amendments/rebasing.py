"""After a consolidated draft: the amendments still open read against the new
version. Those whose words the new version did not touch are carried over;
the others go back to their authors for revision."""

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..database import utcnow
from ..extensions import db
from ..notifications.services import notify_each
from ..plans.models import PlanNode
from .lifecycle import set_status
from .models import Amendment, AmendmentEvent
from .models import AmendmentStatus as S


def carry_over(amendment: Amendment, version, node: PlanNode | None, proposed: str) -> None:
    """A consolidation changed the amended item without touching the words the
    amendment changes: the amendment now reads against the new text. The author
    is told; the event log keeps the text before."""
    carry_over_many(version, [(amendment, node, proposed)])


def carry_over_many(version, moves: list[tuple[Amendment, PlanNode | None, str]]) -> None:
    """``carry_over`` for many amendments, ``(amendment, node, proposed)`` each,
    in three statements whatever their number: the amendments (guarded by their
    lock_version as the ORM guards an edit: one changed meanwhile fails the
    whole job, none is overwritten), their events, their authors' notifications."""
    if not moves:
        return
    now = utcnow()
    changes = [_change(amendment, node, proposed) for amendment, node, proposed in moves]
    # Read before the objects take the new texts: the history keeps the text before.
    events = [_event(amendment, version, now) for amendment, _node, _proposed in moves]
    _write(version, changes, now)
    for (amendment, _node, _proposed), change in zip(moves, changes, strict=True):
        # The objects say what the rows now hold.
        for name, value in (
            ("base_version_id", version.id),
            ("original_text", change["b_original"]),
            ("target_ref", change["b_ref"]),
            ("proposed_text", change["b_proposed"]),
            ("updated_at", now),
            ("lock_version", amendment.lock_version + 1),
        ):
            set_committed_value(amendment, name, value)
    db.session.execute(insert(AmendmentEvent.__table__), events)
    notify_each(
        [
            (
                amendment.author_id,
                "amendment_rebased",
                amendment,
                amendment.plan.forum,
                {
                    "label": amendment.label,
                    "identifier": amendment.identifier,
                    "number": version.number,
                },
            )
            for amendment, _node, _proposed in moves
            if amendment.author_id is not None
        ]
    )


def _change(amendment: Amendment, node: PlanNode | None, proposed: str) -> dict:
    return {
        "b_id": amendment.id,
        "b_lock": amendment.lock_version,
        "b_original": node.text if node is not None else amendment.original_text,
        "b_ref": node.ref if node is not None else amendment.target_ref,
        "b_proposed": proposed,
    }


def _write(version, changes: list[dict], now) -> None:
    """One UPDATE for every amendment, each guarded by its lock_version."""
    table = Amendment.__table__
    written = db.session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lock_version == bindparam("b_lock"))
        .values(
            base_version_id=version.id,
            original_text=bindparam("b_original"),
            target_ref=bindparam("b_ref"),
            proposed_text=bindparam("b_proposed"),
            updated_at=now,
            lock_version=table.c.lock_version + 1,
        ),
        changes,
    ).rowcount
    if written != len(changes):
        raise StaleDataError(f"{len(changes) - written} amendment(s) changed meanwhile")


def _event(amendment: Amendment, version, now) -> dict:
    """The history's line, with the text before the carry-over."""
    return {
        "amendment_id": amendment.id,
        "actor_id": None,
        "from_status": str(amendment.status),
        "to_status": str(amendment.status),
        "reason": _(
            "Carried over to version %(number)d. The text before was: %(text)s",
            number=version.number,
            text=amendment.proposed_text,
        )[:2000],
        "created_at": now,
    }


def ask_for_revision(amendment: Amendment, reason: str) -> None:
    """The new version changed the words this amendment changes (or removed its
    item): it is not rewritten by the machine; its author is asked to revise it."""
    set_status(None, amendment, S.REVISE, reason)
