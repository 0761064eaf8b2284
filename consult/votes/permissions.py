"""Who may do what with a vote, and when: one predicate per rule.

Every rule is a function ``<action>_refusal(actor, poll, …)`` that returns why
``actor`` may not do it now (translated), or None when they may. The services
enforce them (``enforce(refusal)`` raises the error the rule names: 403 for who
you are, 409 for where the vote stands), and the views ask the same functions
through ``allowed()`` for what a page offers (``PollActions``), so a page never
offers what a service would refuse, and templates never compare states.

Casting is on the path of 300 delegates voting at once: ``cast`` checks who
votes from the one locked statement it reads, with the same predicates
(``vote_refusal``, ``voter_refusal``, ``change_allowed_refusal``) that
``cast_refusal`` and ``change_refusal`` combine for the page.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..amendments.permissions import Forbidden, Refusal, enforce
from ..consultations.permissions import calendar_refusal
from ..consultations.services import consultation_of
from ..database import utcnow
from ..extensions import db
from ..forums import permissions as forum_rules
from . import queries
from .models import Participation, Poll, PollProxy, PollState
from .queries import VoterStatus, proxy_candidates, voter_row

__all__ = ["enforce"]  # the services raise refusals with it

OPEN_REFUSED = _l("This vote cannot be opened now: %(reason)s")
CAST_REFUSED = _l("Votes cannot be cast now: %(reason)s")


# --- when: the poll's state, its times and the consultation's phase -------------------


def phase_reason(poll: Poll, now: datetime | None = None) -> str | None:
    """Why the consultation of the poll's plan does not let members vote now, or
    None when its current phase allows voting. A plan without a consultation
    puts no such limit on its polls."""
    consultation = consultation_of(poll.plan)
    if consultation is None:
        return None
    return calendar_refusal(poll.plan, "vote", now, consultation=consultation)


def running_refusal(poll: Poll, now: datetime | None = None) -> str | None:
    """A vote takes ballots and proxies between its opening and its closing time."""
    now = now or utcnow()
    if poll.state is PollState.DRAFT:
        return Refusal(_("This vote has not opened yet."))
    if poll.state is not PollState.OPEN or now >= poll.closes_at:
        return Refusal(_("This vote is closed."))
    return None


def vote_refusal(poll: Poll, now: datetime | None = None) -> str | None:
    """Ballots are cast while the vote runs and the consultation's phase allows voting."""
    refusal = running_refusal(poll, now)
    if refusal is not None:
        return refusal
    phase = phase_reason(poll, now)
    if phase is not None:
        return Refusal(str(CAST_REFUSED) % {"reason": phase})
    return None


# --- who votes ------------------------------------------------------------------------


def voter_refusal(status: VoterStatus) -> str | None:
    """One's own vote: for the frozen electorate, unless handed to a proxy."""
    if status.voter is None:
        return Forbidden(_("You are not in the electorate of this vote."))
    if status.proxy_given is not None:
        return Refusal(
            _(
                "You have given your vote to %(name)s; revoke the proxy to vote yourself.",
                name=status.proxy_given.holder.display_name,
            )
        )
    return None


def change_allowed_refusal(poll: Poll) -> str | None:
    if not poll.allow_change:
        return Refusal(_("This vote has already been cast, and this poll does not allow changes."))
    return None


def cast_refusal(actor, poll: Poll, status: VoterStatus, now=None) -> str | None:
    """A first ballot of one's own."""
    refusal = vote_refusal(poll, now) or voter_refusal(status)
    if refusal is None and status.voted:
        return Refusal(_("This vote has already been cast."))
    return refusal


def change_refusal(actor, poll: Poll, status: VoterStatus, now=None) -> str | None:
    """A new ballot in place of one's own, where the poll allows it."""
    refusal = vote_refusal(poll, now) or voter_refusal(status)
    if refusal is None and not status.voted:
        return Refusal(_("You have not voted in this vote yet."))
    return refusal or change_allowed_refusal(poll)


def proxy_holder_refusal(holds_proxy: bool) -> str | None:
    """Another delegate's vote is cast by whoever holds their proxy, nobody else."""
    if not holds_proxy:
        return Forbidden(_("You do not hold this delegate's proxy."))
    return None


def vote_for_refusal(actor, poll: Poll, holds_proxy: bool, now=None) -> str | None:
    """A ballot for a delegate whose proxy ``actor`` holds."""
    return vote_refusal(poll, now) or proxy_holder_refusal(holds_proxy)


def check_receipt_refusal(actor, poll: Poll) -> str | None:
    """A receipt finds a counted ballot while the vote runs and after it closed
    (how a voter checks that their ballot was counted); a cancelled vote counts none."""
    if not poll.state.has_voters:
        return Refusal(_("This vote counts no ballots, so there is no receipt to check."))
    return None


# --- proxies ----------------------------------------------------------------------------


def give_proxy_refusal(actor, poll: Poll, status: VoterStatus, now=None) -> str | None:
    """Handing one's vote to another delegate of the electorate, while the vote
    runs. A proxy cannot be passed on: whoever carries other delegates' votes
    cannot give theirs away. (Who may carry it: ``proxies.grant_proxy``.)"""
    refusal = running_refusal(poll, now)
    if refusal is not None:
        return refusal
    if not poll.max_proxies:
        return Refusal(_("This vote does not allow proxies."))
    if status.voter is None:
        return Forbidden(_("You are not in the electorate of this vote."))
    if status.voted:
        return Refusal(_("Your vote has been cast already; it can no longer be given to someone."))
    if status.proxy_given is not None:
        return Refusal(_("You have given your vote already; revoke that proxy first."))
    if status.proxies_held:
        return Refusal(
            _(
                "You carry other delegates' votes; a proxy cannot be passed on, so you cannot "
                "give yours away."
            )
        )
    return None


def revoke_proxy_refusal(actor, poll: Poll, status: VoterStatus, now=None) -> str | None:
    """Taking one's vote back, as long as the proxy holder has not cast it."""
    refusal = running_refusal(poll, now)
    if refusal is not None:
        return refusal
    if status.proxy_given is None:
        return Refusal(_("You have not given your vote to anyone."))
    if status.voted:
        return Refusal(
            _(
                "%(name)s has already voted for you; the proxy can no longer be revoked.",
                name=status.proxy_given.holder.display_name,
            )
        )
    return None


# --- running the vote (facilitators; ``actor`` None is the scheduler) -----------------


def manage_refusal(actor, poll: Poll) -> str | None:
    refusal = forum_rules.manage_refusal(actor, poll.forum)
    return Forbidden(str(refusal)) if refusal is not None else None


def opening_refusal(poll: Poll, now: datetime | None = None) -> str | None:
    """Why the vote cannot open now, whoever asks (the page says it to the
    voters waiting for it too)."""
    now = now or utcnow()
    if poll.state.is_open:
        return Refusal(_("This vote is open already."))
    if not poll.state.is_draft:
        return Refusal(_("This vote is over; it cannot be opened again."))
    if now >= poll.closes_at:
        return Refusal(_("The closing time of this vote has passed; it can no longer open."))
    phase = phase_reason(poll, now)
    if phase is not None:
        return Refusal(str(OPEN_REFUSED) % {"reason": phase})
    return None


def open_refusal(actor, poll: Poll, now: datetime | None = None) -> str | None:
    return manage_refusal(actor, poll) or opening_refusal(poll, now)


def close_refusal(actor, poll: Poll) -> str | None:
    """A facilitator may close a vote before its time."""
    if refusal := manage_refusal(actor, poll):
        return refusal
    if not poll.state.is_open:
        return Refusal(_("Only an open vote can be closed."))
    return None


def cancel_refusal(actor, poll: Poll) -> str | None:
    if refusal := manage_refusal(actor, poll):
        return refusal
    if not poll.state.is_active:
        return Refusal(_("Only a vote that has not closed can be cancelled."))
    return None


def roll_call_refusal(actor, poll: Poll) -> str | None:
    if refusal := manage_refusal(actor, poll):
        return refusal
    if not poll.state.is_open:
        return Refusal(_("The roll call is taken while the vote is open."))
    return None


# --- what a page offers ------------------------------------------------------------------


def voter_status(user, poll: Poll, now: datetime | None = None) -> VoterStatus:
    """The reader's own part in the vote: their row in the electorate, whether
    they voted, the proxy they gave and those they hold, and (when they may
    give their vote away) the delegates who could carry it."""
    if not getattr(user, "is_authenticated", False) or not poll.state.has_voters:
        return VoterStatus()
    status = VoterStatus(voter=voter_row(poll, user.id))
    proxies = db.session.scalars(
        select(PollProxy)
        .options(selectinload(PollProxy.grantor), selectinload(PollProxy.holder))
        .where(
            PollProxy.poll_id == poll.id,
            (PollProxy.grantor_id == user.id) | (PollProxy.holder_id == user.id),
        )
    ).all()
    # Only the votes that concern this person: theirs and those they carry.
    concerned = {user.id} | {proxy.grantor_id for proxy in proxies}
    voted_ids = set(
        db.session.scalars(
            select(Participation.voter_id).where(
                Participation.poll_id == poll.id, Participation.voter_id.in_(concerned)
            )
        )
    )
    status.voted = user.id in voted_ids
    for proxy in proxies:
        if proxy.grantor_id == user.id:
            status.proxy_given = proxy
        else:
            status.proxies_held.append((proxy.grantor, proxy.grantor_id in voted_ids))
    if give_proxy_refusal(user, poll, status, now) is None:
        status.proxy_candidates = proxy_candidates(poll, user.id)
    return status


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
    # Why the voters cannot vote now (the phase forbids it, or it has closed).
    vote_reason: str | None = None
    # Why it cannot open now (or why the scheduler has not opened it).
    open_reason: str | None = None
    # Its opening time has come, but it waits (for the reason in open_reason).
    waiting: bool = False


def allowed(user, poll: Poll, status: VoterStatus | None = None, now=None) -> PollActions:
    """The actions ``user`` may take on ``poll`` now, from the predicates above."""
    now = now or utcnow()
    status = status if status is not None else voter_status(user, poll, now)
    uncast = any(not cast for _grantor, cast in status.proxies_held)
    open_reason = opening_refusal(poll, now) if poll.state.is_draft else None
    return PollActions(
        may_cast=cast_refusal(user, poll, status, now) is None,
        may_change=change_refusal(user, poll, status, now) is None,
        may_vote_for_others=bool(status.proxies_held)
        and vote_for_refusal(user, poll, uncast, now) is None,
        may_give_proxy=give_proxy_refusal(user, poll, status, now) is None
        and bool(status.proxy_candidates),
        may_revoke_proxy=revoke_proxy_refusal(user, poll, status, now) is None,
        may_check_receipt=check_receipt_refusal(user, poll) is None,
        may_open=open_refusal(user, poll, now) is None,
        may_close=close_refusal(user, poll) is None,
        may_cancel=cancel_refusal(user, poll) is None,
        may_roll_call=roll_call_refusal(user, poll) is None,
        vote_reason=vote_refusal(poll, now) if poll.state.is_open else None,
        open_reason=open_reason,
        waiting=open_reason is not None and now >= poll.opens_at,
    )


# --- the banner of a plan's pages (open_now/banner.py) -----------------------------------


def plan_vote_refusal(actor, plan, now: datetime | None = None) -> str | None:
    """Why ``actor`` has no vote to cast now among the open votes on ``plan``
    (own vote, or one carried for a delegate whose proxy they hold), or None
    when they have one. One statement, however many votes are open; the
    phase's rule (``phase_reason``) is the caller's."""
    if not getattr(actor, "is_authenticated", False):
        return Forbidden(_("You are not in the electorate of any vote open on this plan."))
    rows = queries.open_votes_of(plan, actor.id, now or utcnow())
    if not rows:
        return Refusal(_("No vote on this plan is open now."))
    if not any(row.voter for row in rows):
        return Forbidden(_("You are not in the electorate of any vote open on this plan."))
    for row in rows:
        own = row.voter and not row.gave and (not row.voted or row.allow_change)
        if own or row.carries:
            return None
    return Refusal(_("You have cast or given your vote in every vote open on this plan."))


def poll_vote_refusal(actor, poll: Poll, status: VoterStatus, now=None) -> str | None:
    """Why ``actor`` may not vote in ``poll`` now (first ballot, a changed one,
    or one for a delegate they carry), or None: what the vote's banner says."""
    uncast = any(not cast for _grantor, cast in status.proxies_held)
    if status.proxies_held and vote_for_refusal(actor, poll, uncast, now) is None:
        return None
    if status.voted:
        return change_refusal(actor, poll, status, now)
    return cast_refusal(actor, poll, status, now)
