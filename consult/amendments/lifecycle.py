"""The status machine: an amendment submitted, withdrawn, decided by the
facilitators or by a vote, sent back to its author for revision. The rules of
who may move it are in ``permissions``; every move passes through
``set_status``, which records it, audits it and tells the author."""

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..database import utcnow
from ..extensions import db
from ..forums.models import WorkingGroupMember
from ..inputs import clean_text
from ..notifications.services import notify
from ..plans import services as plans
from .models import Amendment, AmendmentEvent
from .models import AmendmentStatus as S
from .permissions import (
    POLL_MOVES,
    decide_refusal,
    enforce,
    submit_refusal,
    withdraw_refusal,
)
from .plan_settings import section_group_id

MAX_REASON = 2_000


def record_event(amendment: Amendment, actor, before: str, after: str, reason: str = "") -> None:
    db.session.add(
        AmendmentEvent(
            amendment_id=amendment.id,
            actor_id=getattr(actor, "id", None),
            from_status=str(before),
            to_status=after,
            reason=reason,
        )
    )


def submit_amendment(actor, amendment: Amendment) -> None:
    enforce(submit_refusal(actor, amendment))
    set_status(actor, amendment, S.SUBMITTED)
    amendment.submitted_at = utcnow()
    for member_id in _group_member_ids(amendment):
        notify(
            member_id,
            "amendment_submitted",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
            identifier=amendment.identifier,
            ref=amendment.target_ref,
        )


def _group_member_ids(amendment: Amendment) -> list[int]:
    """Members of the working group in charge of the amended section."""
    version = amendment.plan.current_version
    nodes = {n.key: n for n in plans.version_nodes(version)}
    group_id = section_group_id(amendment.plan, nodes, amendment.target_key)
    if group_id is None:
        return []
    return list(
        db.session.scalars(
            select(WorkingGroupMember.user_id).where(
                WorkingGroupMember.working_group_id == group_id
            )
        )
    )


def withdraw(actor, amendment: Amendment, reason: str = "") -> None:
    enforce(withdraw_refusal(actor, amendment))
    set_status(actor, amendment, S.WITHDRAWN, reason)


def decide(actor, amendment: Amendment, to_status: str, reason: str = "") -> None:
    """Facilitator triage: admit, accept, reject or put to a vote."""
    enforce(decide_refusal(actor, amendment, to_status))
    set_status(actor, amendment, S(to_status), reason)
    if to_status == S.ACCEPTED and amendment.parent_id is not None:
        apply_sub_amendment(actor, amendment)


def decide_many(
    actor, amendments: list[Amendment], to_status: str, reason: str = ""
) -> tuple[list[Amendment], list[tuple[Amendment, str]]]:
    """The triage desk's "with the selected": the same decision and reason on
    several amendments, each taken if the rules allow it for that one (the
    others come back with the reason why not, and stay as they were)."""
    decided, refused = [], []
    for amendment in amendments:
        refusal = decide_refusal(actor, amendment, to_status)
        if refusal is not None:
            refused.append((amendment, str(refusal)))
            continue
        decide(actor, amendment, to_status, reason)
        decided.append(amendment)
    return decided, refused


def move_by_poll(amendment: Amendment, to_status: str, reason: str) -> bool:
    """Move ``amendment`` as a poll's opening or result says, if it still can be
    (False otherwise). No permission check: the facilitator who set up the poll
    was checked then, and the electorate decided."""
    if (amendment.status, to_status) not in POLL_MOVES:
        return False
    set_status(None, amendment, S(to_status), reason)
    sub_amendment = amendment.parent_id is not None
    if to_status == S.ACCEPTED and sub_amendment and not amendment.parent.status.is_final:
        apply_sub_amendment(None, amendment)
    return True


def set_status(actor, amendment: Amendment, to_status: S, reason: str = "") -> None:
    """Make the move, with no permission check (the callers enforce theirs).
    Every move passes here: the reason is cleaned once, so the history, the
    audit log and the author's notification hold the same words."""
    reason = clean_text(reason)[:MAX_REASON]
    before = amendment.status
    amendment.status = to_status
    amendment.updated_at = utcnow()
    if amendment.status.is_final:
        amendment.decided_at = utcnow()
    record_event(amendment, actor, before, to_status, reason)
    record(
        f"amendment.{to_status}", amendment, actor=actor, forum=amendment.plan.forum, reason=reason
    )
    if amendment.author_id is not None:
        notify(
            amendment.author_id,
            "amendment_status",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
            identifier=amendment.identifier,
            status=str(to_status),
            reason=reason,
        )


def apply_sub_amendment(actor, sub: Amendment) -> None:
    """An accepted sub-amendment gives its text to the amendment it amends."""
    parent = sub.parent
    parent.proposed_text = sub.proposed_text
    parent.updated_at = utcnow()
    record_event(
        parent,
        actor,
        parent.status,
        parent.status,
        _("Text changed by sub-amendment %(label)s.", label=sub.label),
    )
