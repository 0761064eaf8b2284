"""Casting a vote: the ballot, its receipt, a change of vote, and checking a
receipt. Who may cast is in ``permissions``; this path is the one 300
delegates take at once, so it reads what it checks in one locked statement."""

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import utcnow
from ..errors import Conflict, InvalidInput
from ..extensions import db
from . import tally as counting
from .models import (
    Ballot,
    NamedVote,
    Participation,
    Poll,
    PollProxy,
    PollState,
    PollVoter,
)
from .permissions import (
    change_allowed_refusal,
    check_receipt_refusal,
    enforce,
    proxy_holder_refusal,
    vote_refusal,
    voter_refusal,
)
from .queries import VoterStatus

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


RECEIPT_LENGTH = 16  # 32**16 = 2**80 codes


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def normal_receipt(code: str) -> str:
    return "".join(ch for ch in str(code or "").upper() if ch.isascii() and ch.isalnum())


def receipt_hash(poll: Poll, code: str) -> str:
    return hashlib.sha256(f"{poll.id}:{normal_receipt(code)}".encode()).hexdigest()


def receipt_check(poll: Poll, voter_id: int, code: str) -> str:
    return hashlib.sha256(f"{poll.id}:{voter_id}:{normal_receipt(code)}".encode()).hexdigest()


def parse_choice(poll: Poll, choice: Any) -> Any:
    """The ballot's content, checked against the poll: "yes"/"no"/"abstain", or a
    ranking (best first) of at least one of the poll's candidates."""
    if not poll.is_ranked:
        if choice not in counting.YES_NO_CHOICES:
            raise InvalidInput(_("Choose yes, no or abstain."))
        return choice
    names = {candidate.name for candidate in poll.candidates}
    if not isinstance(choice, list) or not all(isinstance(name, str) for name in choice):
        raise InvalidInput(_("Rank at least one option."))
    if not choice:
        raise InvalidInput(_("Rank at least one option."))
    if len(set(choice)) != len(choice):
        raise InvalidInput(_("Give each option a different rank."))
    if not set(choice) <= names:
        raise InvalidInput(_("The ballot names an option that is not in this vote."))
    return list(choice)


def cast(
    actor,
    poll: Poll,
    choice: Any,
    *,
    on_behalf_of: int | None = None,
    receipt: str | None = None,
    now: datetime | None = None,
) -> str:
    """Record ``actor``'s vote (or, with ``on_behalf_of``, the vote of a delegate
    whose proxy they hold) and return the new receipt code, shown once.

    A second vote by the same voter changes the first only if the poll allows
    changes; in a secret poll it needs the receipt code, the only thing that
    leads to the ballot. The unique (poll, voter) participation makes a voter's
    concurrent submissions count once.
    """
    now = now or utcnow()
    enforce(vote_refusal(poll, now))
    voter_id = actor.id if on_behalf_of is None else on_behalf_of
    state, voter, given_id, participation_id = _standing(poll, voter_id)
    if state != PollState.OPEN:
        raise Conflict(_("This vote is closed."))
    choice = parse_choice(poll, choice)
    if on_behalf_of is None:
        given = db.session.get(PollProxy, given_id) if given_id is not None else None
        enforce(voter_refusal(VoterStatus(voter=voter, proxy_given=given)))
    else:
        holds = voter is not None and _holds_proxy(actor, poll, voter_id)
        enforce(proxy_holder_refusal(holds))
    code = new_receipt()
    if participation_id is not None:
        enforce(change_allowed_refusal(poll))
        existing = db.session.get(Participation, participation_id)
        _change_vote(actor, poll, existing, voter, choice, code, receipt, now)
        return code
    _record_ballot(actor, poll, voter, choice, code, now)
    return code


def _standing(poll: Poll, voter_id: int):
    """One statement for what casting checks: the poll's state, read under a
    shared lock on its row, the voter's row in the electorate, a proxy the
    voter gave away and an earlier participation. Closing (an UPDATE of the
    poll's row) waits until this vote is committed, so it counts every vote
    that got a receipt; a vote that comes after it is refused (PostgreSQL
    reads the closed state once the lock is granted)."""
    given_proxy = (
        select(PollProxy.id)
        .where(PollProxy.poll_id == Poll.id, PollProxy.grantor_id == voter_id)
        .scalar_subquery()
    )
    earlier = (
        select(Participation.id)
        .where(Participation.poll_id == Poll.id, Participation.voter_id == voter_id)
        .scalar_subquery()
    )
    return db.session.execute(
        select(Poll.state, PollVoter, given_proxy, earlier)
        .select_from(Poll)
        .outerjoin(PollVoter, (PollVoter.poll_id == Poll.id) & (PollVoter.user_id == voter_id))
        .where(Poll.id == poll.id)
        .with_for_update(read=True, of=Poll)
    ).one()


def _holds_proxy(actor, poll: Poll, grantor_id: int) -> bool:
    """Locked: the proxy cannot be revoked while the vote it carries is cast."""
    proxy = db.session.scalar(
        select(PollProxy.id)
        .where(
            PollProxy.poll_id == poll.id,
            PollProxy.grantor_id == grantor_id,
            PollProxy.holder_id == actor.id,
        )
        .with_for_update()
    )
    return proxy is not None


def _record_ballot(actor, poll: Poll, voter: PollVoter, choice, code: str, now) -> None:
    # The unique (poll, voter) participation: of two submissions at once, the
    # second inserts nothing (it waits for the first to commit) and is refused.
    recorded = db.session.scalar(
        _insert_unless_present(Participation.__table__, ("poll_id", "voter_id"))
        .values(
            poll_id=poll.id,
            voter_id=voter.user_id,
            cast_by_id=actor.id,
            receipt_check=receipt_check(poll, voter.user_id, code),
        )
        .returning(Participation.__table__.c.id)
    )
    if recorded is None:
        raise Conflict(_("This vote has already been cast."))
    db.session.execute(
        insert(Ballot.__table__).values(
            id=secrets.token_hex(16),
            poll_id=poll.id,
            choice=json.dumps(choice, ensure_ascii=False),
            weight=voter.weight,
            receipt_hash=receipt_hash(poll, code),
        )
    )
    if not poll.secret:
        _name_vote(poll, voter, actor, choice, code, now)


def _insert_unless_present(model, unique: tuple[str, ...]):
    """INSERT … ON CONFLICT DO NOTHING on ``unique`` (PostgreSQL and SQLite): a
    row already there, or being inserted by a transaction that then commits,
    makes it insert nothing (no row returned) instead of failing the transaction."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    dialect_insert = postgresql_insert if postgresql else sqlite_insert
    return dialect_insert(model).on_conflict_do_nothing(index_elements=list(unique))


def _name_vote(poll: Poll, voter: PollVoter, actor, choice, code: str, now: datetime) -> None:
    db.session.add(
        NamedVote(
            poll_id=poll.id,
            voter_id=voter.user_id,
            cast_by_id=actor.id,
            choice=json.dumps(choice, ensure_ascii=False),
            weight=voter.weight,
            receipt_hash=receipt_hash(poll, code),
            cast_at=now,
        )
    )


def _change_vote(
    actor, poll, participation, voter, choice, code: str, receipt: str | None, now
) -> None:
    if poll.secret:
        if not receipt:
            raise Conflict(
                _(
                    "This vote has already been cast. To change it, give the receipt code you "
                    "received when voting."
                )
            )
        if participation.receipt_check != receipt_check(poll, voter.user_id, receipt):
            raise InvalidInput(_("This receipt code does not match the vote."))
        old_hash = receipt_hash(poll, receipt)
    else:
        current = db.session.scalar(
            select(NamedVote).where(
                NamedVote.poll_id == poll.id,
                NamedVote.voter_id == voter.user_id,
                NamedVote.superseded_at.is_(None),
            )
        )
        current.superseded_at = now
        old_hash = current.receipt_hash
        _name_vote(poll, voter, actor, choice, code, now)
    # The conditional update makes two changes sent at once apply one after the other.
    changed = db.session.execute(
        update(Ballot)
        .where(Ballot.poll_id == poll.id, Ballot.receipt_hash == old_hash)
        .values(
            choice=json.dumps(choice, ensure_ascii=False), receipt_hash=receipt_hash(poll, code)
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise Conflict(_("This vote was changed at the same time from elsewhere; try again."))
    participation.receipt_check = receipt_check(poll, voter.user_id, code)
    participation.cast_by_id = actor.id


def check_receipt(poll: Poll, code: str, actor=None) -> Any | None:
    """The content of the ballot a receipt code stands for, if it is counted."""
    enforce(check_receipt_refusal(actor, poll))
    if not normal_receipt(code):
        return None
    choice = db.session.scalar(
        select(Ballot.choice).where(
            Ballot.poll_id == poll.id, Ballot.receipt_hash == receipt_hash(poll, code)
        )
    )
    return json.loads(choice) if choice is not None else None
