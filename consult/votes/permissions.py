"""TODO docstring"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..consultations.services import closed_reason, consultation_of
from ..database import utcnow
from ..errors import Conflict
from ..forums import services as forums
from .models import (
    Poll,
)
from .queries import VoterStatus, voter_status

OPEN_REFUSED = _l("This vote cannot be opened now: %(reason)s")


CAST_REFUSED = _l("Votes cannot be cast now: %(reason)s")


def phase_reason(poll: Poll, now: datetime | None = None) -> str | None:
    """Why the consultation of the poll's plan does not let members vote now, or
    None when its current phase allows voting. A plan without a consultation
    puts no such limit on its polls."""
    consultation = consultation_of(poll.plan)
    if consultation is None:
        return None
    return closed_reason(poll.plan, "vote", now, consultation=consultation)


def require_voting_phase(poll: Poll, now: datetime, message) -> None:
    reason = phase_reason(poll, now)
    if reason is not None:
        raise Conflict(str(message) % {"reason": reason})


@dataclass(frozen=True)
class PollActions:
    """What one person may do with a poll now, as the services would allow it,
    with the reason when the page explains a refusal. Pages show an action
    exactly when its ``may_`` is true; they never work it out themselves."""

    may_cast: bool = False
    may_change: bool = False
    may_vote_for_others: bool = False
    may_give_proxy: bool = False
    may_revoke_proxy: bool = False
    may_check_receipt: bool = False
    may_open: bool = False
    may_close: bool = False
    may_cancel: bool = False
    may_roll_call: bool = False
    # Why the voters cannot vote now (poll not running, or the phase forbids it).
    vote_reason: str | None = None
    # Why a facilitator cannot open it now (or why the scheduler has not).
    open_reason: str | None = None
    # Its opening time has come, but it waits (for the reason in open_reason).
    waiting: bool = False


def allowed(user, poll: Poll, status: VoterStatus | None = None, now=None) -> PollActions:
    """The actions ``user`` may take on ``poll`` now (see ``PollActions``); the
    same rules ``open_poll``, ``cast``, the proxy services and ``check_receipt``
    enforce."""
    now = now or utcnow()
    status = status if status is not None else voter_status(user, poll)
    manage = forums.can_manage(user, poll.forum)
    phase = phase_reason(poll, now) if poll.state in ("draft", "open") else None
    vote_reason = not_running_reason(poll, now)
    if vote_reason is None and phase is not None:
        vote_reason = str(CAST_REFUSED) % {"reason": phase}
    running = poll.state == "open" and now < poll.closes_at
    voting = vote_reason is None
    own = status.voter is not None and status.proxy_given is None
    open_reason = None
    if poll.state == "draft":
        if now >= poll.closes_at:
            open_reason = _("The closing time of this vote has passed; it can no longer open.")
        elif phase is not None:
            open_reason = str(OPEN_REFUSED) % {"reason": phase}
    return PollActions(
        may_cast=voting and own and not status.voted,
        may_change=voting and own and status.voted and poll.allow_change,
        may_vote_for_others=voting and any(not cast for _grantor, cast in status.proxies_held),
        may_give_proxy=running and bool(status.proxy_candidates),
        may_revoke_proxy=running and status.proxy_given is not None and not status.voted,
        may_check_receipt=poll.state in RECEIPT_STATES,
        may_open=manage and poll.state == "draft" and open_reason is None,
        may_close=manage and poll.state == "open",
        may_cancel=manage and poll.state in ("draft", "open"),
        may_roll_call=manage and poll.state == "open",
        vote_reason=vote_reason,
        open_reason=open_reason,
        waiting=open_reason is not None and now >= poll.opens_at,
    )


# A receipt finds a counted ballot while the vote runs and after it closed (how a
# voter checks that their ballot was counted); a cancelled vote counts none.
RECEIPT_STATES = ("open", "closed")


def require_open(poll: Poll, now: datetime) -> None:
    reason = not_running_reason(poll, now)
    if reason is not None:
        raise Conflict(reason)


def not_running_reason(poll: Poll, now: datetime) -> str | None:
    if poll.state == "draft":
        return _("This vote has not opened yet.")
    if poll.state != "open" or now >= poll.closes_at:
        return _("This vote is closed.")
    return None
