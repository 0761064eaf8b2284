"""The slim banner on every page of a plan under consultation (plan, item,
amendment, thread, vote): the current phase, until when (in the reader's
zone), what this reader may do now, and why not when not. It asks the same
predicates the services enforce, so it never offers what they would refuse."""

from dataclasses import dataclass, field

from babel.lists import format_list
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..amendments.permissions import amend_refusal, final_refusal, phase_refusal
from ..comments.permissions import write_refusal
from ..consultations.models import Consultation, PhaseAction
from ..consultations.permissions import calendar_refusal
from ..consultations.services import (
    consultation_of,
    open_phase,
)
from ..date_formats import format_moment
from ..labels import label
from ..plans.models import Plan
from ..votes.permissions import plan_vote_refusal, poll_vote_refusal, voter_status
from .summary import whats_open

# What a member does on a plan's pages, in the order the banner lists them.
ACTIONS = ("amend", "support", "comment", "vote")
_NOT_READ = object()


@dataclass(frozen=True)
class PhaseBanner:
    consultation: Consultation | None
    # The text is final: approved by the assembly; nothing to amend.
    final: bool = False
    phase: str | None = None
    ends: str | None = None
    may: list[str] = field(default_factory=list)  # "propose amendments", "comment on the plan"…
    # Why not, for what the phase would allow but this reader may not do, or
    # when what is closed opens again.
    reasons: list[str] = field(default_factory=list)
    # On a vote's pages: until when the reader may vote in it (their zone).
    vote_until: str | None = None

    @property
    def may_text(self) -> str:
        """What the reader may do, as a list in their language ("a, b y c")."""
        return format_list(self.may, locale=get_locale()) if self.may else ""


def phase_banner(
    actor,
    plan: Plan,
    *,
    consultation=_NOT_READ,
    target_key: str | None = None,
    nodes=None,
    poll=None,
    voter=None,
) -> PhaseBanner | None:
    """The banner of ``plan``'s pages for ``actor`` (None: a plan that is not
    under consultation and not final shows none). ``target_key`` and
    ``nodes`` (key → node) narrow "propose amendments" to one item's section;
    on a vote's pages, ``poll`` (and the reader's ``voter`` status, when the
    page has read it) makes "vote" about that vote."""
    if consultation is _NOT_READ:
        consultation = consultation_of(plan)
    if final_refusal(plan):
        return PhaseBanner(consultation, final=True)
    if consultation is None:
        return None
    phase = open_phase(consultation)
    if not getattr(actor, "is_authenticated", False):
        reasons = [_("Sign in as a member of the forum to take part.")]
        return PhaseBanner(
            consultation, phase=_phase_name(phase), ends=_ends(phase), reasons=reasons
        )
    may, reasons, about_poll = _may_and_why_not(
        actor, plan, phase, target_key, nodes or {}, poll, voter
    )
    if phase is None:
        reasons = _when_it_opens(plan)
    if about_poll is not None and str(about_poll) not in reasons:
        # On a vote's page, why the reader may not vote in it is always said.
        reasons.insert(0, str(about_poll))
    may_vote = poll is not None and str(PhaseAction.VOTE.label) in may
    return PhaseBanner(
        consultation,
        phase=_phase_name(phase),
        ends=_ends(phase),
        may=may,
        reasons=reasons,
        vote_until=format_moment(poll.closes_at) if may_vote else None,
    )


def _may_and_why_not(actor, plan: Plan, phase, target_key, nodes, poll, voter):
    """What the reader may do now (its labels), why not for what the open
    phase allows, and on a vote's pages why not that vote (None: they may)."""
    may, reasons, about_poll = [], [], None
    for action in ACTIONS:
        if action == "vote" and poll is not None:
            status = voter if voter is not None else voter_status(actor, poll)
            refusal = about_poll = poll_vote_refusal(actor, poll, status)
        else:
            refusal = _refusal(actor, plan, action, target_key, nodes)
        if refusal is None:
            may.append(label(action, PhaseAction))
        elif str(refusal) not in reasons and (phase is None or phase.allows(action)):
            reasons.append(str(refusal))
    return may, reasons, about_poll


def _when_it_opens(plan: Plan) -> list[str]:
    """Between phases: when what is closed opens again (at most two reasons)."""
    upcoming = [calendar_refusal(plan, action) for action in ACTIONS]
    return list(dict.fromkeys(r for r in upcoming if r))[:2]


def _refusal(actor, plan: Plan, action: str, target_key, nodes) -> str | None:
    if action == "amend":
        return amend_refusal(actor, plan, target_key, nodes)
    if action == "comment":
        return write_refusal(actor, plan.forum) or calendar_refusal(plan, "comment")
    if action == "support":
        if write_refusal(actor, plan.forum) is not None:
            return _("Only members of the forum can support amendments.")
        return phase_refusal(actor, plan, "support")
    # "You can vote" only to whoever has a vote to cast in an open vote of the plan.
    return calendar_refusal(plan, "vote") or plan_vote_refusal(actor, plan)


def _phase_name(phase) -> str | None:
    if phase is None:
        return None
    return phase.shown_title


def _ends(phase) -> str | None:
    return None if phase is None else format_moment(phase.ends_at)


def init_app(app) -> None:
    """Pages include ``open_now/_banner.html`` and ``_whats_open.html``, which
    ask these for the reader."""
    app.jinja_env.globals["phase_banner_for"] = lambda plan, **options: phase_banner(
        current_user, plan, **options
    )
    app.jinja_env.globals["whats_open_for"] = lambda forums: whats_open(forums, current_user)
