"""TODO docstring"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..accounts.services import clean_text
from ..amendments.models import Amendment
from ..amendments.plan_settings import section_group_id
from ..audit.services import record
from ..consultations.models import Consultation, Phase
from ..consultations.services import consultation_of
from ..database import utcnow
from ..errors import Conflict, InvalidInput, NotFound, ServiceError
from ..extensions import db
from ..forums import services as forums
from ..forums.models import WorkingGroup
from ..plans import services as plans
from ..plans.models import Plan
from .disclosure import weights_differ
from .models import (
    METHODS,
    QUORUM_BASES,
    QUORUM_KINDS,
    RULES,
    SCOPES,
    STATUS_QUO,
    Poll,
    PollCandidate,
)
from .queries import NOBODY_VOTES, count_rows, electorate_query

MAX_PROXIES = 10


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
    return section_group_id(plan, nodes, target_key)


def on_field(error: ServiceError, field_name: str) -> ServiceError:
    """Tag a refusal with the form field it is about, so the form shows it there."""
    error.field = field_name
    return error


def _check_settings(settings: PollSettings, scope: str) -> None:
    if settings.method not in METHODS:
        raise on_field(InvalidInput(_("Choose how the votes are counted.")), "method")
    if settings.rule not in RULES:
        raise on_field(InvalidInput(_("Choose a majority rule.")), "rule")
    if settings.quorum_kind not in QUORUM_KINDS or settings.quorum_base not in QUORUM_BASES:
        raise on_field(InvalidInput(_("Choose a quorum.")), "quorum_kind")
    value = settings.quorum_value
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise on_field(
            InvalidInput(_("The quorum must be a number, zero or more.")), "quorum_value"
        )
    if settings.quorum_kind == "share" and value > 1:
        raise on_field(
            InvalidInput(_("A quorum given as a share must be between 0 and 1 (e.g. 0.5).")),
            "quorum_value",
        )
    if settings.quorum_kind == "count" and value > Decimal(10) ** 9:
        raise on_field(InvalidInput(_("The quorum is out of range.")), "quorum_value")
    if settings.quorum_base == "present" and scope != "assembly":
        raise on_field(
            InvalidInput(_("Only assembly votes can count a quorum of delegates present.")),
            "quorum_base",
        )
    if not 0 <= settings.max_proxies <= MAX_PROXIES:
        raise on_field(
            InvalidInput(_("A delegate may carry at most %(count)d proxies.", count=MAX_PROXIES)),
            "max_proxies",
        )
    if settings.max_proxies and scope != "assembly":
        raise on_field(InvalidInput(_("Only assembly votes allow proxies.")), "max_proxies")


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
        raise on_field(
            InvalidInput(_("Choose who votes: a working group or the assembly.")), "scope"
        )
    if scope == "group":
        if group is None or group.forum_id != plan.forum_id:
            raise on_field(InvalidInput(_("Choose the working group that votes.")), "working_group")
    else:
        group = None
    _check_settings(settings, scope)
    if phase is not None:
        consultation = consultation_of(plan)
        if consultation is None or phase.consultation_id != consultation.id:
            raise on_field(InvalidInput(_("Choose a phase of this plan's consultation.")), "phase")
        opens_at = opens_at or phase.starts_at
        closes_at = closes_at or phase.ends_at
    opens_at = opens_at or utcnow()
    if closes_at is None:
        raise on_field(InvalidInput(_("Give the closing time, or choose a phase.")), "closes_at")
    if opens_at.tzinfo is None or closes_at.tzinfo is None or closes_at <= opens_at:
        raise on_field(InvalidInput(_("The vote must close after it opens.")), "closes_at")
    if closes_at <= utcnow():
        raise on_field(InvalidInput(_("The closing time must be in the future.")), "closes_at")

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
            raise on_field(InvalidInput(_("A vote on one amendment is a yes/no vote.")), "method")
    elif subject == "competing":
        amendment = None
        if settings.method not in ("irv", "schulze"):
            raise on_field(
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
            raise on_field(InvalidInput(_("The plan is approved by the assembly.")), "scope")
        if settings.method != "yesno":
            raise on_field(InvalidInput(_("The approval of the plan is a yes/no vote.")), "method")
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
    if not count_rows(electorate_query(poll)):
        raise Conflict(str(NOBODY_VOTES))
    if poll.secret and not poll.hide_results and weights_differ(poll):
        raise on_field(InvalidInput(str(LIVE_COUNT_SHOWS_WEIGHTS)), "hide_results")
    record("poll.created", poll, actor=actor, forum=plan.forum, subject=subject, scope=scope)
    return poll


# Watching a running count of a secret vote change by 2.5 at once tells who voted
# what as plainly as a list of ballots would.
LIVE_COUNT_SHOWS_WEIGHTS = _l(
    "A secret vote of delegates with different weights cannot show its count while it "
    "runs: each change in the count would show a ballot's weight, and so whose it is. "
    "Hide the results until the vote closes."
)
