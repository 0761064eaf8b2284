"""Reading votes: a poll as its reader may see it, the lists of a forum's and
a plan's polls, the frozen electorate, turnout, results as stored, named votes,
and the words for choices. No rule is decided here (``permissions``)."""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select
from sqlalchemy.orm import contains_eager, lazyload, selectinload

from ..accounts.models import User
from ..amendments.models import Amendment
from ..consultations.models import Consultation
from ..errors import NotFound
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum, Membership, WorkingGroupMember
from ..labels import label
from ..plans.models import Plan
from .models import (
    STATUS_QUO,
    NamedVote,
    Participation,
    Poll,
    PollCandidate,
    PollProxy,
    PollState,
    PollVoter,
    YesNoChoice,
)


def get_poll(user, forum_slug: str, poll_id) -> Poll:
    """The poll if ``user`` may see its forum; the same 404 for a forum or a poll
    that does not exist, or a forum the user may not see.

    One query brings the poll with its forum, its plan and the reader's
    membership (what ``forums.can_view`` checks), so casting a vote (300
    delegates at once) does not spend three more round trips on them."""
    if not isinstance(poll_id, int) or not forums.is_slug(forum_slug):
        raise NotFound()
    signed_in = getattr(user, "is_authenticated", False)
    query = (
        select(Poll)
        .join(Poll.forum)
        .join(Poll.plan)
        .options(contains_eager(Poll.forum), contains_eager(Poll.plan))
        .where(Poll.id == poll_id, Forum.slug == forum_slug)
    )
    if signed_in:
        query = (
            query.add_columns(Membership)
            .outerjoin(
                Membership, (Membership.forum_id == Forum.id) & (Membership.user_id == user.id)
            )
            .options(lazyload(Membership.forum))  # it is the poll's forum, loaded here
        )
    row = db.session.execute(query).one_or_none()
    if row is None:
        raise NotFound()
    poll = row[0]
    forum = poll.forum
    membership = row[1] if signed_in else None
    if not forums.can_view(user, forum, membership):
        raise NotFound()
    return poll


def list_polls(forum: Forum) -> list[Poll]:
    """Open polls first, then those to come, then the finished ones, newest first."""
    order = {PollState.OPEN: 0, PollState.DRAFT: 1, PollState.CLOSED: 2, PollState.CANCELLED: 3}
    polls = db.session.scalars(
        select(Poll)
        .options(selectinload(Poll.candidates), selectinload(Poll.working_group))
        .where(Poll.forum_id == forum.id)
        .order_by(Poll.opens_at.desc(), Poll.id.desc())
    ).all()
    return sorted(polls, key=lambda poll: order[poll.state])


def plan_timezones(forum: Forum) -> dict[int, str]:
    """The calendar time zone of each of the forum's plans that has a consultation
    (that of its current one, the latest reading, when it had several)."""
    return dict(
        db.session.execute(
            select(Consultation.plan_id, Consultation.timezone)
            .where(Consultation.forum_id == forum.id)
            .order_by(Consultation.plan_id, Consultation.number)
        ).all()
    )


def polls_about(plan: Plan, amendment_ids: list[int] | None = None) -> list[Poll]:
    """The plan's polls that concern these amendments (all the plan's polls without)."""
    query = (
        select(Poll)
        .options(selectinload(Poll.candidates))
        .where(Poll.plan_id == plan.id)
        .order_by(Poll.id)
    )
    if amendment_ids is not None:
        candidate_polls = select(PollCandidate.poll_id).where(
            PollCandidate.amendment_id.in_(amendment_ids)
        )
        query = query.where(Poll.amendment_id.in_(amendment_ids) | Poll.id.in_(candidate_polls))
    return list(db.session.scalars(query))


def voter_row(poll: Poll, user_id: int) -> PollVoter | None:
    return db.session.scalar(
        select(PollVoter).where(PollVoter.poll_id == poll.id, PollVoter.user_id == user_id)
    )


def electorate(poll: Poll) -> list[PollVoter]:
    return list(
        db.session.scalars(
            select(PollVoter)
            .options(selectinload(PollVoter.user))
            .where(PollVoter.poll_id == poll.id)
            .join(User, User.id == PollVoter.user_id)
            .order_by(func.lower(User.display_name), User.id)
        )
    )


@dataclass
class VoterStatus:
    """What the poll page tells one person about their own part in the vote."""

    voter: PollVoter | None = None
    voted: bool = False
    proxy_given: PollProxy | None = None
    # (grantor, whether their vote has been cast), for the proxies this person holds
    proxies_held: list[tuple[User, bool]] = field(default_factory=list)
    proxy_candidates: list[User] = field(default_factory=list)


def proxy_candidates(poll: Poll, user_id: int) -> list[User]:
    """Delegates who could carry this person's vote: in the electorate, not
    giving theirs away, and not already carrying as many as the poll allows."""
    givers = select(PollProxy.grantor_id).where(PollProxy.poll_id == poll.id)
    full = (
        select(PollProxy.holder_id)
        .where(PollProxy.poll_id == poll.id)
        .group_by(PollProxy.holder_id)
        .having(func.count() >= poll.max_proxies)
    )
    return list(
        db.session.scalars(
            select(User)
            .join(PollVoter, PollVoter.user_id == User.id)
            .where(
                PollVoter.poll_id == poll.id,
                User.id != user_id,
                User.id.not_in(givers),
                User.id.not_in(full),
            )
            .order_by(func.lower(User.display_name), User.id)
        )
    )


def turnout(poll: Poll) -> dict[str, Any]:
    """Participation so far (or final): voters and weight, from the participation
    records and the frozen electorate (ballots are not needed, nor looked at)."""
    voters, weight = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PollVoter.weight), 0))
        .select_from(Participation)
        .join(
            PollVoter,
            (PollVoter.poll_id == Participation.poll_id)
            & (PollVoter.user_id == Participation.voter_id),
        )
        .where(Participation.poll_id == poll.id)
    ).one()
    present = db.session.scalar(
        select(func.coalesce(func.sum(PollVoter.weight), 0)).where(
            PollVoter.poll_id == poll.id, PollVoter.present.is_(True)
        )
    )
    return {"voters": voters, "weight": Decimal(weight), "present_weight": Decimal(present)}


def results_visible(user, poll: Poll) -> bool:
    """Results show once the poll is closed, or while it runs if it does not hide them."""
    return poll.state.is_closed or (poll.state.is_open and not poll.hide_results)


def stored_result(poll: Poll) -> dict | None:
    return json.loads(poll.result) if poll.result else None


def named_votes(poll: Poll) -> list[NamedVote]:
    """Named polls: the votes that count, by voter name (nothing for secret polls)."""
    if poll.secret:
        return []
    return list(
        db.session.scalars(
            select(NamedVote)
            .options(selectinload(NamedVote.voter), selectinload(NamedVote.cast_by))
            .join(User, User.id == NamedVote.voter_id)
            .where(NamedVote.poll_id == poll.id, NamedVote.superseded_at.is_(None))
            .order_by(func.lower(User.display_name), User.id)
        )
    )


def vote_history(poll: Poll, voter_id: int) -> list[NamedVote]:
    if poll.secret:
        return []
    return list(
        db.session.scalars(
            select(NamedVote)
            .where(NamedVote.poll_id == poll.id, NamedVote.voter_id == voter_id)
            .order_by(NamedVote.cast_at, NamedVote.id)
        )
    )


def candidate_labels(poll: Poll) -> dict[str, str]:
    """What each ballot name means to a reader: "E3" for an amendment, the
    translated words for keeping the current text."""
    labels = {}
    for candidate in poll.candidates:
        if candidate.name == STATUS_QUO:
            labels[candidate.name] = _("Keep the current text")
        else:
            labels[candidate.name] = candidate.name
    return labels


def choice_label(poll: Poll, choice: Any) -> str:
    if isinstance(choice, list):
        labels = candidate_labels(poll)
        return " > ".join(labels.get(name, name) for name in choice) or _("Blank")
    return label(choice, YesNoChoice)


NOBODY_VOTES = _l(
    "Nobody could vote in this poll: the group has no members, or the forum has no "
    "delegates with a vote weight."
)


def count_rows(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def electorate_query(poll: Poll):
    """Who may vote, with which weight, as it stands now (frozen at opening):
    rows of (poll_id, user_id, weight, coalition_id).

    A working group votes one member one vote; the assembly votes by delegates
    with the weights the forum set. Observers, deactivated accounts and people
    who never accepted their invitation do not vote.
    """
    weight = Membership.vote_weight if poll.scope == "assembly" else literal(Decimal(1))
    query = (
        select(
            literal(poll.id).label("poll_id"),
            Membership.user_id,
            weight.label("weight"),
            Membership.coalition_id,
        )
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.forum_id == poll.forum_id,
            Membership.role != "observer",
            User.active.is_(True),
            User.password_hash.is_not(None),
        )
    )
    if poll.scope == "assembly":
        return query.where(Membership.is_delegate.is_(True), Membership.vote_weight > 0)
    return query.join(
        WorkingGroupMember,
        (WorkingGroupMember.user_id == Membership.user_id)
        & (WorkingGroupMember.working_group_id == poll.working_group_id),
    )


def poll_amendments(poll: Poll) -> list[Amendment]:
    ids = [poll.amendment_id] if poll.amendment_id else []
    ids += [c.amendment_id for c in poll.candidates if c.amendment_id is not None]
    if not ids:
        return []
    return list(
        db.session.scalars(select(Amendment).where(Amendment.id.in_(ids)).order_by(Amendment.id))
    )


def voters_select(poll: Poll):
    """The poll's electorate as a SELECT (notify_many writes from it in one statement)."""
    return select(PollVoter.user_id).where(PollVoter.poll_id == poll.id)


def open_votes_of(plan: Plan, user_id: int, now) -> list:
    """The votes open on ``plan`` now, each with this person's part in it:
    ``voter`` (in its electorate), ``gave`` (their proxy), ``voted`` and
    ``carries`` (a proxy they hold whose vote is not cast yet). One statement."""
    participated = select(Participation.id).where(Participation.poll_id == Poll.id)
    gave = select(PollProxy.id).where(PollProxy.poll_id == Poll.id, PollProxy.grantor_id == user_id)
    carries = select(PollProxy.id).where(
        PollProxy.poll_id == Poll.id,
        PollProxy.holder_id == user_id,
        ~participated.where(Participation.voter_id == PollProxy.grantor_id).exists(),
    )
    return list(
        db.session.execute(
            select(
                Poll.id,
                Poll.allow_change,
                (PollVoter.id.is_not(None)).label("voter"),
                gave.exists().label("gave"),
                participated.where(Participation.voter_id == user_id).exists().label("voted"),
                carries.exists().label("carries"),
            )
            .outerjoin(PollVoter, (PollVoter.poll_id == Poll.id) & (PollVoter.user_id == user_id))
            .where(Poll.plan_id == plan.id, Poll.state == PollState.OPEN, Poll.closes_at > now)
        )
    )


def amendment_in_running_poll(amendment: Amendment) -> bool:
    """Whether a vote that has not closed is about this amendment (the
    amendments ask it: ``amendments.queries.register_running_vote_check``)."""
    running = select(Poll.id).where(Poll.state.in_(("draft", "open")))
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Poll)
            .where(Poll.id.in_(running), Poll.amendment_id == amendment.id)
        )
        or db.session.scalar(
            select(func.count())
            .select_from(PollCandidate)
            .where(PollCandidate.poll_id.in_(running), PollCandidate.amendment_id == amendment.id)
        )
    )


def polls_about_amendment(amendment: Amendment) -> list[Poll]:
    """The polls on this amendment (its page asks them:
    ``amendments.queries.register_vote_finder``)."""
    return polls_about(amendment.plan, [amendment.id])
