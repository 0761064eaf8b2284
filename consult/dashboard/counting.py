"""Counting the facilitators' dashboard of a consultation: where the amendments
stand, which working groups are busy, who takes part (by coalition and by
country), and what waits for a facilitator (triage, reported comments). What
the figures are and how they are shown is in ``figures``.

Everything is read with a fixed number of grouped queries, whatever the size of
the plan or of the forum. Target keys are placed in working groups in Python,
from the current version's nodes and the section assignments (one query each).

Drafts are private to their authors: they are left out of every figure, as
they are from the amendment lists.
"""

from dataclasses import dataclass

from sqlalchemy import String, case, cast, func, or_, select, union
from sqlalchemy.orm import aliased, joinedload

from ..accounts.models import User
from ..amendments.models import OPEN_STATUSES, Amendment, AmendmentSupport
from ..amendments.plan_settings import section_assignments
from ..comments.models import Comment
from ..consultations.models import Consultation, Phase
from ..consultations.readings import in_window, reading_window
from ..consultations.services import open_phase
from ..extensions import db
from ..forums.groups import list_groups
from ..forums.models import Coalition, Membership
from ..plans.models import PlanNode
from .figures import (
    DASHBOARD_STATUSES,
    DashboardFigures,
    GroupFigures,
    PhaseFigures,
    Share,
)

QUEUE_LIMIT = 50


# --- what belongs to the consultation ----------------------------------------------


def _comment_scope(consultation: Consultation, plan_id: int):
    """Comments on the plan's items and amendments, and on the consultation
    itself (not on another reading of the plan); never those on a draft
    amendment (private to its author)."""
    draft = aliased(Amendment)  # never correlated with an Amendment of the outer query
    drafts = select(cast(draft.id, String)).where(draft.plan_id == plan_id, draft.status == "draft")
    own = str(consultation.id)
    return (
        (Comment.forum_id == consultation.forum_id)
        & or_(
            Comment.plan_id == plan_id,
            (Comment.target_type == "consultation") & (Comment.target_key == own),
        )
        & ~((Comment.target_type == "consultation") & (Comment.target_key != own))
        & ~((Comment.target_type == "amendment") & Comment.target_key.in_(drafts))
    )


def _shown():
    return Comment.deleted_at.is_(None) & Comment.hidden_at.is_(None)


def _groups_by_key(nodes, assignments: dict[str, int]) -> dict[str, int | None]:
    """The working group in charge of every key of the version: that of the
    nearest enclosing section with an assignment (as amendments.section_group_id)."""
    parents = {key: parent for key, parent, _kind in nodes}
    own = {
        key: assignments[key]
        for key, _parent, kind in nodes
        if kind == "section" and key in assignments
    }
    result: dict[str, int | None] = {}
    for key in parents:
        chain, current = [], key
        while current is not None and current not in result:
            if current in own:
                result[current] = own[current]
                break
            chain.append(current)
            if len(chain) > len(parents):  # a malformed tree: never loop forever
                break
            current = parents.get(current)
        found = result.get(current) if current is not None else None
        for item in chain:
            result[item] = found
    return result


def _per_phase(phases: list[Phase], moment, *conditions) -> dict[int, int]:
    """How many rows have ``moment`` inside each phase (one grouped query)."""
    if not phases:
        return {}
    phase_id = case(
        *[((moment >= phase.starts_at) & (moment < phase.ends_at), phase.id) for phase in phases],
        else_=None,
    )
    inner = select(phase_id.label("phase_id")).where(*conditions).subquery()
    rows = db.session.execute(
        select(inner.c.phase_id, func.count())
        .where(inner.c.phase_id.is_not(None))
        .group_by(inner.c.phase_id)
    )
    return dict(rows.all())


@dataclass
class _Scope:
    """What the figures count: this reading of the plan (a plan read twice
    has a dashboard per reading, its queues included)."""

    consultation: Consultation
    plan_id: int
    forum_id: int
    window: tuple
    comments: object  # the condition on Comment
    amendments: object  # the condition on Amendment: shown, written in the window

    @classmethod
    def of(cls, consultation: Consultation) -> "_Scope":
        plan_id = consultation.plan.id
        window = reading_window(consultation)
        return cls(
            consultation=consultation,
            plan_id=plan_id,
            forum_id=consultation.forum_id,
            window=window,
            comments=_comment_scope(consultation, plan_id) & in_window(Comment.created_at, window),
            amendments=(Amendment.plan_id == plan_id)
            & (Amendment.status != "draft")
            & in_window(Amendment.created_at, window),
        )


class _Groups:
    """The forum's working groups, and the one bucket for sections no group has;
    ``of(key)`` is the bucket of a target key."""

    def __init__(self, consultation: Consultation):
        plan = consultation.plan
        nodes = []
        if plan.current_version_id is not None:
            nodes = db.session.execute(
                select(PlanNode.key, PlanNode.parent_key, PlanNode.kind).where(
                    PlanNode.version_id == plan.current_version_id
                )
            ).all()
        self.group_of = _groups_by_key(nodes, section_assignments(plan))
        self.groups = {
            group.id: GroupFigures(group.id, group.name, members)
            for group, members in list_groups(consultation.forum)
        }
        self.no_group = GroupFigures(None, None)

    def of(self, key: str | None) -> GroupFigures:
        return self.groups.get(self.group_of.get(key) if key else None, self.no_group)

    def shown(self) -> list[GroupFigures]:
        """Every group, and the bucket without one when anything is in it."""
        no_group = self.no_group
        return [
            *self.groups.values(),
            *([no_group] if no_group.amendments or no_group.comments else []),
        ]


# --- computing ----------------------------------------------------------------------


def figures(consultation: Consultation) -> DashboardFigures:
    scope = _Scope.of(consultation)
    groups = _Groups(consultation)
    statuses = _count_amendments(scope, groups)
    comments, flagged_total = _count_comments(scope, groups)
    supports = db.session.scalar(
        select(func.count())
        .select_from(AmendmentSupport)
        .join(Amendment, Amendment.id == AmendmentSupport.amendment_id)
        .where(scope.amendments)
    )
    participants, in_forum = _participants(scope)
    by_coalition = _by_coalition(scope, participants, in_forum)
    by_country = _by_country(participants, in_forum)
    triage, flagged = _queues(scope)
    phases = _phase_figures(scope)
    return DashboardFigures(
        consultation=consultation,
        statuses=statuses,
        groups=groups.shown(),
        comments=comments,
        supports=supports or 0,
        # One membership per member and forum: the buckets add up to the participants.
        participants=sum(share.count for share in by_coalition),
        by_coalition=by_coalition,
        by_country=by_country,
        triage=triage,
        flagged=flagged,
        flagged_total=flagged_total,
        current_phase=open_phase(consultation),
        phases=phases,
    )


def _count_amendments(scope: _Scope, groups: _Groups) -> dict[str, int]:
    """Amendments by status, counted in their target's working group too."""
    statuses = dict.fromkeys(DASHBOARD_STATUSES, 0)
    rows = db.session.execute(
        select(Amendment.target_key, Amendment.status, func.count())
        .where(scope.amendments)
        .group_by(Amendment.target_key, Amendment.status)
    )
    for key, status, number in rows:
        if status in statuses:
            statuses[status] += number
            groups.of(key).statuses[status] += number
    return statuses


def _count_comments(scope: _Scope, groups: _Groups) -> tuple[int, int]:
    """Shown comments, and those reported, counted in their target's working
    group too (an amendment's thread counts where the amendment is). Grouped
    first, then amendments mapped to their items in Python: a join on the text
    key would compare every comment with every amendment."""
    rows = db.session.execute(
        select(
            Comment.target_type,
            Comment.target_key,
            func.count(),
            func.sum(case((Comment.flag_count > 0, 1), else_=0)),
        )
        .where(scope.comments, _shown())
        .group_by(Comment.target_type, Comment.target_key)
    ).all()
    amended_items = {
        str(amendment_id): target_key
        for amendment_id, target_key in db.session.execute(
            select(Amendment.id, Amendment.target_key).where(Amendment.plan_id == scope.plan_id)
        )
    }
    comments = flagged_total = 0
    for target_type, target_key, number, flagged in rows:
        comments += number
        flagged_total += flagged or 0
        key = {"node": target_key, "amendment": amended_items.get(target_key)}.get(target_type)
        groups.of(key).comments += number
    return comments, flagged_total


def _participants(scope: _Scope):
    """Whoever proposed an amendment, commented (a comment its author deleted
    does not count; one the moderators hid does) or supported, as a subquery of
    user ids, and the condition that joins them to their membership of the forum."""
    participants = union(
        select(Amendment.author_id.label("user_id")).where(
            scope.amendments, Amendment.author_id.is_not(None)
        ),
        select(Comment.author_id).where(
            scope.comments, Comment.deleted_at.is_(None), Comment.author_id.is_not(None)
        ),
        select(AmendmentSupport.user_id)
        .join(Amendment, Amendment.id == AmendmentSupport.amendment_id)
        .where(scope.amendments),
    ).subquery()
    in_forum = (Membership.user_id == participants.c.user_id) & (
        Membership.forum_id == scope.forum_id
    )
    return participants, in_forum


def _by_coalition(scope: _Scope, participants, in_forum) -> list[Share]:
    """Participants per coalition of the forum, the most first, then those in none."""
    coalitions = {
        coalition_id: name
        for coalition_id, name in db.session.execute(
            select(Coalition.id, Coalition.name).where(Coalition.forum_id == scope.forum_id)
        )
    }
    per_coalition = dict.fromkeys(coalitions, 0)
    without_coalition = 0
    for coalition_id, number in db.session.execute(
        select(Membership.coalition_id, func.count())
        .select_from(participants)
        .outerjoin(Membership, in_forum)
        .group_by(Membership.coalition_id)
    ):
        if coalition_id in per_coalition:
            per_coalition[coalition_id] += number
        else:
            without_coalition += number
    by_coalition = sorted(
        (Share("coalition", cid, coalitions[cid], n) for cid, n in per_coalition.items()),
        key=lambda share: (-share.count, share.name.casefold()),
    )
    if without_coalition:
        by_coalition.append(Share("coalition", None, None, without_coalition))
    return by_coalition


def _by_country(participants, in_forum) -> list[Share]:
    """Participants per country (their own, else their coalition's), the most
    first, then those of no known country."""
    country = func.coalesce(func.nullif(User.country, ""), func.nullif(Coalition.country, ""))
    per_country = db.session.execute(
        select(country, func.count())
        .select_from(participants)
        .join(User, User.id == participants.c.user_id)
        .outerjoin(Membership, in_forum)
        .outerjoin(Coalition, Coalition.id == Membership.coalition_id)
        .group_by(country)
    ).all()
    by_country = sorted(
        (Share("country", code, None, n) for code, n in per_country if code),
        key=lambda share: (-share.count, share.label.casefold()),
    )
    unknown = sum(n for code, n in per_country if not code)
    if unknown:
        by_country.append(Share("country", None, None, unknown))
    return by_country


def _queues(scope: _Scope) -> tuple[list[Amendment], list[Comment]]:
    """What waits for a facilitator: amendments to triage, the oldest first,
    and reported comments, the most reported first."""
    triage = list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == scope.plan_id,
                Amendment.status.in_(OPEN_STATUSES),
                in_window(Amendment.created_at, scope.window),
            )
            .order_by(func.coalesce(Amendment.submitted_at, Amendment.created_at), Amendment.id)
            .limit(QUEUE_LIMIT)
        )
    )
    flagged = list(
        db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(scope.comments, _shown(), Comment.flag_count > 0)
            .order_by(Comment.flag_count.desc(), Comment.created_at, Comment.id)
            .limit(QUEUE_LIMIT)
        )
    )
    return triage, flagged


def _phase_figures(scope: _Scope) -> list[PhaseFigures]:
    """Amendments submitted and comments posted while each phase ran."""
    phases = list(scope.consultation.phases)
    amendments = _per_phase(phases, Amendment.submitted_at, scope.amendments)
    comments = _per_phase(phases, Comment.created_at, scope.comments, _shown())
    return [
        PhaseFigures(phase, amendments.get(phase.id, 0), comments.get(phase.id, 0))
        for phase in phases
    ]
