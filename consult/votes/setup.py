"""Setting up a vote: what it decides (one amendment, a choice between
competing amendments, or the approval of the plan), who votes, when, and how
it counts (``PollSettings``)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..accounts.services import clean_text
from ..amendments.models import Amendment, AmendmentStatus
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
    PollState,
)
from .queries import NOBODY_VOTES, count_rows, electorate_query

MAX_PROXIES = 10
# A poll in these states takes its amendments (and the plan) out of other polls.
ACTIVE_STATES = tuple(state for state in PollState if state.is_active)


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
    active = select(Poll.id).where(Poll.plan_id == plan.id, Poll.state.in_(ACTIVE_STATES))
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
    _check_quorum(settings, scope)
    _check_proxies(settings, scope)


def _check_quorum(settings: PollSettings, scope: str) -> None:
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


def _check_proxies(settings: PollSettings, scope: str) -> None:
    if not 0 <= settings.max_proxies <= MAX_PROXIES:
        raise on_field(
            InvalidInput(_("A delegate may carry at most %(count)d proxies.", count=MAX_PROXIES)),
            "max_proxies",
        )
    if settings.max_proxies and scope != "assembly":
        raise on_field(InvalidInput(_("Only assembly votes allow proxies.")), "max_proxies")


def _voting_group(plan: Plan, scope: str, group: WorkingGroup | None) -> WorkingGroup | None:
    """The working group that votes (None for the assembly)."""
    if scope not in SCOPES:
        raise on_field(
            InvalidInput(_("Choose who votes: a working group or the assembly.")), "scope"
        )
    if scope != "group":
        return None
    if group is None or group.forum_id != plan.forum_id:
        raise on_field(InvalidInput(_("Choose the working group that votes.")), "working_group")
    return group


def _schedule(plan: Plan, phase: Phase | None, opens_at, closes_at) -> tuple[datetime, datetime]:
    """When the vote opens and closes: the times given, else its phase's; it
    opens now without either."""
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
    return opens_at, closes_at


def may_be_put_to_vote(amendment: Amendment, scope: str) -> bool:
    """An admitted amendment; for the assembly, also one the facilitators put to
    the assembly ("voting") that no vote is taking now (``_active_amendment_ids``)."""
    if amendment.status == AmendmentStatus.ADMITTED:
        return True
    return scope == "assembly" and amendment.status == AmendmentStatus.VOTING


@dataclass
class _Subject:
    """What a new poll decides."""

    amendment: Amendment | None = None
    version_id: int | None = None
    target_key: str | None = None
    title: str = ""
    candidates: list[PollCandidate] = field(default_factory=list)


def _amendment_subject(plan: Plan, scope: str, settings: PollSettings, amendment) -> _Subject:
    if amendment is None or amendment.plan_id != plan.id:
        raise NotFound()
    if not may_be_put_to_vote(amendment, scope):
        raise Conflict(_("Only admitted amendments can be put to a vote."))
    if amendment.id in _active_amendment_ids(plan):
        raise Conflict(_("This amendment is already in a vote."))
    if settings.method != "yesno":
        raise on_field(InvalidInput(_("A vote on one amendment is a yes/no vote.")), "method")
    return _Subject(
        amendment=amendment,
        # Named across the forum: the votes of several plans are listed together.
        title=_("Vote on amendment %(label)s", label=amendment.identifier),
    )


def _competitors(plan: Plan, scope: str, target_key, chosen) -> list[Amendment]:
    """The amendments a ranked vote chooses between: those given (all on one
    item of this plan), or every admitted amendment on ``target_key``."""
    if chosen is None:
        return competing_amendments(plan, target_key or "")
    if any(item.plan_id != plan.id for item in chosen):
        raise NotFound()
    if len({item.target_key for item in chosen}) > 1:
        raise Conflict(_("A ranked vote chooses between amendments to the same item."))
    if not all(may_be_put_to_vote(item, scope) for item in chosen):
        raise Conflict(_("Only admitted amendments can be put to a vote."))
    return list(chosen)


def _competing_subject(
    plan: Plan, scope: str, settings: PollSettings, target_key, chosen
) -> _Subject:
    if settings.method not in ("irv", "schulze"):
        raise on_field(InvalidInput(_("A choice between amendments is a ranked vote.")), "method")
    competing = _competitors(plan, scope, target_key, chosen)
    busy = _active_amendment_ids(plan)
    if any(item.id in busy for item in competing):
        raise Conflict(_("One of these amendments is already in a vote."))
    if len(competing) < 2:
        raise Conflict(_("A ranked vote needs at least two admitted amendments on the item."))
    candidates = [
        PollCandidate(name=item.label, amendment_id=item.id, position=position)
        for position, item in enumerate(competing)
    ]
    if settings.include_status_quo:
        candidates.append(PollCandidate(name=STATUS_QUO, position=len(competing)))
    ref = competing[0].target_ref
    return _Subject(
        target_key=competing[0].target_key,
        title=_("Choice between the amendments to item %(ref)s", ref=ref),
        candidates=candidates,
    )


def _plan_subject(plan: Plan, scope: str, settings: PollSettings) -> _Subject:
    if scope != "assembly":
        raise on_field(InvalidInput(_("The plan is approved by the assembly.")), "scope")
    if settings.method != "yesno":
        raise on_field(InvalidInput(_("The approval of the plan is a yes/no vote.")), "method")
    active = db.session.scalar(
        select(func.count())
        .select_from(Poll)
        .where(Poll.plan_id == plan.id, Poll.subject == "plan", Poll.state.in_(ACTIVE_STATES))
    )
    if active:
        raise Conflict(_("The approval of this plan is already being voted on."))
    return _Subject(
        version_id=plans.get_version(plan).id,
        title=_("Approval of the plan “%(title)s”", title=plan.title),
    )


def _subject(plan: Plan, subject: str, scope: str, settings: PollSettings, **given) -> _Subject:
    if subject == "amendment":
        return _amendment_subject(plan, scope, settings, given["amendment"])
    if subject == "competing":
        return _competing_subject(plan, scope, settings, given["target_key"], given["amendments"])
    if subject == "plan":
        return _plan_subject(plan, scope, settings)
    raise InvalidInput(_("Choose what is put to the vote."))


def _settings_columns(settings: PollSettings) -> dict:
    """The poll's columns that say how it counts."""
    counted_quorum = settings.quorum_kind != "none"
    return {
        "description": clean_text(settings.description)[:5000],
        "method": settings.method,
        "secret": settings.secret,
        "rule": settings.rule,
        "quorum_kind": settings.quorum_kind,
        "quorum_value": settings.quorum_value if counted_quorum else Decimal(0),
        "quorum_base": settings.quorum_base,
        "abstentions_count": settings.abstentions_count,
        "hide_results": settings.hide_results,
        "allow_change": settings.allow_change,
        "max_proxies": settings.max_proxies,
    }


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
    amendments: list[Amendment] | None = None,
    group: WorkingGroup | None = None,
    phase: Phase | None = None,
) -> Poll:
    """A poll in preparation ("draft"): it opens at ``opens_at`` (by the scheduler,
    or earlier by hand) and closes at ``closes_at``. Tied to a ``phase``, a time
    not given is the phase's; without either, it opens now.

    A ranked vote (``subject="competing"``) chooses between ``amendments`` when
    given (the assembly's agenda point lists them), else between every admitted
    amendment on ``target_key``."""
    forums.require_manage_open(actor, plan.forum)
    settings = settings or PollSettings()
    if plan.status in ("approved", "archived"):
        raise Conflict(_("This plan is approved or archived; its text can no longer change."))
    group = _voting_group(plan, scope, group)
    _check_settings(settings, scope)
    opens_at, closes_at = _schedule(plan, phase, opens_at, closes_at)
    chosen = _subject(
        plan,
        subject,
        scope,
        settings,
        amendment=amendment,
        target_key=target_key,
        amendments=amendments,
    )
    poll = Poll(
        forum_id=plan.forum_id,
        plan_id=plan.id,
        scope=scope,
        working_group_id=group.id if group else None,
        subject=subject,
        amendment_id=chosen.amendment.id if chosen.amendment else None,
        version_id=chosen.version_id,
        target_key=chosen.target_key,
        title=clean_text(settings.title)[:300] or chosen.title,
        phase_id=phase.id if phase else None,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by_id=getattr(actor, "id", None),
        candidates=chosen.candidates,
        **_settings_columns(settings),
    )
    db.session.add(poll)
    db.session.flush()
    _check_electorate(poll)
    record("poll.created", poll, actor=actor, forum=plan.forum, subject=subject, scope=scope)
    return poll


def _check_electorate(poll: Poll) -> None:
    if not count_rows(electorate_query(poll)):
        raise Conflict(str(NOBODY_VOTES))
    if poll.secret and not poll.hide_results and weights_differ(poll):
        raise on_field(InvalidInput(str(LIVE_COUNT_SHOWS_WEIGHTS)), "hide_results")


# Watching a running count of a secret vote change by 2.5 at once tells who voted
# what as plainly as a list of ballots would.
LIVE_COUNT_SHOWS_WEIGHTS = _l(
    "A secret vote of delegates with different weights cannot show its count while it "
    "runs: each change in the count would show a ballot's weight, and so whose it is. "
    "Hide the results until the vote closes."
)
