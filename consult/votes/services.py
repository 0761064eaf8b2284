"""Polls: set up by facilitators, opened with a frozen electorate, voted in person
or by proxy, closed with a frozen and checksummed result that then decides the
amendments or approves the plan. Every operation takes the acting user (None
for the scheduler).

Secrecy: see ``models``, and ``disclosures`` for what a closed vote publishes.
A secret ballot carries its voter's weight, so in a weighted assembly the list of
ballots would show the choice of a delegate whose weight few others share: that
list goes to every reader only when no weight stands out (see
``MIN_BALLOTS_PER_WEIGHT``), and otherwise to the people who check the count.
"""

import hashlib
import json
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, lazyload, selectinload

from ..accounts.models import User
from ..accounts.services import clean_text
from ..amendments import services as amendments
from ..amendments.models import Amendment
from ..audit.services import record
from ..consultations.models import Consultation, Phase
from ..consultations.services import REMINDER_LEAD, closed_reason, consultation_of
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied, ServiceError
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum, Membership, WorkingGroup, WorkingGroupMember
from ..notifications.services import notify, notify_many
from ..plans import services as plans
from ..plans.models import Plan
from . import tally as counting
from .models import (
    METHODS,
    QUORUM_BASES,
    QUORUM_KINDS,
    RULES,
    SCOPES,
    STATUS_QUO,
    Ballot,
    NamedVote,
    Participation,
    Poll,
    PollCandidate,
    PollProxy,
    PollVoter,
)

MAX_PROXIES = 10
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
RECEIPT_LENGTH = 16  # 32**16 = 2**80 codes

CHOICE_LABELS = {
    counting.YES: _l("Yes"),
    counting.NO: _l("No"),
    counting.ABSTAIN: _l("Abstain"),
}


# --- receipts --------------------------------------------------------------------


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def _normal_receipt(code: str) -> str:
    return "".join(ch for ch in str(code or "").upper() if ch.isascii() and ch.isalnum())


def receipt_hash(poll: Poll, code: str) -> str:
    return hashlib.sha256(f"{poll.id}:{_normal_receipt(code)}".encode()).hexdigest()


def _receipt_check(poll: Poll, voter_id: int, code: str) -> str:
    return hashlib.sha256(f"{poll.id}:{voter_id}:{_normal_receipt(code)}".encode()).hexdigest()


# --- reading ---------------------------------------------------------------------


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
    order = {"open": 0, "draft": 1, "closed": 2, "cancelled": 3}
    polls = db.session.scalars(
        select(Poll)
        .options(selectinload(Poll.candidates), selectinload(Poll.working_group))
        .where(Poll.forum_id == forum.id)
        .order_by(Poll.opens_at.desc(), Poll.id.desc())
    ).all()
    return sorted(polls, key=lambda poll: order[poll.state])


def plan_timezones(forum: Forum) -> dict[int, str]:
    """The calendar time zone of each of the forum's plans that has a consultation."""
    return dict(
        db.session.execute(
            select(Consultation.plan_id, Consultation.timezone).where(
                Consultation.forum_id == forum.id
            )
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

    @property
    def may_vote(self) -> bool:
        return self.voter is not None and self.proxy_given is None


def voter_status(user, poll: Poll) -> VoterStatus:
    if not getattr(user, "is_authenticated", False) or poll.state in ("draft", "cancelled"):
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
    if (
        status.voter is not None
        and poll.state == "open"
        and poll.max_proxies
        and not status.voted
        and status.proxy_given is None
        and not status.proxies_held
    ):
        status.proxy_candidates = _proxy_candidates(poll, user.id)
    return status


def _proxy_candidates(poll: Poll, user_id: int) -> list[User]:
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
    return poll.state == "closed" or (poll.state == "open" and not poll.hide_results)


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
    return str(CHOICE_LABELS.get(choice, choice))


# --- setting up --------------------------------------------------------------------


@dataclass
class PollSettings:
    """How a poll counts. Defaults are those of a secret, simple-majority vote."""

    title: str = ""
    description: str = ""
    method: str = "yesno"
    secret: bool = True
    rule: str = "simple"
    quorum_kind: str = "none"
    quorum_value: Decimal = Decimal(0)
    quorum_base: str = "ballots"
    abstentions_count: bool = False
    hide_results: bool = True
    allow_change: bool = True
    max_proxies: int = 0
    include_status_quo: bool = True


def _active_amendment_ids(plan: Plan) -> set[int]:
    """Amendments already in a poll that is being prepared or running."""
    active = select(Poll.id).where(Poll.plan_id == plan.id, Poll.state.in_(("draft", "open")))
    direct = db.session.scalars(
        select(Poll.amendment_id).where(Poll.id.in_(active), Poll.amendment_id.is_not(None))
    )
    ranked = db.session.scalars(
        select(PollCandidate.amendment_id).where(
            PollCandidate.poll_id.in_(active), PollCandidate.amendment_id.is_not(None)
        )
    )
    return set(direct) | set(ranked)


def competing_amendments(plan: Plan, target_key: str) -> list[Amendment]:
    """Admitted amendments on one item: what a ranked poll may choose between."""
    return list(
        db.session.scalars(
            select(Amendment)
            .where(
                Amendment.plan_id == plan.id,
                Amendment.target_key == target_key,
                Amendment.status == "admitted",
            )
            .order_by(Amendment.number)
        )
    )


def suggested_phase(consultation: Consultation | None, subject: str) -> Phase | None:
    """The phase a new vote most likely follows, among those still to come or
    running that allow voting: for the assembly's approval of the plan, an
    assembly phase (or none: not a working groups' voting phase); for the
    other votes, a voting phase first."""
    if consultation is None:
        return None
    coming = [p for p in consultation.phases if p.allow_vote and p.state != "closed"]
    if subject == "plan":
        return next((p for p in coming if p.kind == "assembly"), None)
    return next((p for p in coming if p.kind == "voting"), None) or next(
        (p for p in coming if p.kind != "assembly"), None
    )


def group_in_charge(plan: Plan, target_key: str | None) -> int | None:
    """The working group in charge of the section that holds this item (the
    section assignments of the plan), or None."""
    if not target_key:
        return None
    nodes = {node.key: node for node in plans.version_nodes(plans.get_version(plan))}
    return amendments.section_group_id(plan, nodes, target_key)


def _on_field(error: ServiceError, field_name: str) -> ServiceError:
    """Tag a refusal with the form field it is about, so the form shows it there."""
    error.field = field_name
    return error


def _check_settings(settings: PollSettings, scope: str) -> None:
    if settings.method not in METHODS:
        raise _on_field(InvalidInput(_("Choose how the votes are counted.")), "method")
    if settings.rule not in RULES:
        raise _on_field(InvalidInput(_("Choose a majority rule.")), "rule")
    if settings.quorum_kind not in QUORUM_KINDS or settings.quorum_base not in QUORUM_BASES:
        raise _on_field(InvalidInput(_("Choose a quorum.")), "quorum_kind")
    value = settings.quorum_value
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise _on_field(
            InvalidInput(_("The quorum must be a number, zero or more.")), "quorum_value"
        )
    if settings.quorum_kind == "share" and value > 1:
        raise _on_field(
            InvalidInput(_("A quorum given as a share must be between 0 and 1 (e.g. 0.5).")),
            "quorum_value",
        )
    if settings.quorum_kind == "count" and value > Decimal(10) ** 9:
        raise _on_field(InvalidInput(_("The quorum is out of range.")), "quorum_value")
    if settings.quorum_base == "present" and scope != "assembly":
        raise _on_field(
            InvalidInput(_("Only assembly votes can count a quorum of delegates present.")),
            "quorum_base",
        )
    if not 0 <= settings.max_proxies <= MAX_PROXIES:
        raise _on_field(
            InvalidInput(_("A delegate may carry at most %(count)d proxies.", count=MAX_PROXIES)),
            "max_proxies",
        )
    if settings.max_proxies and scope != "assembly":
        raise _on_field(InvalidInput(_("Only assembly votes allow proxies.")), "max_proxies")


def _default_title(subject: str, amendment, target_ref: str, plan: Plan) -> str:
    if subject == "amendment":
        return _("Vote on amendment %(label)s", label=amendment.label)
    if subject == "competing":
        return _("Choice between the amendments to item %(ref)s", ref=target_ref)
    return _("Approval of the plan “%(title)s”", title=plan.title)


def create_poll(
    actor,
    plan: Plan,
    *,
    subject: str,
    scope: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    settings: PollSettings | None = None,
    amendment: Amendment | None = None,
    target_key: str | None = None,
    group: WorkingGroup | None = None,
    phase: Phase | None = None,
) -> Poll:
    """A poll in preparation ("draft"): it opens at ``opens_at`` (by the scheduler,
    or earlier by hand) and closes at ``closes_at``. Tied to a ``phase``, a time
    not given is the phase's; without either, it opens now."""
    forums.require_manage(actor, plan.forum)
    settings = settings or PollSettings()
    if plan.status in ("approved", "archived"):
        raise Conflict(_("This plan is approved or archived; its text can no longer change."))
    if scope not in SCOPES:
        raise _on_field(
            InvalidInput(_("Choose who votes: a working group or the assembly.")), "scope"
        )
    if scope == "group":
        if group is None or group.forum_id != plan.forum_id:
            raise _on_field(
                InvalidInput(_("Choose the working group that votes.")), "working_group"
            )
    else:
        group = None
    _check_settings(settings, scope)
    if phase is not None:
        consultation = consultation_of(plan)
        if consultation is None or phase.consultation_id != consultation.id:
            raise _on_field(InvalidInput(_("Choose a phase of this plan's consultation.")), "phase")
        opens_at = opens_at or phase.starts_at
        closes_at = closes_at or phase.ends_at
    opens_at = opens_at or utcnow()
    if closes_at is None:
        raise _on_field(InvalidInput(_("Give the closing time, or choose a phase.")), "closes_at")
    if opens_at.tzinfo is None or closes_at.tzinfo is None or closes_at <= opens_at:
        raise _on_field(InvalidInput(_("The vote must close after it opens.")), "closes_at")
    if closes_at <= utcnow():
        raise _on_field(InvalidInput(_("The closing time must be in the future.")), "closes_at")

    busy = _active_amendment_ids(plan)
    candidates: list[PollCandidate] = []
    version = None
    target_ref = ""
    if subject == "amendment":
        if amendment is None or amendment.plan_id != plan.id:
            raise NotFound()
        if amendment.status != "admitted":
            raise Conflict(_("Only admitted amendments can be put to a vote."))
        if amendment.id in busy:
            raise Conflict(_("This amendment is already in a vote."))
        if settings.method != "yesno":
            raise _on_field(InvalidInput(_("A vote on one amendment is a yes/no vote.")), "method")
    elif subject == "competing":
        amendment = None
        if settings.method not in ("irv", "schulze"):
            raise _on_field(
                InvalidInput(_("A choice between amendments is a ranked vote.")), "method"
            )
        competing = competing_amendments(plan, target_key or "")
        if any(item.id in busy for item in competing):
            raise Conflict(_("One of these amendments is already in a vote."))
        if len(competing) < 2:
            raise Conflict(_("A ranked vote needs at least two admitted amendments on the item."))
        target_ref = competing[0].target_ref
        names = [item.label for item in competing]
        candidates = [
            PollCandidate(name=item.label, amendment_id=item.id, position=position)
            for position, item in enumerate(competing)
        ]
        if settings.include_status_quo:
            candidates.append(PollCandidate(name=STATUS_QUO, position=len(names)))
    elif subject == "plan":
        amendment = None
        if scope != "assembly":
            raise _on_field(InvalidInput(_("The plan is approved by the assembly.")), "scope")
        if settings.method != "yesno":
            raise _on_field(InvalidInput(_("The approval of the plan is a yes/no vote.")), "method")
        version = plans.get_version(plan)
        active = db.session.scalar(
            select(func.count())
            .select_from(Poll)
            .where(
                Poll.plan_id == plan.id,
                Poll.subject == "plan",
                Poll.state.in_(("draft", "open")),
            )
        )
        if active:
            raise Conflict(_("The approval of this plan is already being voted on."))
    else:
        raise InvalidInput(_("Choose what is put to the vote."))

    title = clean_text(settings.title)[:300] or _default_title(subject, amendment, target_ref, plan)
    poll = Poll(
        forum_id=plan.forum_id,
        plan_id=plan.id,
        scope=scope,
        working_group_id=group.id if group else None,
        subject=subject,
        amendment_id=amendment.id if amendment else None,
        version_id=version.id if version else None,
        target_key=target_key if subject == "competing" else None,
        title=title,
        description=clean_text(settings.description)[:5000],
        method=settings.method,
        secret=settings.secret,
        rule=settings.rule,
        quorum_kind=settings.quorum_kind,
        quorum_value=settings.quorum_value if settings.quorum_kind != "none" else Decimal(0),
        quorum_base=settings.quorum_base,
        abstentions_count=settings.abstentions_count,
        hide_results=settings.hide_results,
        allow_change=settings.allow_change,
        max_proxies=settings.max_proxies,
        phase_id=phase.id if phase else None,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by_id=getattr(actor, "id", None),
        candidates=candidates,
    )
    db.session.add(poll)
    db.session.flush()
    if not _count(_electorate_query(poll)):
        raise Conflict(str(NOBODY_VOTES))
    if poll.secret and not poll.hide_results and weights_differ(poll):
        raise _on_field(InvalidInput(str(LIVE_COUNT_SHOWS_WEIGHTS)), "hide_results")
    record("poll.created", poll, actor=actor, forum=plan.forum, subject=subject, scope=scope)
    return poll


NOBODY_VOTES = _l(
    "Nobody could vote in this poll: the group has no members, or the forum has no "
    "delegates with a vote weight."
)


# Watching a running count of a secret vote change by 2.5 at once tells who voted
# what as plainly as a list of ballots would.
LIVE_COUNT_SHOWS_WEIGHTS = _l(
    "A secret vote of delegates with different weights cannot show its count while it "
    "runs: each change in the count would show a ballot's weight, and so whose it is. "
    "Hide the results until the vote closes."
)


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _electorate_query(poll: Poll):
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


# --- what the consultation's phase allows ---------------------------------------------

OPEN_REFUSED = _l("This vote cannot be opened now: %(reason)s")
CAST_REFUSED = _l("Votes cannot be cast now: %(reason)s")


def phase_reason(poll: Poll, now: datetime | None = None) -> str | None:
    """Why the consultation of the poll's plan does not let members vote now, or
    None when its current phase allows voting. A plan without a consultation
    puts no such limit on its polls."""
    consultation = consultation_of(poll.plan)
    if consultation is None:
        return None
    return closed_reason(poll.plan, "vote", now, consultation=consultation)


def _require_voting_phase(poll: Poll, now: datetime, message) -> None:
    reason = phase_reason(poll, now)
    if reason is not None:
        raise Conflict(str(message) % {"reason": reason})


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
    # Why the voters cannot vote now (poll not running, or the phase forbids it).
    vote_reason: str | None = None
    # Why a facilitator cannot open it now (or why the scheduler has not).
    open_reason: str | None = None
    # Its opening time has come, but it waits (for the reason in open_reason).
    waiting: bool = False


def allowed(user, poll: Poll, status: VoterStatus | None = None, now=None) -> PollActions:
    """The actions ``user`` may take on ``poll`` now (see ``PollActions``); the
    same rules ``open_poll``, ``cast``, the proxy services and ``check_receipt``
    enforce."""
    now = now or utcnow()
    status = status if status is not None else voter_status(user, poll)
    manage = forums.can_manage(user, poll.forum)
    phase = phase_reason(poll, now) if poll.state in ("draft", "open") else None
    vote_reason = _not_running_reason(poll, now)
    if vote_reason is None and phase is not None:
        vote_reason = str(CAST_REFUSED) % {"reason": phase}
    running = poll.state == "open" and now < poll.closes_at
    voting = vote_reason is None
    own = status.voter is not None and status.proxy_given is None
    open_reason = None
    if poll.state == "draft":
        if now >= poll.closes_at:
            open_reason = _("The closing time of this vote has passed; it can no longer open.")
        elif phase is not None:
            open_reason = str(OPEN_REFUSED) % {"reason": phase}
    return PollActions(
        may_cast=voting and own and not status.voted,
        may_change=voting and own and status.voted and poll.allow_change,
        may_vote_for_others=voting and any(not cast for _grantor, cast in status.proxies_held),
        may_give_proxy=running and bool(status.proxy_candidates),
        may_revoke_proxy=running and status.proxy_given is not None and not status.voted,
        may_check_receipt=poll.state in RECEIPT_STATES,
        may_open=manage and poll.state == "draft" and open_reason is None,
        may_close=manage and poll.state == "open",
        may_cancel=manage and poll.state in ("draft", "open"),
        may_roll_call=manage and poll.state == "open",
        vote_reason=vote_reason,
        open_reason=open_reason,
        waiting=open_reason is not None and now >= poll.opens_at,
    )


# A receipt finds a counted ballot while the vote runs and after it closed (how a
# voter checks that their ballot was counted); a cancelled vote counts none.
RECEIPT_STATES = ("open", "closed")


# --- opening, closing, cancelling ------------------------------------------------------


def _change_state(poll: Poll, before: str, after: str, **values) -> bool:
    """Move the poll from ``before`` to ``after`` unless someone else already did."""
    changed = db.session.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.state == before)
        .values(state=after, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        poll.state = after
        for name, value in values.items():
            setattr(poll, name, value)
    return bool(changed)


def _poll_amendments(poll: Poll) -> list[Amendment]:
    ids = [poll.amendment_id] if poll.amendment_id else []
    ids += [c.amendment_id for c in poll.candidates if c.amendment_id is not None]
    if not ids:
        return []
    return list(
        db.session.scalars(select(Amendment).where(Amendment.id.in_(ids)).order_by(Amendment.id))
    )


def _voters(poll: Poll):
    """The poll's electorate as a SELECT (notify_many writes from it in one statement)."""
    return select(PollVoter.user_id).where(PollVoter.poll_id == poll.id)


def open_poll(actor, poll: Poll, now: datetime | None = None) -> bool:
    """Open the poll and freeze its electorate. False if it was opened already
    (by the scheduler or another facilitator)."""
    if actor is not None:
        forums.require_manage(actor, poll.forum)
    if poll.state in ("closed", "cancelled"):
        raise Conflict(_("This vote is over; it cannot be opened again."))
    now = now or utcnow()
    if now >= poll.closes_at:
        raise Conflict(_("The closing time of this vote has passed; it can no longer open."))
    if poll.state == "draft":
        _require_voting_phase(poll, now, OPEN_REFUSED)
    if not _change_state(poll, "draft", "open", opened_at=now):
        return False
    db.session.execute(
        insert(PollVoter).from_select(
            ["poll_id", "user_id", "weight", "coalition_id"], _electorate_query(poll)
        )
    )
    size, weight = db.session.execute(
        select(func.count(), func.coalesce(func.sum(PollVoter.weight), 0)).where(
            PollVoter.poll_id == poll.id
        )
    ).one()
    if not size:
        raise Conflict(str(NOBODY_VOTES))
    poll.electorate_size, poll.electorate_weight = size, Decimal(weight)
    # Weights that changed since the poll was set up hide its count after all
    # (see LIVE_COUNT_SHOWS_WEIGHTS).
    count_hidden = poll.secret and not poll.hide_results and weights_differ(poll)
    if count_hidden:
        poll.hide_results = True
    reason = _("Put to the vote: %(title)s", title=poll.title)
    for amendment in _poll_amendments(poll):
        amendments.move_by_poll(amendment, "voting", reason)
    record(
        "poll.opened",
        poll,
        actor=actor,
        forum=poll.forum,
        electorate=size,
        **({"count_hidden_for_weights": True} if count_hidden else {}),
    )
    notify_many(_voters(poll), "poll_opened", poll, forum=poll.forum, actor=actor, title=poll.title)
    return True


def cancel_poll(actor, poll: Poll, reason: str = "") -> None:
    """Call the vote off before it closes; its amendments go back to "admitted"."""
    forums.require_manage(actor, poll.forum)
    before = poll.state
    if before not in ("draft", "open") or not _change_state(poll, before, "cancelled"):
        raise Conflict(_("Only a vote that has not closed can be cancelled."))
    reason = clean_text(reason)[:2000]
    for amendment in _poll_amendments(poll):
        amendments.move_by_poll(
            amendment, "admitted", _("The vote “%(title)s” was cancelled.", title=poll.title)
        )
    record("poll.cancelled", poll, actor=actor, forum=poll.forum, reason=reason)


def close_poll(actor, poll: Poll, now: datetime | None = None) -> bool:
    """Close the poll, count it once and freeze the result, then act on it. False if
    it was closed already. A facilitator may close it before its time."""
    if actor is not None:
        forums.require_manage(actor, poll.forum)
        if poll.state != "open":
            raise Conflict(_("Only an open vote can be closed."))
    now = now or utcnow()
    if not _change_state(poll, "open", "closed", closed_at=now):
        return False
    result = compute_result(poll)
    poll.result = json.dumps(result, ensure_ascii=False, sort_keys=True)
    poll.checksum = result["checksum"]
    poll.winner = result["winner"]
    poll.quorum_met = result["quorum"]["met"]
    poll.ballot_count = result["ballots"]
    poll.turnout_weight = Decimal(result["turnout_weight"])
    record(
        "poll.closed",
        poll,
        actor=actor,
        forum=poll.forum,
        winner=poll.winner,
        checksum=poll.checksum,
    )
    _apply_result(poll, result)
    notify_many(_voters(poll), "poll_result", poll, forum=poll.forum, actor=actor, title=poll.title)
    return True


def _apply_result(poll: Poll, result: dict) -> None:
    """What the vote decided happens now: amendments accepted or rejected, or the
    plan approved. A vote without quorum (no winner) decides nothing: its
    amendments go back to "admitted" for the facilitators to take up again."""
    winner = result["winner"]
    title = poll.title
    if winner is None:
        for amendment in _poll_amendments(poll):
            amendments.move_by_poll(
                amendment, "admitted", _("The vote “%(title)s” decided nothing.", title=title)
            )
        return
    if poll.subject == "amendment":
        amendments.move_by_poll(
            poll.amendment,
            "accepted" if winner == counting.YES else "rejected",
            _("Decided by the vote “%(title)s”.", title=title),
        )
    elif poll.subject == "competing":
        for candidate in poll.candidates:
            if candidate.amendment is None:
                continue
            amendments.move_by_poll(
                candidate.amendment,
                "accepted" if candidate.name == winner else "rejected",
                _("Decided by the vote “%(title)s”.", title=title),
            )
    elif poll.subject == "plan" and winner == counting.YES:
        plan, version = poll.plan, poll.version
        if version is not None and plan.current_version_id == version.id:
            plans.approve(plan, version, reason=title)
            members = select(Membership.user_id).where(Membership.forum_id == poll.forum_id)
            notify_many(members, "plan_approved", plan, forum=poll.forum, title=plan.title)


# --- counting ----------------------------------------------------------------------


def weight_text(weight: Decimal) -> str:
    """A weight written the same way on every database ("1", "2.5")."""
    return format(Decimal(weight).normalize(), "f")


def canonical_ballots(poll: Poll) -> list[tuple[Any, str]]:
    """Every counted ballot as (choice, weight text), sorted: the list the checksum
    covers and the exports publish. Sorting erases the order ballots came in."""
    rows = db.session.execute(
        select(Ballot.choice, Ballot.weight).where(Ballot.poll_id == poll.id)
    ).all()
    ballots = [(json.loads(choice), weight_text(weight)) for choice, weight in rows]
    return sorted(ballots, key=_ballot_line)


def _ballot_line(ballot: tuple[Any, str]) -> str:
    return json.dumps(list(ballot), ensure_ascii=False, separators=(",", ":"))


def checksum(ballots: list[tuple[Any, str]]) -> str:
    """SHA-256 over the sorted ballots, one JSON line each: anyone with the
    published ballot list can recompute it."""
    text = "\n".join(_ballot_line(ballot) for ballot in ballots)
    return hashlib.sha256(text.encode()).hexdigest()


# --- what a vote publishes -------------------------------------------------------------

# A secret vote whose ballots do not all weigh the same publishes its list of
# ballots (and its number of ballots per option) only if every weight among them
# is carried by at least this many ballots.
MIN_BALLOTS_PER_WEIGHT = 5


@dataclass(frozen=True)
class OptionTotal:
    """One option of a vote: the weight of the ballots that chose it (in a ranked
    vote: that ranked it first) and, when it singles nobody out, their number."""

    option: str
    weight: Decimal
    ballots: int | None


@dataclass(frozen=True)
class Disclosure:
    """What a vote publishes to every reader of its forum, besides its result.

    ``ballots_public``: the list of ballots (each one's choice and weight, never a
    voter) and the number of ballots per option. That is so for a named vote
    (which publishes who voted what anyway), for a secret vote whose ballots all
    weigh the same (a weight then tells nothing: every unweighted vote), and for a
    secret vote in which every weight is carried by at least
    ``MIN_BALLOTS_PER_WEIGHT`` ballots: the sorted list is then the same as "so
    many ballots of weight w chose this", and no ballot stands out from the
    others of its weight.

    Otherwise (a secret vote in which some weight is carried by fewer ballots)
    every reader gets the weighted total of each option, and the number and
    weight of all the ballots together, nothing per ballot: next to weighted
    totals, even the number of ballots per option would give away a delegate
    whose weight is unique (weights 1, 1, 2, 1, 1: "no: 1 ballot, weight 2").
    The ballots then go only to those who run the forum's votes
    (``require_auditor``), who recompute the published checksum from them, the
    same SHA-256 as for every vote; ``verify`` recounts from the database.

    The weighted totals are the result and are always published. When a weight is
    unique they can still show that delegate's choice (a total of 2.5 where every
    other weight is 1): that is inherent in publishing a weighted vote's result.
    """

    ballots_public: bool
    options: list[OptionTotal]


def disclosures(polls: list[Poll], *, audit: bool = False) -> dict[int, Disclosure]:
    """What each of these polls publishes, from one grouped query over their
    ballots; with ``audit``, everything (for ``require_auditor``'s people)."""
    groups: dict[int, list[tuple[Any, str, int]]] = defaultdict(list)
    if polls:
        rows = db.session.execute(
            select(Ballot.poll_id, Ballot.choice, Ballot.weight, func.count())
            .where(Ballot.poll_id.in_([poll.id for poll in polls]))
            .group_by(Ballot.poll_id, Ballot.choice, Ballot.weight)
        ).all()
        for poll_id, choice, weight, number in rows:
            groups[poll_id].append((json.loads(choice), weight_text(weight), number))
    return {poll.id: _disclosure(poll, groups[poll.id], audit) for poll in polls}


def disclosure(poll: Poll, *, audit: bool = False) -> Disclosure:
    return disclosures([poll], audit=audit)[poll.id]


def _disclosure(poll: Poll, groups: list[tuple[Any, str, int]], audit: bool) -> Disclosure:
    per_weight: Counter = Counter()
    for _choice, weight, number in groups:
        per_weight[weight] += number
    public = (
        audit
        or not poll.secret
        or len(per_weight) <= 1
        or min(per_weight.values()) >= MIN_BALLOTS_PER_WEIGHT
    )
    if poll.is_ranked:
        options = [candidate.name for candidate in poll.candidates]
    else:
        options = list(counting.YES_NO_CHOICES)
    weights = dict.fromkeys(options, Decimal(0))
    numbers = dict.fromkeys(options, 0)
    for choice, weight, number in groups:
        option = (choice[0] if choice else None) if poll.is_ranked else choice
        if option in weights:
            weights[option] += Decimal(weight) * number
            numbers[option] += number
    return Disclosure(
        ballots_public=public,
        options=[
            OptionTotal(option, weights[option].normalize(), numbers[option] if public else None)
            for option in options
        ],
    )


def weights_differ(poll: Poll) -> bool:
    """Whether this poll's voters carry different weights: the assembly's delegates
    as they stand (before opening), or the electorate frozen at opening."""
    if poll.scope != "assembly":
        return False
    if poll.opened_at is None:  # to open, or cancelled before it opened
        electorate = _electorate_query(poll).subquery()
        distinct = select(func.count(func.distinct(electorate.c.weight)))
    else:
        distinct = select(func.count(func.distinct(PollVoter.weight))).where(
            PollVoter.poll_id == poll.id
        )
    return (db.session.scalar(distinct) or 0) > 1


def require_auditor(actor, poll: Poll) -> None:
    """Who may download every ballot of any vote, whatever it publishes: those who
    run the forum's votes (its facilitators and administrators, and platform
    administrators), who check the count and its checksum."""
    forums.require_manage(actor, poll.forum)


def quorum_setting(poll: Poll) -> dict | None:
    if poll.quorum_kind == "none":
        return None
    return {poll.quorum_kind: poll.quorum_value}


def compute_result(poll: Poll) -> dict[str, Any]:
    """Count the poll's ballots with its settings and frozen electorate.

    Pure given the database rows, so closing and ``verify`` agree: the same ballots
    always give the same result, JSON-ready (numbers as exact strings).
    """
    ballots = canonical_ballots(poll)
    counted = [counting.Ballot(choice, Decimal(weight)) for choice, weight in ballots]
    if poll.is_ranked:
        names = [candidate.name for candidate in poll.candidates]
        details = counting.tally(poll.method, counted, candidates=names)
    else:
        details = counting.tally(
            "yesno",
            counted,
            rule=poll.rule,
            electorate_weight=poll.electorate_weight,
            abstentions_count=poll.abstentions_count,
        )
    turnout_weight = sum((Decimal(weight) for _, weight in ballots), Decimal(0))
    present_weight = db.session.scalar(
        select(func.coalesce(func.sum(PollVoter.weight), 0)).where(
            PollVoter.poll_id == poll.id, PollVoter.present.is_(True)
        )
    )
    measured = Decimal(present_weight) if poll.quorum_base == "present" else turnout_weight
    required = counting.quorum_required(quorum_setting(poll), poll.electorate_weight)
    met = measured >= required
    return counting.to_json(
        {
            "poll": poll.id,
            "method": poll.method,
            "rule": poll.rule if not poll.is_ranked else None,
            "abstentions_count": poll.abstentions_count if not poll.is_ranked else None,
            "winner": details["winner"] if met else None,
            "electorate_size": poll.electorate_size,
            "electorate_weight": Decimal(poll.electorate_weight).normalize(),
            "ballots": len(ballots),
            "turnout_weight": turnout_weight.normalize(),
            "quorum": {
                "kind": poll.quorum_kind,
                "value": Decimal(poll.quorum_value).normalize(),
                "base": poll.quorum_base,
                "required": required.normalize(),
                "measured": measured.normalize(),
                "met": met,
            },
            "tally": details,
            "checksum": checksum(ballots),
        }
    )


def live_result(poll: Poll) -> dict | None:
    """The count so far, for polls that do not hide it (None otherwise)."""
    if poll.state != "open" or poll.hide_results:
        return None
    return compute_result(poll)


def verify(poll: Poll) -> dict[str, Any]:
    """Recount a closed poll from its ballots and compare with what was frozen."""
    if poll.state != "closed" or poll.result is None:
        raise Conflict(_("Only a closed vote has a result to verify."))
    try:
        recount = compute_result(poll)
    except ServiceError as error:
        # Ballots that cannot even be counted (a weight or choice no vote can
        # produce) were altered after closing: a failed check, not a crash.
        ballots = canonical_ballots(poll)
        recount = {
            "checksum": checksum(ballots),
            "winner": None,
            "ballots": len(ballots),
            "error": str(error.message),
        }
    stored = stored_result(poll)
    return {
        "poll": poll.id,
        "ok": recount == stored and recount["checksum"] == poll.checksum,
        "checksum_matches": recount["checksum"] == poll.checksum,
        "result_matches": recount == stored,
        "stored_checksum": poll.checksum,
        "computed_checksum": recount["checksum"],
        "winner": recount["winner"],
        "ballots": recount["ballots"],
        "error": recount.get("error"),
    }


# --- voting --------------------------------------------------------------------------


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


def _require_open(poll: Poll, now: datetime) -> None:
    reason = _not_running_reason(poll, now)
    if reason is not None:
        raise Conflict(reason)


def _not_running_reason(poll: Poll, now: datetime) -> str | None:
    if poll.state == "draft":
        return _("This vote has not opened yet.")
    if poll.state != "open" or now >= poll.closes_at:
        return _("This vote is closed.")
    return None


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
    _require_open(poll, now)
    _require_voting_phase(poll, now, CAST_REFUSED)
    voter_id = actor.id if on_behalf_of is None else on_behalf_of
    # One statement for what casting checks: the poll's state, read under a
    # shared lock on its row, the voter's row in the electorate, a proxy the
    # voter gave away and an earlier participation. Closing (an UPDATE of the
    # poll's row) waits until this vote is committed, so it counts every vote
    # that got a receipt; a vote that comes after it is refused (PostgreSQL
    # reads the closed state once the lock is granted).
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
    state, voter, given_id, participation_id = db.session.execute(
        select(Poll.state, PollVoter, given_proxy, earlier)
        .select_from(Poll)
        .outerjoin(PollVoter, (PollVoter.poll_id == Poll.id) & (PollVoter.user_id == voter_id))
        .where(Poll.id == poll.id)
        .with_for_update(read=True, of=Poll)
    ).one()
    if state != "open":
        raise Conflict(_("This vote is closed."))
    choice = parse_choice(poll, choice)
    if on_behalf_of is None:
        if voter is None:
            raise PermissionDenied(_("You are not in the electorate of this vote."))
        if given_id is not None:
            given = db.session.get(PollProxy, given_id)
            raise Conflict(
                _(
                    "You have given your vote to %(name)s; revoke the proxy to vote yourself.",
                    name=given.holder.display_name,
                )
            )
    else:
        # Locked: the proxy cannot be revoked while the vote it carries is cast.
        proxy = db.session.scalar(
            select(PollProxy)
            .where(
                PollProxy.poll_id == poll.id,
                PollProxy.grantor_id == on_behalf_of,
                PollProxy.holder_id == actor.id,
            )
            .with_for_update()
        )
        if proxy is None or voter is None:
            raise PermissionDenied(_("You do not hold this delegate's proxy."))

    code = new_receipt()
    if participation_id is not None:
        existing = db.session.get(Participation, participation_id)
        _change_vote(actor, poll, existing, voter, choice, code, receipt, now)
        return code
    # The unique (poll, voter) participation: of two submissions at once, the
    # second inserts nothing (it waits for the first to commit) and is refused.
    recorded = db.session.scalar(
        _insert_unless_present(Participation.__table__, ("poll_id", "voter_id"))
        .values(
            poll_id=poll.id,
            voter_id=voter_id,
            cast_by_id=actor.id,
            receipt_check=_receipt_check(poll, voter_id, code),
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
    return code


def _insert_unless_present(model, unique: tuple[str, ...]):
    """INSERT … ON CONFLICT DO NOTHING on ``unique`` (PostgreSQL and SQLite): a
    row already there, or being inserted by a transaction that then commits,
    makes it insert nothing (no row returned) instead of failing the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
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
    if not poll.allow_change:
        raise Conflict(_("This vote has already been cast, and this poll does not allow changes."))
    if poll.secret:
        if not receipt:
            raise Conflict(
                _(
                    "This vote has already been cast. To change it, give the receipt code you "
                    "received when voting."
                )
            )
        if participation.receipt_check != _receipt_check(poll, voter.user_id, receipt):
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
    participation.receipt_check = _receipt_check(poll, voter.user_id, code)
    participation.cast_by_id = actor.id


def check_receipt(poll: Poll, code: str) -> Any | None:
    """The content of the ballot a receipt code stands for, if it is counted."""
    if poll.state not in RECEIPT_STATES:
        raise Conflict(_("This vote counts no ballots, so there is no receipt to check."))
    if not _normal_receipt(code):
        return None
    choice = db.session.scalar(
        select(Ballot.choice).where(
            Ballot.poll_id == poll.id, Ballot.receipt_hash == receipt_hash(poll, code)
        )
    )
    return json.loads(choice) if choice is not None else None


# --- proxies and presence --------------------------------------------------------------


def _lock_proxies(poll: Poll) -> None:
    """Proxy changes of one poll happen one at a time (the poll row is locked until
    commit), so two grants at once cannot exceed the limit or form a chain, and a
    grant waits for a vote being cast by the same person."""
    db.session.execute(select(Poll.id).where(Poll.id == poll.id).with_for_update())


def grant_proxy(actor, poll: Poll, holder_id: int) -> PollProxy:
    """Hand one's vote in this poll to another delegate of the electorate.

    A proxy cannot be passed on: whoever carries other delegates' votes cannot
    give theirs away, and nobody can carry the vote of someone who gave theirs."""
    _require_open(poll, utcnow())
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
    _require_open(poll, utcnow())
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


# --- the scheduler ------------------------------------------------------------------------


def advance_polls(now: datetime | None = None) -> dict[str, int]:
    """Open and close the polls whose time has come; safe to run from several
    schedulers at once (each change happens once)."""
    now = now or utcnow()
    opened = closed = 0
    due = db.session.scalars(
        select(Poll)
        .where(
            ((Poll.state == "draft") & (Poll.opens_at <= now))
            | ((Poll.state == "open") & (Poll.closes_at <= now))
        )
        .order_by(Poll.id)
    ).all()
    for poll in due:
        try:
            with db.session.begin_nested():
                if poll.state == "draft":
                    if now >= poll.closes_at:
                        _change_state(poll, "draft", "cancelled")
                        continue
                    if phase_reason(poll, now) is not None:
                        # It waits for a phase that allows voting; its page says so.
                        continue
                    opened += open_poll(None, poll, now)
                else:
                    closed += close_poll(None, poll, now)
        except ServiceError as error:
            current_app.logger.warning("poll %s not opened: %s", poll.id, error.message)
    return {"opened": opened, "closed": closed}


def remind_closing_polls(now: datetime | None = None) -> int:
    """Tell the voters who have not voted (and did not hand their vote to a
    proxy), once, that an open poll closes within a day. A poll open for less
    than that gets no reminder. Safe with two schedulers (conditional UPDATE)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Poll)
        .where(
            Poll.state == "open",
            Poll.reminded_at.is_(None),
            Poll.closes_at > now,
            Poll.closes_at <= now + REMINDER_LEAD,
        )
        .order_by(Poll.id)
    ).all()
    reminded = 0
    for poll in due:
        taken = db.session.execute(
            update(Poll)
            .where(Poll.id == poll.id, Poll.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            continue  # another scheduler did
        poll.reminded_at = now
        opened = poll.opened_at or poll.opens_at
        if opened > poll.closes_at - REMINDER_LEAD:
            continue
        voted = select(Participation.voter_id).where(Participation.poll_id == poll.id)
        handed_over = select(PollProxy.grantor_id).where(PollProxy.poll_id == poll.id)
        waiting = select(PollVoter.user_id).where(
            PollVoter.poll_id == poll.id,
            PollVoter.user_id.not_in(voted),
            PollVoter.user_id.not_in(handed_over),
        )
        notify_many(waiting, "poll_closing", poll, forum=poll.forum, title=poll.title)
        reminded += 1
    return reminded
