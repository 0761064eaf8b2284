"""Amendments: proposing, supporting, co-sponsoring, triage, compromises,
sub-amendments and conflicts. Every operation takes the acting user."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..audit.services import record
from ..consultations import services as consultations
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum, Membership, WorkingGroup, WorkingGroupMember
from ..inputs import clean_text
from ..notifications.services import notify, notify_each
from ..plans import services as plans
from ..plans.models import Plan, PlanNode, SectionGroup
from .models import (
    FINAL_STATUSES,
    OPERATIONS,
    Amendment,
    AmendmentEvent,
    AmendmentSponsor,
    AmendmentSupport,
)

MAX_TEXT = 20_000
MAX_REASON = 2_000

OPERATION_LABELS = {
    "replace": _l("Replace the text"),
    "delete": _l("Delete"),
    "insert_after": _l("Insert a new item after"),
    "new_section": _l("Add a new section after"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "admitted": _l("Admitted"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
    "merged": _l("Merged into a compromise"),
    "voting": _l("Put to a vote"),
    "revise": _l("To be revised by the author"),
}

# Who may move an amendment from one status to another.
AUTHOR_MOVES = {
    ("draft", "submitted"),
    ("submitted", "withdrawn"),
    ("admitted", "withdrawn"),
    ("revise", "withdrawn"),
}
FACILITATOR_MOVES = {
    ("submitted", "admitted"),
    ("submitted", "rejected"),
    ("admitted", "accepted"),
    ("admitted", "rejected"),
    ("admitted", "voting"),
    ("voting", "accepted"),
    ("voting", "rejected"),
}


# --- reading -------------------------------------------------------------------


def get_amendment(user, forum_slug: str, amendment_id) -> Amendment:
    """The amendment if ``user`` may see its forum; drafts only for their authors."""
    forum = forums.get_forum_for(user, forum_slug)
    amendment = db.session.get(Amendment, amendment_id) if isinstance(amendment_id, int) else None
    if amendment is None or amendment.forum_id != forum.id:
        raise NotFound()
    if amendment.status == "draft" and not is_author(user, amendment):
        raise NotFound()
    return amendment


def is_author(user, amendment: Amendment) -> bool:
    return getattr(user, "is_authenticated", False) and amendment.author_id == user.id


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


SORTS = ("newest", "oldest", "supported", "discussed", "target")


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
    from ..comments.services import counts_subquery

    per_page = min(max(per_page, 1), 100)
    supports = (
        select(AmendmentSupport.amendment_id, func.count().label("n"))
        .group_by(AmendmentSupport.amendment_id)
        .subquery()
    )
    discussed = counts_subquery("amendment", plan.id)
    condition = [Amendment.plan_id == plan.id]
    own = user.id if getattr(user, "is_authenticated", False) else -1
    condition.append((Amendment.status != "draft") | (Amendment.author_id == own))
    if status:
        condition.append(Amendment.status == status)
    if target_keys is not None:
        condition.append(Amendment.target_key.in_(target_keys))
    if author_id is not None:
        condition.append(Amendment.author_id == author_id)
    if author_text:
        condition.append(_author_matches(author_text))
    total = db.session.scalar(select(func.count()).select_from(Amendment).where(*condition))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    if sort in ("supported", "discussed"):
        return _page_by_counts(condition, supports, discussed, sort, page, per_page, total)
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
    support_counts = (
        {}
        if not ids
        else dict(
            db.session.execute(
                select(AmendmentSupport.amendment_id, func.count())
                .where(AmendmentSupport.amendment_id.in_(ids))
                .group_by(AmendmentSupport.amendment_id)
            ).all()
        )
    )
    comment_counts = comments_per_amendment(plan, ids)
    return AmendmentPage(
        items,
        {amendment.id: support_counts.get(amendment.id, 0) for amendment in items},
        {amendment.id: comment_counts.get(amendment.id, 0) for amendment in items},
        page,
        per_page,
        total,
    )


def _page_by_counts(condition, supports, discussed, sort, page, per_page, total):
    """A page ordered by supports or comments: counted for every amendment."""
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


def comments_per_amendment(plan: Plan, ids: list[int]) -> dict[int, int]:
    """Shown comments on each of these amendments (one query)."""
    from ..comments.models import Comment

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


MAX_AUTHOR_TEXT = 200


def _author_matches(text: str):
    """Amendments whose shown author (the account's name, else the name an
    imported amendment carries) contains ``text``, matched by the database:
    a large forum's thousands of authors are never loaded to be filtered.
    (SQLite folds the case of ASCII letters only.)"""
    from ..accounts.models import User

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


def group_section_keys(plan: Plan, group_id: int) -> set[str]:
    return {key for key, group in section_assignments(plan).items() if group == group_id}


def counts_by_target(plan: Plan) -> dict[str, int]:
    """Visible (not draft) amendments per target key, in one query."""
    rows = db.session.execute(
        select(Amendment.target_key, func.count())
        .where(Amendment.plan_id == plan.id, Amendment.status != "draft")
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
            .where(Amendment.parent_id == amendment.id, Amendment.status != "draft")
            .order_by(Amendment.number)
        )
    )


# --- permissions -------------------------------------------------------------------


def _membership(actor, forum: Forum) -> Membership | None:
    return forums.membership_of(actor, forum)


def section_group_id(plan: Plan, nodes_by_key: dict[str, PlanNode], key: str | None) -> int | None:
    """The working group in charge of the nearest enclosing section that has one."""
    assignments = dict(
        db.session.execute(
            select(SectionGroup.section_key, SectionGroup.working_group_id).where(
                SectionGroup.plan_id == plan.id
            )
        ).all()
    )
    node = nodes_by_key.get(key) if key else None
    while node is not None:
        if node.kind == "section" and node.key in assignments:
            return assignments[node.key]
        node = nodes_by_key.get(node.parent_key)
    return None


def eligibility_reason(actor, plan: Plan, target_key: str | None, nodes_by_key: dict) -> str | None:
    """Why ``actor`` may never amend this target (whatever the calendar), or None."""
    forum = plan.forum
    membership = _membership(actor, forum)
    if forums.can_manage(actor, forum, membership):
        return None
    if membership is None or membership.role == "observer":
        return _("Only members of the forum can propose amendments.")
    group_id = section_group_id(plan, nodes_by_key, target_key)
    if group_id is not None:
        in_group = db.session.scalar(
            select(WorkingGroupMember.id).where(
                WorkingGroupMember.working_group_id == group_id,
                WorkingGroupMember.user_id == actor.id,
            )
        )
        if in_group is None:
            return _(
                "This section is in the hands of a working group you are not part of. "
                "You can still comment on it."
            )
    return None


def phase_reason(actor, plan: Plan, action: str) -> str | None:
    """Why the calendar (the consultation's phase, or the plan's switch) does not
    allow ``action`` now; facilitators are not bound by it (but an archived
    plan refuses everyone)."""
    if refusal := plans.archived_refusal(plan):
        return refusal
    if forums.can_manage(actor, plan.forum):
        return None
    return consultations.closed_reason(plan, action)


def may_amend(actor, plan: Plan, target_key: str | None, nodes_by_key: dict) -> str | None:
    """None when ``actor`` may amend this target now, else the reason why not."""
    return eligibility_reason(actor, plan, target_key, nodes_by_key) or phase_reason(
        actor, plan, "amend"
    )


def require_amend(actor, plan: Plan, target_key: str | None, nodes_by_key: dict) -> None:
    reason = may_amend(actor, plan, target_key, nodes_by_key)
    if reason is not None:
        raise PermissionDenied(reason)


# --- proposing -------------------------------------------------------------------


def clean_proposal(text: str | None) -> str:
    from ..plans.importer import normalise

    text = normalise(text or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            _("The text is too long (at most %(count)d characters).", count=MAX_TEXT)
        )
    return text


def _next_number(plan: Plan) -> int:
    return (
        db.session.scalar(select(func.max(Amendment.number)).where(Amendment.plan_id == plan.id))
        or 0
    ) + 1


def record_event(amendment: Amendment, actor, before: str, after: str, reason: str = "") -> None:
    db.session.add(
        AmendmentEvent(
            amendment_id=amendment.id,
            actor_id=getattr(actor, "id", None),
            from_status=before,
            to_status=after,
            reason=reason,
        )
    )


def insert_numbered(amendment: Amendment) -> Amendment:
    """Add with the next number of the plan. A concurrent proposal that took the
    number makes us retry; the same form sent twice at once returns the first."""
    for _attempt in range(3):
        amendment.number = _next_number(amendment.plan)
        savepoint = db.session.begin_nested()
        db.session.add(amendment)
        try:
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            if amendment.form_token:
                first = db.session.scalar(
                    select(Amendment).where(
                        Amendment.author_id == amendment.author_id,
                        Amendment.form_token == amendment.form_token,
                    )
                )
                if first is not None:
                    return first
            continue
        savepoint.commit()
        return amendment
    raise Conflict()


def propose(
    actor,
    plan: Plan,
    *,
    target: str | None,
    operation: str,
    text: str = "",
    justification: str = "",
    language: str | None = None,
    submit: bool = False,
    form_token: str | None = None,
) -> Amendment:
    """A new amendment to the current version (a draft, or submitted at once).

    With ``form_token``, sending the same form again returns the amendment it
    already made instead of a second one.
    """
    if form_token and getattr(actor, "id", None) is not None:
        existing = db.session.scalar(
            select(Amendment).where(
                Amendment.author_id == actor.id, Amendment.form_token == form_token[:64]
            )
        )
        if existing is not None:
            return existing
    plans.require_not_archived(plan)
    if operation not in OPERATIONS:
        raise InvalidInput(_("Unknown kind of amendment."))
    version = plans.get_version(plan)
    nodes = plans.version_nodes(version)
    by_key = {node.key: node for node in nodes}
    node = None
    if target:
        node = next((n for n in nodes if n.key == target or n.ref == target), None)
        if node is None:
            raise NotFound(_("There is no item %(ref)s in this version.", ref=target))
    elif operation != "new_section":
        raise InvalidInput(_("Choose the item to amend."))
    refusal = eligibility_reason(actor, plan, node.key if node else None, by_key)
    if refusal is not None:
        raise PermissionDenied(refusal)
    closed = phase_reason(actor, plan, "amend")
    text = clean_proposal(text)
    if operation == "delete":
        text = ""
    elif not text:
        raise InvalidInput(_("Write the text you propose."))
    elif operation == "replace" and node is not None and text == node.text:
        raise InvalidInput(_("The proposed text is the same as the current text."))
    membership = _membership(actor, plan.forum)
    amendment = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=version.id,
        target_key=node.key if node else None,
        target_ref=node.ref if node else "",
        operation=operation,
        original_text=node.text if node else "",
        proposed_text=text,
        justification=clean_proposal(justification),
        language=language or plan.language,
        status="draft",
        author_id=getattr(actor, "id", None),
        coalition_id=membership.coalition_id if membership else None,
        form_token=(form_token or None) and form_token[:64],
    )
    inserted = insert_numbered(amendment)
    if inserted is not amendment:
        return inserted
    record_event(amendment, actor, "", "draft")
    if submit and closed is None:
        submit_amendment(actor, amendment)
    # Past the deadline the text is not lost: it stays as the member's draft.
    amendment.submission_refused = closed if submit else None
    return amendment


def update_draft(actor, amendment: Amendment, *, text: str, justification: str) -> None:
    if not is_author(actor, amendment):
        raise PermissionDenied()
    plans.require_not_archived(amendment.plan)
    if amendment.status != "draft":
        raise Conflict(_("Only drafts can be edited; withdraw it and propose it again."))
    text = clean_proposal(text)
    if amendment.operation != "delete" and not text:
        raise InvalidInput(_("Write the text you propose."))
    amendment.proposed_text = "" if amendment.operation == "delete" else text
    amendment.justification = clean_proposal(justification)
    amendment.updated_at = utcnow()


# --- after a consolidated draft ---------------------------------------------------


def current_target(amendment: Amendment) -> PlanNode | None:
    """The amended item as it is in the plan's current version (None if gone)."""
    if not amendment.target_key:
        return None
    version = plans.get_version(amendment.plan)
    return next((n for n in plans.version_nodes(version) if n.key == amendment.target_key), None)


def carry_over(amendment: Amendment, version, node: PlanNode | None, proposed: str) -> None:
    """A consolidation changed the amended item without touching the words the
    amendment changes: the amendment now reads against the new text. The author
    is told; the event log keeps the text before."""
    carry_over_many(version, [(amendment, node, proposed)])


def carry_over_many(version, moves: list[tuple[Amendment, PlanNode | None, str]]) -> None:
    """``carry_over`` for many amendments, ``(amendment, node, proposed)`` each,
    in three statements whatever their number: the amendments (guarded by their
    lock_version as the ORM guards an edit: one changed meanwhile fails the
    whole job, none is overwritten), their events, their authors' notifications."""
    if not moves:
        return
    now = utcnow()
    table = Amendment.__table__
    changes, events, told = [], [], []
    for amendment, node, proposed in moves:
        original = node.text if node is not None else amendment.original_text
        ref = node.ref if node is not None else amendment.target_ref
        changes.append(
            {
                "b_id": amendment.id,
                "b_lock": amendment.lock_version,
                "b_original": original,
                "b_ref": ref,
                "b_proposed": proposed,
            }
        )
        events.append(
            {
                "amendment_id": amendment.id,
                "actor_id": None,
                "from_status": amendment.status,
                "to_status": amendment.status,
                "reason": _(
                    "Carried over to version %(number)d. The text before was: %(text)s",
                    number=version.number,
                    text=amendment.proposed_text,
                )[:2000],
                "created_at": now,
            }
        )
        if amendment.author_id is not None:
            told.append(
                (
                    amendment.author_id,
                    "amendment_rebased",
                    amendment,
                    amendment.plan.forum,
                    {"label": amendment.label, "number": version.number},
                )
            )
    written = db.session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lock_version == bindparam("b_lock"))
        .values(
            base_version_id=version.id,
            original_text=bindparam("b_original"),
            target_ref=bindparam("b_ref"),
            proposed_text=bindparam("b_proposed"),
            updated_at=now,
            lock_version=table.c.lock_version + 1,
        ),
        changes,
    ).rowcount
    if written != len(changes):
        raise StaleDataError(f"{len(changes) - written} amendment(s) changed meanwhile")
    for (amendment, _node, _proposed), change in zip(moves, changes, strict=True):
        # The objects say what the rows now hold.
        for name, value in (
            ("base_version_id", version.id),
            ("original_text", change["b_original"]),
            ("target_ref", change["b_ref"]),
            ("proposed_text", change["b_proposed"]),
            ("updated_at", now),
            ("lock_version", amendment.lock_version + 1),
        ):
            set_committed_value(amendment, name, value)
    db.session.execute(insert(AmendmentEvent.__table__), events)
    notify_each(told)


def ask_for_revision(amendment: Amendment, reason: str) -> None:
    """The new version changed the words this amendment changes (or removed its
    item): it is not rewritten by the machine; its author is asked to revise it."""
    _set_status(None, amendment, "revise", reason)


def revise(actor, amendment: Amendment, *, text: str, justification: str) -> None:
    """The author's new text for an amendment to be revised, against the current
    version; it is submitted again."""
    if not is_author(actor, amendment):
        raise PermissionDenied(_("Only the author can do this."))
    plans.require_not_archived(amendment.plan)
    if amendment.status != "revise":
        raise Conflict(_("Only drafts can be edited; withdraw it and propose it again."))
    node = current_target(amendment)
    if amendment.target_key and node is None:
        raise Conflict(
            _("The amended item is no longer in the plan; withdraw this amendment instead.")
        )
    text = "" if amendment.operation == "delete" else clean_proposal(text)
    if amendment.operation != "delete" and not text:
        raise InvalidInput(_("Write the text you propose."))
    if amendment.operation == "replace" and text == node.text:
        raise InvalidInput(_("The proposed text is the same as the current text."))
    amendment.base_version_id = amendment.plan.current_version_id
    if node is not None:
        amendment.original_text, amendment.target_ref = node.text, node.ref
    amendment.proposed_text = text
    amendment.justification = clean_proposal(justification)
    _set_status(actor, amendment, "submitted", _("Revised by the author."))


def submit_amendment(actor, amendment: Amendment) -> None:
    if amendment.parent_id is None and (closed := phase_reason(actor, amendment.plan, "amend")):
        raise Conflict(closed)
    _move(actor, amendment, "submitted")
    amendment.submitted_at = utcnow()
    for member_id in _group_member_ids(amendment):
        notify(
            member_id,
            "amendment_submitted",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
            ref=amendment.target_ref,
        )


def _group_member_ids(amendment: Amendment) -> list[int]:
    """Members of the working group in charge of the amended section."""
    version = amendment.plan.current_version
    nodes = {n.key: n for n in plans.version_nodes(version)}
    group_id = section_group_id(amendment.plan, nodes, amendment.target_key)
    if group_id is None:
        return []
    return list(
        db.session.scalars(
            select(WorkingGroupMember.user_id).where(
                WorkingGroupMember.working_group_id == group_id
            )
        )
    )


def withdraw(actor, amendment: Amendment, reason: str = "") -> None:
    _move(actor, amendment, "withdrawn", reason)


# --- the status machine -------------------------------------------------------


def _move(actor, amendment: Amendment, to_status: str, reason: str = "") -> None:
    plans.require_not_archived(amendment.plan)
    before = amendment.status
    move = (before, to_status)
    by_author = is_author(actor, amendment)
    is_manager = forums.can_manage(actor, amendment.plan.forum)
    if move in AUTHOR_MOVES and not by_author:
        raise PermissionDenied(_("Only the author can do this."))
    if move in FACILITATOR_MOVES and not is_manager:
        raise PermissionDenied(_("Only the forum's facilitators can decide on amendments."))
    if move not in AUTHOR_MOVES | FACILITATOR_MOVES:
        raise Conflict(
            _(
                "An amendment that is “%(before)s” cannot become “%(after)s”.",
                before=STATUS_LABELS[before],
                after=STATUS_LABELS[to_status],
            )
        )
    _set_status(actor, amendment, to_status, reason)


# Moves a poll makes: opening puts the amendment to the vote, the result decides it;
# a vote cancelled or without quorum gives it back to the facilitators ("admitted").
POLL_MOVES = {
    ("admitted", "voting"),
    ("voting", "accepted"),
    ("voting", "rejected"),
    ("voting", "admitted"),
}


def move_by_poll(amendment: Amendment, to_status: str, reason: str) -> bool:
    """Move ``amendment`` as a poll's opening or result says, if it still can be
    (False otherwise). No permission check: the facilitator who set up the poll
    was checked then, and the electorate decided."""
    if (amendment.status, to_status) not in POLL_MOVES:
        return False
    _set_status(None, amendment, to_status, reason)
    sub_amendment = amendment.parent_id is not None
    if to_status == "accepted" and sub_amendment and amendment.parent.status not in FINAL_STATUSES:
        _apply_sub_amendment(None, amendment)
    return True


def _set_status(actor, amendment: Amendment, to_status: str, reason: str) -> None:
    # Every move passes here: the reason is cleaned once, so the history, the
    # audit log and the author's notification hold the same words.
    reason = clean_text(reason)[:MAX_REASON]
    before = amendment.status
    amendment.status = to_status
    amendment.updated_at = utcnow()
    if to_status in FINAL_STATUSES:
        amendment.decided_at = utcnow()
    record_event(amendment, actor, before, to_status, reason)
    record(
        f"amendment.{to_status}", amendment, actor=actor, forum=amendment.plan.forum, reason=reason
    )
    if amendment.author_id is not None:
        notify(
            amendment.author_id,
            "amendment_status",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
            status=to_status,
            reason=reason,
        )


def _in_running_poll(amendment: Amendment) -> bool:
    from ..votes.models import Poll, PollCandidate  # votes builds on amendments

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


def decide(actor, amendment: Amendment, to_status: str, reason: str = "") -> None:
    """Facilitator triage: admit, accept, reject or put to a vote."""
    if amendment.status == "voting" and _in_running_poll(amendment):
        raise Conflict(
            _("This amendment is in a vote that has not closed; the vote's result decides it.")
        )
    if to_status == "admitted" and not threshold_met(amendment):
        tally = support_tally(amendment)
        plan = amendment.plan
        raise Conflict(
            _(
                "This amendment needs the support of %(needed)d %(kind)s before it can be "
                "admitted; it has %(have)d.",
                needed=plan.support_threshold,
                kind=THRESHOLD_LABELS[plan.support_threshold_kind],
                have=tally[plan.support_threshold_kind],
            )
        )
    _move(actor, amendment, to_status, reason)
    if to_status == "accepted" and amendment.parent_id is not None:
        _apply_sub_amendment(actor, amendment)


THRESHOLD_LABELS = {
    "members": _l("members"),
    "coalitions": _l("different coalitions"),
    "countries": _l("different countries"),
}


# --- support and co-sponsors ---------------------------------------------------


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


def threshold_met(amendment: Amendment) -> bool:
    plan = amendment.plan
    if plan.support_threshold <= 0:
        return True
    return support_tally(amendment)[plan.support_threshold_kind] >= plan.support_threshold


def support(actor, amendment: Amendment) -> AmendmentSupport:
    membership = _membership(actor, amendment.plan.forum)
    if membership is None or membership.role == "observer":
        raise PermissionDenied(_("Only members of the forum can support amendments."))
    if amendment.status not in ("submitted", "admitted"):
        raise Conflict(_("Only submitted or admitted amendments can be supported."))
    if closed := phase_reason(actor, amendment.plan, "support"):
        raise Conflict(closed)
    if is_author(actor, amendment):
        raise Conflict(_("Authors cannot support their own amendment."))
    existing = db.session.scalar(
        select(AmendmentSupport).where(
            AmendmentSupport.amendment_id == amendment.id, AmendmentSupport.user_id == actor.id
        )
    )
    if existing is not None:
        return existing
    coalition_country = None
    if membership.coalition_id is not None:
        coalition_country = membership.coalition.country if membership.coalition else None
    row = AmendmentSupport(
        amendment_id=amendment.id,
        user_id=actor.id,
        coalition_id=membership.coalition_id,
        country=actor.country or coalition_country,
    )
    savepoint = db.session.begin_nested()
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # the same member, twice at once: one support
        savepoint.rollback()
        return db.session.scalar(
            select(AmendmentSupport).where(
                AmendmentSupport.amendment_id == amendment.id, AmendmentSupport.user_id == actor.id
            )
        )
    savepoint.commit()
    if amendment.author_id is not None:
        notify(
            amendment.author_id,
            "amendment_supported",
            amendment,
            forum=amendment.plan.forum,
            actor=actor,
            label=amendment.label,
        )
    return row


def withdraw_support(actor, amendment: Amendment) -> None:
    plans.require_not_archived(amendment.plan)
    if amendment.status not in ("submitted", "admitted"):
        raise Conflict(_("Supports can no longer change for this amendment."))
    db.session.execute(
        AmendmentSupport.__table__.delete().where(
            AmendmentSupport.amendment_id == amendment.id, AmendmentSupport.user_id == actor.id
        )
    )


def invite_cosponsor(actor, amendment: Amendment, email: str) -> AmendmentSponsor:
    if not is_author(actor, amendment):
        raise PermissionDenied(_("Only the author can invite co-sponsors."))
    plans.require_not_archived(amendment.plan)
    if amendment.status in FINAL_STATUSES:
        raise Conflict(_("This amendment has been decided already."))
    membership = forums.membership_by_email(amendment.plan.forum, email)
    if membership is None:
        raise InvalidInput(_("No member of this forum uses this email address."))
    if membership.user_id == actor.id:
        raise InvalidInput(_("You are the author already."))
    existing = db.session.scalar(
        select(AmendmentSponsor).where(
            AmendmentSponsor.amendment_id == amendment.id,
            AmendmentSponsor.user_id == membership.user_id,
        )
    )
    if existing is not None:
        return existing
    sponsor = AmendmentSponsor(
        amendment_id=amendment.id, user_id=membership.user_id, status="invited"
    )
    db.session.add(sponsor)
    notify(
        membership.user_id,
        "cosponsor_invited",
        amendment,
        forum=amendment.plan.forum,
        actor=actor,
        label=amendment.label,
    )
    return sponsor


def accept_cosponsorship(actor, amendment: Amendment) -> None:
    sponsor = db.session.scalar(
        select(AmendmentSponsor).where(
            AmendmentSponsor.amendment_id == amendment.id, AmendmentSponsor.user_id == actor.id
        )
    )
    if sponsor is None:
        raise PermissionDenied(_("You have not been invited to co-sponsor this amendment."))
    plans.require_not_archived(amendment.plan)
    sponsor.status = "accepted"


# --- compromises and sub-amendments --------------------------------------------


def compromise_candidates(plan: Plan, target_key: str) -> list[Amendment]:
    """The amendments a compromise on this item may merge: open ones, and accepted
    ones that a consolidated draft could not apply (they conflict); not
    sub-amendments."""
    return list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.author))
            .where(
                Amendment.plan_id == plan.id,
                Amendment.target_key == target_key,
                Amendment.status.in_(("submitted", "admitted"))
                | ((Amendment.status == "accepted") & Amendment.applied_version_id.is_(None)),
                Amendment.parent_id.is_(None),
            )
            .order_by(Amendment.number)
        )
    )


def _mergeable(amendment: Amendment) -> bool:
    if amendment.status == "accepted":
        return amendment.applied_version_id is None
    return amendment.status in ("submitted", "admitted")


def create_compromise(
    actor, plan: Plan, sources: list[Amendment], *, text: str, justification: str = ""
) -> Amendment:
    """A facilitator's text replacing several amendments to the same item;
    they become “merged into” it."""
    if not forums.can_manage(actor, plan.forum):
        raise PermissionDenied(_("Only the forum's facilitators can write compromises."))
    plans.require_not_archived(plan)
    if len(sources) < 2:
        raise InvalidInput(_("Choose at least two amendments to merge."))
    targets = {source.target_key for source in sources}
    if len(targets) != 1 or any(source.plan_id != plan.id for source in sources):
        raise InvalidInput(_("A compromise merges amendments to the same item."))
    if not all(_mergeable(source) for source in sources):
        raise Conflict(_("Only submitted or admitted amendments can be merged."))
    version = plans.get_version(plan)
    target = targets.pop()
    node = next((n for n in plans.version_nodes(version) if n.key == target), None)
    if node is None:
        raise Conflict(_("The amended item is no longer in the current version."))
    text = clean_proposal(text)
    if not text:
        raise InvalidInput(_("Write the text you propose."))
    compromise = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=version.id,
        target_key=node.key,
        target_ref=node.ref,
        operation="replace",
        original_text=node.text,
        proposed_text=text,
        justification=clean_proposal(justification),
        language=plan.language,
        status="admitted",
        author_id=actor.id,
        is_compromise=True,
        submitted_at=utcnow(),
    )
    insert_numbered(compromise)
    record_event(compromise, actor, "", "admitted")
    for source in sources:
        before = source.status
        source.status, source.merged_into_id, source.decided_at = "merged", compromise.id, utcnow()
        record_event(source, actor, before, "merged", compromise.label)
        if source.author_id is not None:
            notify(
                source.author_id,
                "amendment_status",
                source,
                forum=plan.forum,
                actor=actor,
                label=source.label,
                status="merged",
                into=compromise.label,
            )
    record(
        "amendment.compromise",
        compromise,
        actor=actor,
        forum=plan.forum,
        merged=[source.id for source in sources],
    )
    return compromise


def propose_sub_amendment(
    actor, parent: Amendment, *, text: str, justification: str = "", submit: bool = True
) -> Amendment:
    """An amendment to an admitted amendment: it proposes a new text for it."""
    check_sub_amendable(actor, parent)
    plan = parent.plan
    text = clean_proposal(text)
    if not text:
        raise InvalidInput(_("Write the text you propose."))
    if text == parent.proposed_text:
        raise InvalidInput(_("The proposed text is the same as the current text."))
    membership = _membership(actor, plan.forum)
    sub = Amendment(
        forum_id=plan.forum_id,
        plan=plan,
        base_version_id=parent.base_version_id,
        target_key=parent.target_key,
        target_ref=parent.target_ref,
        operation="replace",
        original_text=parent.proposed_text,
        proposed_text=text,
        justification=clean_proposal(justification),
        language=parent.language,
        status="draft",
        author_id=actor.id,
        coalition_id=membership.coalition_id if membership else None,
        parent_id=parent.id,
    )
    insert_numbered(sub)
    record_event(sub, actor, "", "draft")
    if submit:
        submit_amendment(actor, sub)
    return sub


def check_sub_amendable(actor, parent: Amendment) -> None:
    if parent.status != "admitted" or parent.operation == "delete" or parent.parent_id is not None:
        raise Conflict(_("Only admitted amendments that propose a text can be amended."))
    nodes = {n.key: n for n in plans.version_nodes(plans.get_version(parent.plan))}
    require_amend(actor, parent.plan, parent.target_key, nodes)


def _apply_sub_amendment(actor, sub: Amendment) -> None:
    parent = sub.parent
    if parent.status in FINAL_STATUSES:
        raise Conflict(_("The amended amendment has been decided already."))
    parent.proposed_text = sub.proposed_text
    parent.updated_at = utcnow()
    record_event(
        parent,
        actor,
        parent.status,
        parent.status,
        _("Text changed by sub-amendment %(label)s.", label=sub.label),
    )


# --- plan settings -------------------------------------------------------------


def update_settings(
    actor, plan: Plan, *, open_for_input: bool, threshold: int, threshold_kind: str
) -> None:
    forums.require_manage(actor, plan.forum)
    plans.require_not_archived(plan)
    if threshold_kind not in THRESHOLD_LABELS:
        raise InvalidInput(_("Unknown way of counting supports."))
    if not 0 <= threshold <= 10000:
        raise InvalidInput(_("The threshold must be between 0 and 10000."))
    plan.open_for_input = bool(open_for_input)
    plan.support_threshold = threshold
    plan.support_threshold_kind = threshold_kind
    record(
        "plan.settings",
        plan,
        actor=actor,
        forum=plan.forum,
        open=plan.open_for_input,
        threshold=threshold,
        kind=threshold_kind,
    )


def assign_section(actor, plan: Plan, section_key: str, group_id: int | None) -> None:
    """Put a section in the hands of a working group (or of everyone)."""
    forums.require_manage(actor, plan.forum)
    plans.require_not_archived(plan)
    nodes = {n.key: n for n in plans.version_nodes(plans.get_version(plan))}
    node = nodes.get(section_key)
    if node is None or node.kind != "section":
        raise NotFound()
    existing = db.session.scalar(
        select(SectionGroup).where(
            SectionGroup.plan_id == plan.id, SectionGroup.section_key == section_key
        )
    )
    if group_id is None:
        if existing is not None:
            db.session.delete(existing)
        return
    group = db.session.get(WorkingGroup, group_id)
    if group is None or group.forum_id != plan.forum_id:
        raise NotFound()
    if existing is None:
        db.session.add(
            SectionGroup(plan_id=plan.id, section_key=section_key, working_group_id=group.id)
        )
    else:
        existing.working_group_id = group.id


def section_assignments(plan: Plan) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(SectionGroup.section_key, SectionGroup.working_group_id).where(
                SectionGroup.plan_id == plan.id
            )
        ).all()
    )
