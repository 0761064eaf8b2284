"""A vote's life: opened (its electorate frozen), closed (counted once, the
result frozen and applied to its amendments or the plan) or cancelled. Who may
do each is in ``permissions``; the scheduler (``actor`` None) does it on time."""

import json
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from ..accounts.services import clean_text
from ..amendments.lifecycle import move_by_poll
from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..forums.models import Membership
from ..notifications.services import notify_many
from ..plans import services as plans
from . import tally as counting
from .disclosure import weights_differ
from .integrity import compute_result
from .models import (
    Poll,
    PollState,
    PollVoter,
)
from .permissions import (
    cancel_refusal,
    close_refusal,
    enforce,
    manage_refusal,
    open_refusal,
    opening_refusal,
)
from .queries import NOBODY_VOTES, electorate_query, poll_amendments, voters_select


def change_state(poll: Poll, before: str, after: str, **values) -> bool:
    """Move the poll from ``before`` to ``after`` unless someone else already did."""
    changed = db.session.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.state == before)
        .values(state=after, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        poll.state = PollState(after)
        for name, value in values.items():
            setattr(poll, name, value)
    return bool(changed)


def open_poll(actor, poll: Poll, now: datetime | None = None) -> bool:
    """Open the poll and freeze its electorate. False if it was opened already
    (by the scheduler or another facilitator)."""
    now = now or utcnow()
    if poll.state.is_open:  # opened meanwhile: nothing to do, for whoever may open it
        enforce(manage_refusal(actor, poll))
        return False
    enforce(open_refusal(actor, poll, now))
    if not change_state(poll, "draft", "open", opened_at=now):
        return False
    db.session.execute(
        insert(PollVoter).from_select(
            ["poll_id", "user_id", "weight", "coalition_id"], electorate_query(poll)
        )
    )
    size, weight = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PollVoter.weight), 0)).where(
            PollVoter.poll_id == poll.id
        )
    ).one()
    if not size:
        raise Conflict(str(NOBODY_VOTES))
    poll.electorate_size, poll.electorate_weight = size, Decimal(weight)
    # Weights that changed since the poll was set up hide its count after all
    # (see LIVE_COUNT_SHOWS_WEIGHTS).
    count_hidden = poll.secret and not poll.hide_results and weights_differ(poll)
    if count_hidden:
        poll.hide_results = True
    reason = _("Put to the vote: %(title)s", title=poll.title)
    for amendment in poll_amendments(poll):
        move_by_poll(amendment, "voting", reason)
    record(
        "poll.opened",
        poll,
        actor=actor,
        forum=poll.forum,
        electorate=size,
        **({"count_hidden_for_weights": True} if count_hidden else {}),
    )
    notify_many(
        voters_select(poll), "poll_opened", poll, forum=poll.forum, actor=actor, title=poll.title
    )
    return True


def open_if_due(poll: Poll, now: datetime | None = None) -> bool:
    """Open a poll just set up whose opening time has come, when nothing stops
    it (what the scheduler would do on its next run, for this poll only)."""
    now = now or utcnow()
    if poll.opens_at > now or opening_refusal(poll, now) is not None:
        return False
    try:
        with db.session.begin_nested():
            return open_poll(None, poll, now)
    except ServiceError:
        return False  # the scheduler tries again, and logs why


def cancel_poll(actor, poll: Poll, reason: str = "") -> None:
    """Call the vote off before it closes; its amendments go back to "admitted"."""
    enforce(cancel_refusal(actor, poll))
    if not change_state(poll, poll.state, "cancelled"):
        raise Conflict(_("Only a vote that has not closed can be cancelled."))
    reason = clean_text(reason)[:2000]
    for amendment in poll_amendments(poll):
        move_by_poll(
            amendment, "admitted", _("The vote “%(title)s” was cancelled.", title=poll.title)
        )
    record("poll.cancelled", poll, actor=actor, forum=poll.forum, reason=reason)


def close_poll(actor, poll: Poll, now: datetime | None = None) -> bool:
    """Close the poll, count it once and freeze the result, then act on it. False if
    it was closed already. A facilitator may close it before its time."""
    if actor is not None:
        enforce(close_refusal(actor, poll))
    now = now or utcnow()
    if not change_state(poll, "open", "closed", closed_at=now):
        return False
    result = compute_result(poll)
    poll.result = json.dumps(result, ensure_ascii=False, sort_keys=True)
    poll.checksum = result["checksum"]
    poll.winner = result["winner"]
    poll.quorum_met = result["quorum"]["met"]
    poll.ballot_count = result["ballots"]
    poll.turnout_weight = Decimal(result["turnout_weight"])
    record(
        "poll.closed",
        poll,
        actor=actor,
        forum=poll.forum,
        winner=poll.winner,
        checksum=poll.checksum,
    )
    _apply_result(poll, result)
    notify_many(
        voters_select(poll), "poll_result", poll, forum=poll.forum, actor=actor, title=poll.title
    )
    return True


def _apply_result(poll: Poll, result: dict) -> None:
    """What the vote decided happens now: amendments accepted or rejected, or the
    plan approved. A vote without quorum (no winner) decides nothing: its
    amendments go back to "admitted" for the facilitators to take up again."""
    winner = result["winner"]
    title = poll.title
    if winner is None:
        for amendment in poll_amendments(poll):
            move_by_poll(
                amendment, "admitted", _("The vote “%(title)s” decided nothing.", title=title)
            )
        return
    if poll.subject == "amendment":
        move_by_poll(
            poll.amendment,
            "accepted" if winner == counting.YES else "rejected",
            _("Decided by the vote “%(title)s”.", title=title),
        )
    elif poll.subject == "competing":
        for candidate in poll.candidates:
            if candidate.amendment is None:
                continue
            move_by_poll(
                candidate.amendment,
                "accepted" if candidate.name == winner else "rejected",
                _("Decided by the vote “%(title)s”.", title=title),
            )
    elif poll.subject == "plan" and winner == counting.YES:
        plan, version = poll.plan, poll.version
        if version is not None and plan.current_version_id == version.id:
            plans.approve(plan, version, reason=title)
            members = select(Membership.user_id).where(Membership.forum_id == poll.forum_id)
            notify_many(members, "plan_approved", plan, forum=poll.forum, title=plan.title)
