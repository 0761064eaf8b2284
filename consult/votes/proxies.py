"""TODO docstring"""

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..database import utcnow
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..extensions import db
from ..forums import services as forums
from ..notifications.services import notify
from .models import (
    Participation,
    Poll,
    PollProxy,
    PollVoter,
)
from .permissions import require_open
from .queries import voter_row


def _lock_proxies(poll: Poll) -> None:
    """Proxy changes of one poll happen one at a time (the poll row is locked until
    commit), so two grants at once cannot exceed the limit or form a chain, and a
    grant waits for a vote being cast by the same person."""
    db.session.execute(select(Poll.id).where(Poll.id == poll.id).with_for_update())


def grant_proxy(actor, poll: Poll, holder_id: int) -> PollProxy:
    """Hand one's vote in this poll to another delegate of the electorate.

    A proxy cannot be passed on: whoever carries other delegates' votes cannot
    give theirs away, and nobody can carry the vote of someone who gave theirs."""
    require_open(poll, utcnow())
    _lock_proxies(poll)
    if not poll.max_proxies:
        raise Conflict(_("This vote does not allow proxies."))
    if voter_row(poll, actor.id) is None:
        raise PermissionDenied(_("You are not in the electorate of this vote."))
    holder = voter_row(poll, holder_id) if isinstance(holder_id, int) else None
    if holder is None:
        raise InvalidInput(_("Choose a delegate of this vote's electorate."))
    if holder.user_id == actor.id:
        raise InvalidInput(_("You cannot give your vote to yourself."))
    voted = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .where(Participation.poll_id == poll.id, Participation.voter_id == actor.id)
    )
    if voted:
        raise Conflict(_("Your vote has been cast already; it can no longer be given to someone."))
    proxies = db.session.scalars(select(PollProxy).where(PollProxy.poll_id == poll.id)).all()
    if any(p.grantor_id == actor.id for p in proxies):
        raise Conflict(_("You have given your vote already; revoke that proxy first."))
    if any(p.holder_id == actor.id for p in proxies):
        raise Conflict(
            _(
                "You carry other delegates' votes; a proxy cannot be passed on, so you cannot "
                "give yours away."
            )
        )
    if any(p.grantor_id == holder.user_id for p in proxies):
        raise Conflict(
            _(
                "%(name)s has given their own vote to someone else and cannot carry yours.",
                name=holder.user.display_name,
            )
        )
    if sum(p.holder_id == holder.user_id for p in proxies) >= poll.max_proxies:
        raise Conflict(
            _(
                "%(name)s already carries as many votes as this poll allows.",
                name=holder.user.display_name,
            )
        )
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
    """Take one's vote back, as long as the proxy holder has not cast it."""
    require_open(poll, utcnow())
    _lock_proxies(poll)
    proxy = db.session.scalar(
        select(PollProxy)
        .where(PollProxy.poll_id == poll.id, PollProxy.grantor_id == actor.id)
        .with_for_update()
    )
    if proxy is None:
        raise Conflict(_("You have not given your vote to anyone."))
    voted = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .where(Participation.poll_id == poll.id, Participation.voter_id == actor.id)
    )
    if voted:
        raise Conflict(
            _(
                "%(name)s has already voted for you; the proxy can no longer be revoked.",
                name=proxy.holder.display_name,
            )
        )
    db.session.delete(proxy)
    record("poll.proxy_revoked", poll, actor=actor, forum=poll.forum, holder=proxy.holder_id)


def set_presence(actor, poll: Poll, present_ids: set[int]) -> int:
    """The roll call: which delegates are present (for a quorum of those present)."""
    forums.require_manage(actor, poll.forum)
    if poll.state != "open":
        raise Conflict(_("The roll call is taken while the vote is open."))
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
