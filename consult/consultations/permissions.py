"""What a consultation's calendar allows, and who runs it: one predicate per rule.

Each rule returns why it refuses (translated), or None. ``calendar_refusal``
is the phase rule every feature asks before members amend, support, comment
or vote (the facilitators' exemption, where there is one, is the caller's
rule: ``amendments.permissions.phase_refusal``). The others are
``<action>_refusal(actor, object)``: the services raise with them
(``forums.permissions.require``: 403 for who the actor is, 409 for where the
calendar stands) and the consultation's page offers what ``allowed`` says.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..date_formats import format_moment
from ..forums import permissions as forum_permissions
from ..forums.permissions import StateRefusal
from ..plans.models import Plan
from ..plans.services import archived_refusal
from .models import Consultation, Phase
from .readings import consultation_of, open_phase, start_refusal

_NOT_READ = object()  # "not given: read it"

OPENS_ON = {
    "amend": _l("Amendments can be proposed from %(date)s."),
    "support": _l("Amendments can be supported from %(date)s."),
    "comment": _l("Comments open on %(date)s."),
    "vote": _l("Voting opens on %(date)s."),
}
CLOSED_ON = {
    "amend": _l("Amendments closed on %(date)s."),
    "support": _l("Supports closed on %(date)s."),
    "comment": _l("Comments closed on %(date)s."),
    "vote": _l("Voting closed on %(date)s."),
}
NOT_IN_PLAN = {
    "amend": _l("This consultation does not take amendments now."),
    "support": _l("This consultation does not take supports now."),
    "comment": _l("This consultation does not take comments now."),
    "vote": _l("There is no vote in this consultation now."),
}
PLAN_CLOSED = {
    "amend": _l("This plan is not open for amendments at the moment."),
    "support": _l("This plan is not open for supports at the moment."),
    "comment": _l("Comments are closed: this plan is not open for input at the moment."),
    "vote": _l("There is no vote on this plan at the moment."),
}


# --- what the calendar allows members ----------------------------------------------


def calendar_refusal(
    plan: Plan, action: str, now: datetime | None = None, *, consultation=_NOT_READ
) -> str | None:
    """Why members may not ``action`` ("amend", "support", "comment", "vote")
    on this plan now, saying when it opens or when it closed; None when the
    current phase (or, without a consultation, the plan's switch) allows it.
    A caller that has already read the plan's consultation (``consultation_of``,
    None included) passes it. The phases' states decide, as the scheduler left
    them; ``now`` is accepted for the callers that have their own clock."""
    if refusal := archived_refusal(plan):
        return refusal
    if plan.status in ("approved", "archived"):
        return _("This plan is approved or archived; its text can no longer change.")
    if consultation is _NOT_READ:
        consultation = consultation_of(plan)
    if consultation is None:
        return None if plan.open_for_input else str(PLAN_CLOSED[action])
    current = open_phase(consultation)
    if current is not None and current.allows(action):
        return None
    upcoming = [p for p in consultation.phases if p.state == "pending" and p.allows(action)]
    if upcoming:
        return str(OPENS_ON[action]) % {"date": format_moment(upcoming[0].starts_at)}
    past = [p for p in consultation.phases if p.state == "closed" and p.allows(action)]
    if past:
        # The deadline, not the moment the scheduler noticed it had passed.
        return str(CLOSED_ON[action]) % {"date": format_moment(past[-1].ends_at)}
    return str(NOT_IN_PLAN[action])


def discussion_refusal(consultation: Consultation) -> str | None:
    """Why members may not comment on ``consultation`` as a whole now (its
    thread): its own phases decide, as they do for the plan's items."""
    return calendar_refusal(consultation.plan, "comment", consultation=consultation)


# --- running the calendar ------------------------------------------------------------


def create_refusal(actor, plan: Plan, current=_NOT_READ) -> str | None:
    """Why ``actor`` may not start a consultation of ``plan`` now: the forum's
    facilitators may, once the previous one is over (``current``: the plan's
    current consultation, if the caller has read it)."""
    if refusal := forum_permissions.manage_refusal(actor, plan.forum):
        return refusal
    if current is _NOT_READ:
        return start_refusal(plan)
    return start_refusal(plan, current)


def advance_refusal(actor, consultation: Consultation) -> str | None:
    """Why ``actor`` may not close the open phase now and open the next one:
    the forum's facilitators may, while a phase is open or to come."""
    if refusal := forum_permissions.manage_refusal(actor, consultation.forum):
        return refusal
    if consultation.is_over:
        return StateRefusal(_("The consultation is over; there is no next phase."))
    return None


def extend_refusal(actor, phase: Phase) -> str | None:
    """Why ``actor`` may not give ``phase`` more time: the forum's facilitators
    may, until it is over."""
    if refusal := forum_permissions.manage_refusal(actor, phase.consultation.forum):
        return refusal
    if phase.is_closed:
        return StateRefusal(_("This phase is over; it can no longer be extended."))
    return None


@dataclass(frozen=True)
class ConsultationActions:
    """What a consultation's page offers its reader: the answers of the rules
    above. ``extend``: the phases they may extend (ids)."""

    manage: bool = False
    advance: bool = False
    extend: frozenset[int] = frozenset()
    start_next: bool = False


def allowed(actor, consultation: Consultation, latest: Consultation) -> ConsultationActions:
    """What ``actor`` may do on ``consultation``'s page (``latest``: the plan's
    current consultation, from which a next reading would start)."""
    if forum_permissions.manage_refusal(actor, consultation.forum) is not None:
        return ConsultationActions()
    return ConsultationActions(
        manage=True,
        advance=advance_refusal(actor, consultation) is None,
        extend=frozenset(
            phase.id for phase in consultation.phases if extend_refusal(actor, phase) is None
        ),
        start_next=create_refusal(actor, consultation.plan, latest) is None,
    )
