"""Proxies (a delegate hands their vote to another for one poll) and the roll
call of the delegates present. The rules are in ``permissions``."""

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import Conflict, InvalidInput
from ..extensions import db
from ..notifications.services import notify
from .models import (
    Participation,
    Poll,
    PollProxy,
    PollState,
    PollVoter,
)
from .permissions import (
    enforce,
    give_proxy_refusal,
    revoke_proxy_refusal,
    roll_call_refusal,
    running_refusal,
)
from .queries import VoterStatus, voter_row


def _lock_proxies(poll: Poll) -> None:
    """Proxy changes of one poll happen one at a time (the poll row is locked until
    commit), so two grants at once cannot exceed the limit or form a chain, and a
    grant waits for a vote being cast by the same person."""
    db.session.execute(select(Poll.id).where(Poll.id == poll.id).with_for_update())


def _standing(actor, poll: Poll) -> tuple[VoterStatus, list[PollProxy]]:
    """``actor``'s part in the vote as it stands under the lock, and every proxy."""
    proxies = db.session.scalars(select(PollProxy).where(PollProxy.poll_id == poll.id)).all()
    voted = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .where(Participation.poll_id == poll.id, Participation.voter_id == actor.id)
    )
    status = VoterStatus(
        voter=voter_row(poll, actor.id),
        voted=bool(voted),
        proxy_given=next((p for p in proxies if p.grantor_id == actor.id), None),
        proxies_held=[(p.grantor, False) for p in proxies if p.holder_id == actor.id],
    )
    return status, proxies


def _holder_refusal(actor, poll: Poll, holder: PollVoter | None, proxies) -> str | None:
    """Who may carry ``actor``'s vote: a delegate of the electorate who has not
    given theirs away and carries fewer votes than the poll allows."""
    if holder is None:
        return InvalidInput(_("Choose a delegate of this vote's electorate."))
    if holder.user_id == actor.id:
        return InvalidInput(_("You cannot give your vote to yourself."))
    name = holder.user.display_name
    if any(p.grantor_id == holder.user_id for p in proxies):
        return Conflict(
            _(
                "%(name)s has given their own vote to someone else and cannot carry yours.",
                name=name,
            )
        )
    if sum(p.holder_id == holder.user_id for p in proxies) >= poll.max_proxies:
        return Conflict(_("%(name)s already carries as many votes as this poll allows.", name=name))
    return None


def grant_proxy(actor, poll: Poll, holder_id: int) -> PollProxy:
    """Hand one's vote in this poll to another delegate of the electorate
    (``permissions.give_proxy_refusal``)."""
    enforce(running_refusal(poll))
    _lock_proxies(poll)
    status, proxies = _standing(actor, poll)
    enforce(give_proxy_refusal(actor, poll, status))
    holder = voter_row(poll, holder_id) if isinstance(holder_id, int) else None
    error = _holder_refusal(actor, poll, holder, proxies)
    if error is not None:
        raise error
    proxy = PollProxy(poll_id=poll.id, grantor_id=actor.id, holder_id=holder.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(proxy)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("You have given your vote already; revoke that proxy first.")) from None
    record("poll.proxy_granted", poll, actor=actor, forum=poll.forum, holder=holder.user_id)
    notify(holder.user_id, "proxy_received", poll, forum=poll.forum, actor=actor, title=poll.title)
    return proxy


def revoke_proxy(actor, poll: Poll) -> None:
    """Take one's vote back (``permissions.revoke_proxy_refusal``)."""
    enforce(running_refusal(poll))
    _lock_proxies(poll)
    proxy = db.session.scalar(
        select(PollProxy)
        .where(PollProxy.poll_id == poll.id, PollProxy.grantor_id == actor.id)
        .with_for_update()
    )
    voted = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .where(Participation.poll_id == poll.id, Participation.voter_id == actor.id)
    )
    status = VoterStatus(voted=bool(voted), proxy_given=proxy)
    enforce(revoke_proxy_refusal(actor, poll, status))
    db.session.delete(proxy)
    record("poll.proxy_revoked", poll, actor=actor, forum=poll.forum, holder=proxy.holder_id)


def set_presence(actor, poll: Poll, present_ids: set[int]) -> int:
    """The roll call: which delegates are present (for a quorum of those present)."""
    enforce(roll_call_refusal(actor, poll))
    db.session.execute(
        update(PollVoter)
        .where(PollVoter.poll_id == poll.id)
        .values(present=PollVoter.user_id.in_(present_ids) if present_ids else False)
        .execution_options(synchronize_session=False)
    )
    count = db.session.scalar(
        select(func.count()).where(PollVoter.poll_id == poll.id, PollVoter.present.is_(True))
    )
    record("poll.roll_call", poll, actor=actor, forum=poll.forum, present=count)
    return count


def forget_member(user) -> None:
    """A deleted account's proxies in votes still to come or running (a holder
    who left no longer votes for anyone; a grantor's vote is theirs, and they
    left): an ``accounts.hooks.on_deletion`` step."""
    running = select(Poll.id).where(Poll.state.in_((PollState.DRAFT, PollState.OPEN)))
    db.session.execute(
        delete(PollProxy).where(
            (PollProxy.grantor_id == user.id) | (PollProxy.holder_id == user.id),
            PollProxy.poll_id.in_(running),
        )
    )
