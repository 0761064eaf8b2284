"""What waits for this reader in their forums (the "Open now" box of the
forum page and the home page): votes open to them that they have not cast,
their drafts, their amendments still short of supports, and, in the forums
they run, the amendments that wait for a decision and the reported comments.
Every entry links to where the action is taken. A handful of grouped
statements whatever the number of forums, plans and amendments."""

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import contains_eager

from ..amendments.models import Amendment, AmendmentStatus, AmendmentSupport
from ..comments.models import Comment
from ..consultations.models import Consultation
from ..extensions import db
from ..forums.models import MANAGING_ROLES, Forum, Membership
from ..plans.models import Plan
from ..votes.models import Participation, PollVoter

TRIAGE = (AmendmentStatus.SUBMITTED, AmendmentStatus.ADMITTED)


@dataclass(frozen=True)
class Waiting:
    """An amendment of the reader's that is not yet admitted for want of supports."""

    amendment: Amendment
    have: int
    needed: int


@dataclass(frozen=True)
class Desk:
    """A plan whose amendments wait for its facilitators."""

    plan: Plan
    count: int


@dataclass(frozen=True)
class Reported:
    """Reported comments, still shown, of a plan's current consultation."""

    plan: Plan
    consultation_id: int
    count: int


@dataclass
class ForYou:
    ballots: set[int] = field(default_factory=set)  # open polls awaiting the reader's vote
    cast: set[int] = field(default_factory=set)  # open polls the reader has voted in
    drafts: list[Amendment] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    desks: list[Desk] = field(default_factory=list)
    reported: list[Reported] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ballots or self.drafts or self.waiting or self.desks or self.reported)


def for_reader(user, forums: list[Forum], open_poll_ids: list[int]) -> ForYou:
    found = ForYou()
    if not getattr(user, "is_authenticated", False) or not forums:
        return found
    forum_ids = [forum.id for forum in forums]
    if open_poll_ids:
        _ballots(found, user, open_poll_ids)
    _own_amendments(found, user, forum_ids)
    managed = list(
        db.session.scalars(
            select(Membership.forum_id).where(
                Membership.user_id == user.id,
                Membership.forum_id.in_(forum_ids),
                Membership.role.in_([role.value for role in MANAGING_ROLES]),
            )
        )
    )
    if getattr(user, "is_admin", False):
        managed = forum_ids
    if managed:
        _desks(found, managed)
        _reported(found, managed)
    return found


def _ballots(found: ForYou, user, poll_ids: list[int]) -> None:
    """Which of the open votes count the reader as a voter, and whether they voted."""
    voted = exists().where(
        Participation.poll_id == PollVoter.poll_id, Participation.voter_id == user.id
    )
    for poll_id, has_voted in db.session.execute(
        select(PollVoter.poll_id, voted).where(
            PollVoter.user_id == user.id, PollVoter.poll_id.in_(poll_ids)
        )
    ):
        (found.cast if has_voted else found.ballots).add(poll_id)


def _own_amendments(found: ForYou, user, forum_ids: list[int]) -> None:
    """The reader's drafts, and their submitted amendments still short of supports."""
    mine = list(
        db.session.scalars(
            select(Amendment)
            .join(Plan, Amendment.plan_id == Plan.id)
            .options(contains_eager(Amendment.plan))
            .where(
                Amendment.author_id == user.id,
                Amendment.forum_id.in_(forum_ids),
                Amendment.status.in_([AmendmentStatus.DRAFT, AmendmentStatus.SUBMITTED]),
                Plan.status.not_in(("approved", "archived")),
            )
            .order_by(Amendment.updated_at.desc())
            .limit(20)
        )
    )
    found.drafts = [a for a in mine if a.status is AmendmentStatus.DRAFT]
    submitted = [a for a in mine if a.status is AmendmentStatus.SUBMITTED]
    short = [a for a in submitted if a.plan.support_threshold > 0]
    if not short:
        return
    tallies = {
        amendment_id: counts
        for amendment_id, *counts in db.session.execute(
            select(
                AmendmentSupport.amendment_id,
                func.count(),
                func.count(func.distinct(AmendmentSupport.coalition_id)),
                func.count(func.distinct(AmendmentSupport.country)),
            )
            .where(AmendmentSupport.amendment_id.in_([a.id for a in short]))
            .group_by(AmendmentSupport.amendment_id)
        )
    }
    for amendment in short:
        have = _have(tallies.get(amendment.id), amendment.plan.support_threshold_kind)
        if have < amendment.plan.support_threshold:
            found.waiting.append(Waiting(amendment, have, amendment.plan.support_threshold))


def _have(row, kind: str) -> int:
    if not row:
        return 0
    members, coalitions, countries = row
    return {"members": members, "coalitions": coalitions, "countries": countries}.get(kind, 0)


def _desks(found: ForYou, forum_ids: list[int]) -> None:
    rows = db.session.execute(
        select(Plan, func.count(Amendment.id))
        .join(Amendment, Amendment.plan_id == Plan.id)
        .where(
            Plan.forum_id.in_(forum_ids),
            Plan.status.not_in(("approved", "archived")),
            Amendment.status.in_(TRIAGE),
        )
        .group_by(Plan.id)
        .order_by(Plan.id)
    )
    found.desks = [Desk(plan, count) for plan, count in rows]


def _reported(found: ForYou, forum_ids: list[int]) -> None:
    latest = (
        select(Consultation.plan_id, func.max(Consultation.id).label("consultation_id"))
        .group_by(Consultation.plan_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Plan, latest.c.consultation_id, func.count(Comment.id))
        .join(Comment, Comment.plan_id == Plan.id)
        .join(latest, latest.c.plan_id == Plan.id)
        .where(
            Plan.forum_id.in_(forum_ids),
            and_(Comment.flag_count > 0, Comment.hidden_at.is_(None), Comment.deleted_at.is_(None)),
        )
        .group_by(Plan.id, latest.c.consultation_id)
        .order_by(Plan.id)
    )
    found.reported = [Reported(plan, consultation_id, n) for plan, consultation_id, n in rows]
