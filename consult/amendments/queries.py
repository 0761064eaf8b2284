"""Reading amendments: one, a page of a plan's, their supports, sponsors,
history and sub-amendments. Nothing here changes a row."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..comments.models import Comment
from ..comments.services import counts_subquery
from ..errors import NotFound
from ..extensions import db
from ..forums import services as forums
from ..inputs import clean_text
from ..plans import services as plans
from ..plans.models import Plan, PlanNode
from .models import Amendment, AmendmentEvent, AmendmentSponsor, AmendmentStatus, AmendmentSupport

SORTS = ("newest", "oldest", "supported", "discussed", "target")
MAX_AUTHOR_TEXT = 200


def get_amendment(user, forum_slug: str, amendment_id) -> Amendment:
    """The amendment if ``user`` may see its forum; drafts only for their authors."""
    forum = forums.get_forum_for(user, forum_slug)
    amendment = db.session.get(Amendment, amendment_id) if isinstance(amendment_id, int) else None
    if amendment is None or amendment.forum_id != forum.id:
        raise NotFound()
    if amendment.status.is_draft and not amendment.is_by(user):
        raise NotFound()
    return amendment


@dataclass
class AmendmentPage:
    items: list[Amendment]
    supports: dict[int, int]
    comments: dict[int, int]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_amendments(
    user,
    plan: Plan,
    *,
    status: str | None = None,
    target_keys: list[str] | None = None,
    author_id: int | None = None,
    author_text: str | None = None,
    sort: str = "newest",
    page: int = 1,
    per_page: int = 25,
) -> AmendmentPage:
    """One page of a plan's amendments (drafts only the user's own), with
    support and comment counts, in a fixed number of queries. ``author_text``
    keeps the amendments whose author's shown name contains it (any case)."""
    per_page = min(max(per_page, 1), 100)
    condition = _conditions(user, plan, status, target_keys, author_id, author_text)
    total = db.session.scalar(select(func.count()).select_from(Amendment).where(*condition))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    if sort in ("supported", "discussed"):
        return _page_by_counts(plan, condition, sort, page, per_page, total)
    order = {
        "newest": [Amendment.id.desc()],
        "oldest": [Amendment.id],
        "target": [Amendment.target_ref, Amendment.id],
    }[sort if sort in SORTS else "newest"]
    items = list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author), joinedload(Amendment.coalition))
            .where(*condition)
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    # The counts of this page's amendments only, not of every amendment.
    ids = [amendment.id for amendment in items]
    support_counts = supports_per_amendment(ids)
    comment_counts = comments_per_amendment(plan, ids)
    return AmendmentPage(
        items,
        {amendment.id: support_counts.get(amendment.id, 0) for amendment in items},
        {amendment.id: comment_counts.get(amendment.id, 0) for amendment in items},
        page,
        per_page,
        total,
    )


def _conditions(user, plan, status, target_keys, author_id, author_text) -> list:
    condition = [Amendment.plan_id == plan.id]
    own = user.id if getattr(user, "is_authenticated", False) else -1
    condition.append((Amendment.status != AmendmentStatus.DRAFT) | (Amendment.author_id == own))
    if status:
        condition.append(Amendment.status == status)
    if target_keys is not None:
        condition.append(Amendment.target_key.in_(target_keys))
    if author_id is not None:
        condition.append(Amendment.author_id == author_id)
    if author_text:
        condition.append(_author_matches(author_text))
    return condition


def _page_by_counts(plan, condition, sort, page, per_page, total) -> AmendmentPage:
    """A page ordered by supports or comments: counted for every amendment."""
    supports = (
        select(AmendmentSupport.amendment_id, func.count().label("n"))
        .group_by(AmendmentSupport.amendment_id)
        .subquery()
    )
    discussed = counts_subquery("amendment", plan.id)
    support_count = func.coalesce(supports.c.n, 0)
    comment_count = func.coalesce(discussed.c.n, 0)
    order = {
        "supported": [support_count.desc(), Amendment.id.desc()],
        "discussed": [comment_count.desc(), Amendment.id.desc()],
    }[sort]
    rows = db.session.execute(
        select(Amendment, support_count, comment_count)
        .outerjoin(supports, supports.c.amendment_id == Amendment.id)
        .outerjoin(discussed, discussed.c.target_key == cast(Amendment.id, String))
        .options(joinedload(Amendment.author), joinedload(Amendment.coalition))
        .where(*condition)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AmendmentPage(
        [row[0] for row in rows],
        {row[0].id: row[1] for row in rows},
        {row[0].id: row[2] for row in rows},
        page,
        per_page,
        total,
    )


def supports_per_amendment(ids: list[int]) -> dict[int, int]:
    """Supports of each of these amendments (one query)."""
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(AmendmentSupport.amendment_id, func.count())
            .where(AmendmentSupport.amendment_id.in_(ids))
            .group_by(AmendmentSupport.amendment_id)
        ).all()
    )


def comments_per_amendment(plan: Plan, ids: list[int]) -> dict[int, int]:
    """Shown comments on each of these amendments (one query)."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Comment.target_key, func.count())
        .where(
            Comment.target_type == "amendment",
            Comment.plan_id == plan.id,
            Comment.target_key.in_([str(i) for i in ids]),
            Comment.deleted_at.is_(None),
            Comment.hidden_at.is_(None),
        )
        .group_by(Comment.target_key)
    ).all()
    return {int(key): count for key, count in rows}


def _author_matches(text: str):
    """Amendments whose shown author (the account's name, else the name an
    imported amendment carries) contains ``text``, matched by the database:
    a large forum's thousands of authors are never loaded to be filtered.
    (SQLite folds the case of ASCII letters only.)"""
    text = clean_text(text, multiline=False)[:MAX_AUTHOR_TEXT]
    named = select(User.id).where(User.display_name.icontains(text, autoescape=True))
    return Amendment.author_id.in_(named) | (
        Amendment.author_id.is_(None) & Amendment.author_name.icontains(text, autoescape=True)
    )


def keys_in_sections(nodes: list[PlanNode], section_keys: set[str]) -> list[str]:
    """The keys of these sections and of everything under them."""
    inside = set(section_keys)
    for node in nodes:
        if node.parent_key in inside:
            inside.add(node.key)
    return list(inside)


def counts_by_target(plan: Plan) -> dict[str, int]:
    """Visible (not draft) amendments per target key, in one query."""
    rows = db.session.execute(
        select(Amendment.target_key, func.count())
        .where(Amendment.plan_id == plan.id, Amendment.status != AmendmentStatus.DRAFT)
        .group_by(Amendment.target_key)
    )
    return {key: count for key, count in rows if key}


def history(amendment: Amendment) -> list[AmendmentEvent]:
    return list(
        db.session.scalars(
            select(AmendmentEvent)
            .options(joinedload(AmendmentEvent.actor))
            .where(AmendmentEvent.amendment_id == amendment.id)
            .order_by(AmendmentEvent.id)
        )
    )


def supporters(amendment: Amendment) -> list[AmendmentSupport]:
    return list(
        db.session.scalars(
            select(AmendmentSupport)
            .options(joinedload(AmendmentSupport.user), joinedload(AmendmentSupport.coalition))
            .where(AmendmentSupport.amendment_id == amendment.id)
            .order_by(AmendmentSupport.id)
        )
    )


def sponsors(amendment: Amendment) -> list[AmendmentSponsor]:
    return list(
        db.session.scalars(
            select(AmendmentSponsor)
            .options(joinedload(AmendmentSponsor.user))
            .where(AmendmentSponsor.amendment_id == amendment.id)
            .order_by(AmendmentSponsor.id)
        )
    )


def sub_amendments(amendment: Amendment) -> list[Amendment]:
    return list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(Amendment.parent_id == amendment.id, Amendment.status != AmendmentStatus.DRAFT)
            .order_by(Amendment.number)
        )
    )


def support_tally(amendment: Amendment) -> dict[str, int]:
    """Supports counted in members, distinct coalitions and distinct countries."""
    members, coalitions, countries = db.session.execute(
        select(
            func.count(),
            func.count(func.distinct(AmendmentSupport.coalition_id)),
            func.count(func.distinct(AmendmentSupport.country)),
        ).where(AmendmentSupport.amendment_id == amendment.id)
    ).one()
    return {"members": members, "coalitions": coalitions, "countries": countries}


def support_tallies(amendment_ids: list[int]) -> dict[int, dict[str, int]]:
    """``support_tally`` of many amendments in one statement."""
    tallies = {i: {"members": 0, "coalitions": 0, "countries": 0} for i in amendment_ids}
    if not amendment_ids:
        return tallies
    rows = db.session.execute(
        select(
            AmendmentSupport.amendment_id,
            func.count(),
            func.count(func.distinct(AmendmentSupport.coalition_id)),
            func.count(func.distinct(AmendmentSupport.country)),
        )
        .where(AmendmentSupport.amendment_id.in_(amendment_ids))
        .group_by(AmendmentSupport.amendment_id)
    )
    for amendment_id, members, coalitions, countries in rows:
        tallies[amendment_id] = {
            "members": members,
            "coalitions": coalitions,
            "countries": countries,
        }
    return tallies


def current_target(amendment: Amendment) -> PlanNode | None:
    """The amended item as it is in the plan's current version (None if gone)."""
    if not amendment.target_key:
        return None
    version = plans.get_version(amendment.plan)
    return next((n for n in plans.version_nodes(version) if n.key == amendment.target_key), None)


def compromise_candidates(plan: Plan, target_key: str) -> list[Amendment]:
    """The amendments a compromise on this item may merge: open ones, and accepted
    ones that a consolidated draft could not apply (they conflict); not
    sub-amendments."""
    open_ones = Amendment.status.in_((AmendmentStatus.SUBMITTED, AmendmentStatus.ADMITTED))
    unapplied = (Amendment.status == AmendmentStatus.ACCEPTED) & Amendment.applied_version_id.is_(
        None
    )
    return list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == plan.id,
                Amendment.target_key == target_key,
                open_ones | unapplied,
                Amendment.parent_id.is_(None),
            )
            .order_by(Amendment.number)
        )
    )


def invitation_of(actor, amendment: Amendment) -> AmendmentSponsor | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(AmendmentSponsor).where(
            AmendmentSponsor.amendment_id == amendment.id, AmendmentSponsor.user_id == actor.id
        )
    )


# The votes about an amendment, and whether one has not closed: votes, above
# amendments, registers its queries when the app is made (consult/app.py).
_running_vote_checks: list[Callable[[Amendment], bool]] = []
_vote_finders: list[Callable[[Amendment], list]] = []


def register_running_vote_check(check: Callable[[Amendment], bool]) -> None:
    if check not in _running_vote_checks:
        _running_vote_checks.append(check)


def register_vote_finder(finder: Callable[[Amendment], list]) -> None:
    if finder not in _vote_finders:
        _vote_finders.append(finder)


def votes_about(amendment: Amendment) -> list:
    """The votes held on this amendment (its page lists them)."""
    return [poll for finder in _vote_finders for poll in finder(amendment)]


def in_running_poll(amendment: Amendment) -> bool:
    """Whether a vote that has not closed is about this amendment."""
    return any(check(amendment) for check in _running_vote_checks)


def status_counts(plan: Plan) -> dict[str, int]:
    """Amendments of the plan by status (one grouped query), for the
    consultation's public page (drafts are their authors' only)."""
    rows = db.session.execute(
        select(Amendment.status, func.count())
        .where(Amendment.plan_id == plan.id, Amendment.status != "draft")
        .group_by(Amendment.status)
    )
    return dict(rows.all())
