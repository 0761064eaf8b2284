"""The facilitators' dashboard of a consultation: where the amendments stand,
which working groups are busy, who takes part (by coalition and by country),
and what waits for a facilitator (triage, reported comments).

Everything is read with a fixed number of grouped queries, whatever the size of
the plan or of the forum. Target keys are placed in working groups in Python,
from the current version's nodes and the section assignments (one query each).

Drafts are private to their authors: they are left out of every figure, as
they are from the amendment lists.
"""

import csv
import io
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, case, cast, func, or_, select, union
from sqlalchemy.orm import aliased, joinedload

from ..accounts.models import User
from ..amendments.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    Amendment,
    AmendmentSupport,
)
from ..amendments.plan_settings import section_assignments
from ..comments.models import Comment
from ..extensions import db
from ..forums.groups import list_groups
from ..forums.models import Coalition, Membership
from ..i18n import country_name
from ..plans.models import PlanNode
from ..spreadsheets import safe_cell
from .models import Consultation, Phase
from .readings import in_window, reading_window
from .services import PHASE_LABELS, open_phase

# Statuses shown on the dashboard (drafts are private), in the order of their life.
DASHBOARD_STATUSES = tuple(status for status in STATUSES if status != "draft")
QUEUE_LIMIT = 50

NO_GROUP = _l("No working group")
NO_COALITION = _l("No coalition")
UNKNOWN_COUNTRY = _l("Unknown country")


# --- the figures ---------------------------------------------------------------


@dataclass
class GroupFigures:
    """One working group's share of the work (``group_id`` None: sections no group has)."""

    group_id: int | None
    name: str | None
    members: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DASHBOARD_STATUSES, 0))
    comments: int = 0

    @property
    def label(self) -> str:
        return self.name if self.group_id is not None else str(NO_GROUP)

    @property
    def amendments(self) -> int:
        return sum(self.statuses.values())

    @property
    def undecided(self) -> int:
        """Waiting for a facilitator, a vote or their author's revision."""
        return sum(n for status, n in self.statuses.items() if status not in FINAL_STATUSES)

    @property
    def accepted(self) -> int:
        return self.statuses.get("accepted", 0)


@dataclass
class Share:
    """Participants in one bucket: a coalition (by id) or a country (by ISO code);
    ``key`` None is the "no coalition" / "unknown country" bucket."""

    kind: str  # "coalition" or "country"
    key: int | str | None
    name: str | None
    count: int

    @property
    def label(self) -> str:
        if self.kind == "coalition":
            return self.name if self.key is not None else str(NO_COALITION)
        return country_name(self.key) if self.key else str(UNKNOWN_COUNTRY)


@dataclass
class PhaseFigures:
    phase: Phase
    amendments: int = 0  # submitted while the phase ran
    comments: int = 0  # posted while the phase ran

    @property
    def label(self) -> str:
        return self.phase.title or str(PHASE_LABELS.get(self.phase.kind, self.phase.kind))


@dataclass
class DashboardFigures:
    consultation: Consultation
    statuses: dict[str, int]
    groups: list[GroupFigures]
    comments: int
    supports: int
    participants: int
    by_coalition: list[Share]
    by_country: list[Share]
    triage: list[Amendment]
    flagged: list[Comment]
    flagged_total: int
    current_phase: Phase | None = None
    phases: list[PhaseFigures] = field(default_factory=list)

    @property
    def amendments(self) -> int:
        return sum(self.statuses.values())

    @property
    def triage_total(self) -> int:
        """Everything that waits for a facilitator or a vote: submitted,
        admitted and put to a vote."""
        return sum(self.statuses.get(status, 0) for status in OPEN_STATUSES)

    # Rows of (label, value) for the charts and their tables.
    @property
    def status_rows(self) -> list[tuple[str, int]]:
        from ..amendments.models import STATUS_LABELS

        return [(str(STATUS_LABELS[status]), n) for status, n in self.statuses.items()]

    @property
    def group_amendment_rows(self) -> list[tuple[str, int]]:
        return [(group.label, group.amendments) for group in self.groups]

    @property
    def group_comment_rows(self) -> list[tuple[str, int]]:
        return [(group.label, group.comments) for group in self.groups]

    @property
    def coalition_rows(self) -> list[tuple[str, int]]:
        return [(share.label, share.count) for share in self.by_coalition]

    @property
    def country_rows(self) -> list[tuple[str, int]]:
        return [(share.label, share.count) for share in self.by_country]


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


# --- computing ----------------------------------------------------------------------


def figures(consultation: Consultation) -> DashboardFigures:
    plan = consultation.plan
    plan_id, forum_id = plan.id, consultation.forum_id
    # What was written during this reading of the plan (a plan read twice has
    # a dashboard per reading, its queues included).
    window = reading_window(consultation)
    scope = _comment_scope(consultation, plan_id) & in_window(Comment.created_at, window)
    visible_amendment = (
        (Amendment.plan_id == plan_id)
        & (Amendment.status != "draft")
        & in_window(Amendment.created_at, window)
    )

    # Where each target key belongs.
    nodes = []
    if plan.current_version_id is not None:
        nodes = db.session.execute(
            select(PlanNode.key, PlanNode.parent_key, PlanNode.kind).where(
                PlanNode.version_id == plan.current_version_id
            )
        ).all()
    group_of = _groups_by_key(nodes, section_assignments(plan))

    groups = {
        group.id: GroupFigures(group.id, group.name, members)
        for group, members in list_groups(consultation.forum)
    }
    no_group = GroupFigures(None, None)

    def bucket(key: str | None) -> GroupFigures:
        return groups.get(group_of.get(key) if key else None, no_group)

    # Amendments by target and status.
    statuses = dict.fromkeys(DASHBOARD_STATUSES, 0)
    rows = db.session.execute(
        select(Amendment.target_key, Amendment.status, func.count())
        .where(visible_amendment)
        .group_by(Amendment.target_key, Amendment.status)
    )
    for key, status, number in rows:
        if status in statuses:
            statuses[status] += number
            bucket(key).statuses[status] += number

    # Shown comments by target (an amendment's thread counts where the amendment
    # is). Grouped first, then amendments mapped to their items in Python: a join
    # on the text key would compare every comment with every amendment.
    rows = db.session.execute(
        select(
            Comment.target_type,
            Comment.target_key,
            func.count(),
            func.sum(case((Comment.flag_count > 0, 1), else_=0)),
        )
        .where(scope, _shown())
        .group_by(Comment.target_type, Comment.target_key)
    ).all()
    amended_items = {
        str(amendment_id): target_key
        for amendment_id, target_key in db.session.execute(
            select(Amendment.id, Amendment.target_key).where(Amendment.plan_id == plan_id)
        )
    }
    comments = flagged_total = 0
    for target_type, target_key, number, flagged in rows:
        comments += number
        flagged_total += flagged or 0
        key = {"node": target_key, "amendment": amended_items.get(target_key)}.get(target_type)
        bucket(key).comments += number

    supports = db.session.scalar(
        select(func.count())
        .select_from(AmendmentSupport)
        .join(Amendment, Amendment.id == AmendmentSupport.amendment_id)
        .where(visible_amendment)
    )

    # Participants: whoever proposed an amendment, commented (a comment its
    # author deleted does not count; one the moderators hid does) or supported.
    participants = union(
        select(Amendment.author_id.label("user_id")).where(
            visible_amendment, Amendment.author_id.is_not(None)
        ),
        select(Comment.author_id).where(
            scope, Comment.deleted_at.is_(None), Comment.author_id.is_not(None)
        ),
        select(AmendmentSupport.user_id)
        .join(Amendment, Amendment.id == AmendmentSupport.amendment_id)
        .where(visible_amendment),
    ).subquery()
    in_forum = (Membership.user_id == participants.c.user_id) & (Membership.forum_id == forum_id)

    coalitions = {
        coalition_id: name
        for coalition_id, name in db.session.execute(
            select(Coalition.id, Coalition.name).where(Coalition.forum_id == forum_id)
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
    # One membership per member and forum: the buckets add up to the participants.
    participant_count = sum(share.count for share in by_coalition)

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

    # What waits for a facilitator.
    triage = list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == plan_id,
                Amendment.status.in_(OPEN_STATUSES),
                in_window(Amendment.created_at, window),
            )
            .order_by(func.coalesce(Amendment.submitted_at, Amendment.created_at), Amendment.id)
            .limit(QUEUE_LIMIT)
        )
    )
    flagged = list(
        db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(scope, _shown(), Comment.flag_count > 0)
            .order_by(Comment.flag_count.desc(), Comment.created_at, Comment.id)
            .limit(QUEUE_LIMIT)
        )
    )

    # Activity per phase.
    phases = list(consultation.phases)
    amendments_per_phase = _per_phase(phases, Amendment.submitted_at, visible_amendment)
    comments_per_phase = _per_phase(phases, Comment.created_at, scope, _shown())

    return DashboardFigures(
        consultation=consultation,
        statuses=statuses,
        groups=[
            *groups.values(),
            *([no_group] if no_group.amendments or no_group.comments else []),
        ],
        comments=comments,
        supports=supports or 0,
        participants=participant_count,
        by_coalition=by_coalition,
        by_country=by_country,
        triage=triage,
        flagged=flagged,
        flagged_total=flagged_total,
        current_phase=open_phase(consultation),
        phases=[
            PhaseFigures(
                phase,
                amendments_per_phase.get(phase.id, 0),
                comments_per_phase.get(phase.id, 0),
            )
            for phase in phases
        ],
    )


# --- export --------------------------------------------------------------------------


def figures_csv(figures: DashboardFigures) -> str:
    """The figures as ``metric,group,value`` rows: ``group`` is the bucket a
    figure is broken down by (empty for totals). Bucket names are translated."""
    rows: list[tuple[str, str, int]] = [
        ("participants", "", figures.participants),
        ("amendments", "", figures.amendments),
        *((f"amendments_{status}", "", n) for status, n in figures.statuses.items()),
        ("supports", "", figures.supports),
        ("comments", "", figures.comments),
        ("flagged_comments", "", figures.flagged_total),
    ]
    for group in figures.groups:
        rows.append(("amendments", group.label, group.amendments))
        rows.extend((f"amendments_{s}", group.label, n) for s, n in group.statuses.items())
        rows.append(("comments", group.label, group.comments))
    rows.extend(("participants_by_coalition", s.label, s.count) for s in figures.by_coalition)
    rows.extend(("participants_by_country", s.label, s.count) for s in figures.by_country)
    for phase in figures.phases:
        rows.append(("amendments_in_phase", phase.label, phase.amendments))
        rows.append(("comments_in_phase", phase.label, phase.comments))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "group", "value"])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
