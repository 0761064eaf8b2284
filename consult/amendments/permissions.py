"""Who may do what with an amendment, and when: one predicate per rule.

Every rule is a function ``<action>_refusal(actor, amendment, …)`` that returns
why ``actor`` may not do it now (translated), or None when they may. The
services enforce it (``enforce(refusal)`` raises the error the rule names:
403 for who you are, 409 for where the amendment stands), and the views ask
the same functions through ``allowed()`` for what a page offers, so a page
never offers what the service would refuse.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..consultations.permissions import calendar_refusal
from ..errors import Conflict, PermissionDenied
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Membership, WorkingGroupMember
from ..labels import LabelledEnum
from ..plan_translations.permissions import translate_amendment_refusal
from ..plans import services as plans
from ..plans.models import Plan
from .models import Amendment, AmendmentOperation, AmendmentSponsor, SupportThresholdKind
from .models import AmendmentStatus as S
from .plan_settings import section_group_id
from .queries import in_running_poll, invitation_of, support_tally


class Refusal(str):
    """Why an action is refused, and the error its service raises: a conflict
    with where the amendment stands (409) unless said otherwise."""

    error = Conflict


class Forbidden(Refusal):
    """Refused because of who the actor is (403)."""

    error = PermissionDenied


def enforce(refusal: str | None) -> None:
    """Raise the error a refusal names (nothing when there is none)."""
    if refusal is not None:
        raise getattr(refusal, "error", Conflict)(str(refusal))


# The status machine: who may move an amendment from one status to another.
AUTHOR_MOVES = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.WITHDRAWN),
    (S.ADMITTED, S.WITHDRAWN),
    (S.REVISE, S.WITHDRAWN),
}
FACILITATOR_MOVES = {
    (S.SUBMITTED, S.ADMITTED),
    (S.SUBMITTED, S.REJECTED),
    (S.ADMITTED, S.ACCEPTED),
    (S.ADMITTED, S.REJECTED),
    (S.ADMITTED, S.VOTING),
    (S.VOTING, S.ACCEPTED),
    (S.VOTING, S.REJECTED),
}
# Moves a poll makes: opening puts the amendment to the vote, the result decides it;
# a vote cancelled or without quorum gives it back to the facilitators ("admitted").
POLL_MOVES = {
    (S.ADMITTED, S.VOTING),
    (S.VOTING, S.ACCEPTED),
    (S.VOTING, S.REJECTED),
    (S.VOTING, S.ADMITTED),
}
SUPPORTABLE = (S.SUBMITTED, S.ADMITTED)


class Decision(LabelledEnum):
    """What a facilitator may decide on an amendment: the status it moves to,
    with the verb the decision's button shows."""

    ADMIT = "admitted", _l("Admit")
    ACCEPT = "accepted", _l("Accept")
    REJECT = "rejected", _l("Reject")
    PUT_TO_VOTE = "voting", _l("Put to the vote")  # a verb: the status says "Put to a vote"

    @property
    def is_refusal(self) -> bool:
        return self is Decision.REJECT


# --- who the actor is ------------------------------------------------------------


def is_author(user, amendment: Amendment) -> bool:
    return amendment.is_by(user)


def _membership(actor, plan: Plan) -> Membership | None:
    return forums.membership_of(actor, plan.forum)


def _is_member(membership: Membership | None) -> bool:
    return membership is not None and membership.role != "observer"


# --- amending a plan's text ---------------------------------------------------------


def eligibility_refusal(
    actor, plan: Plan, target_key: str | None, nodes_by_key: dict
) -> str | None:
    """Why ``actor`` may never amend this target (whatever the calendar), or None."""
    membership = _membership(actor, plan)
    if forums.can_manage(actor, plan.forum, membership):
        return None
    if not _is_member(membership):
        return Forbidden(_("Only members of the forum can propose amendments."))
    group_id = section_group_id(plan, nodes_by_key, target_key)
    if group_id is None:
        return None
    in_group = db.session.scalar(
        select(WorkingGroupMember.id).where(
            WorkingGroupMember.working_group_id == group_id,
            WorkingGroupMember.user_id == actor.id,
        )
    )
    if in_group is None:
        return Forbidden(
            _(
                "This section is in the hands of a working group you are not part of. "
                "You can still comment on it."
            )
        )
    return None


def final_refusal(plan: Plan) -> str | None:
    """Why nobody, facilitators included, may change this plan's text any more:
    the assembly approved it (its version is final). The one rule that every
    page of the plan asks (the banner says "final text"), so none offers to
    amend it."""
    version = plan.current_version
    if plan.status == "approved" or (version is not None and version.is_final):
        return Refusal(_("The assembly approved this plan: its text is final."))
    return None


def phase_refusal(actor, plan: Plan, action: str) -> str | None:
    """Why the calendar (the consultation's phase, or the plan's switch) does not
    allow ``action`` now; facilitators are not bound by it (but an archived
    plan, or a plan whose text is final, refuses everyone)."""
    if refusal := plans.archived_refusal(plan) or final_refusal(plan):
        return refusal
    if forums.can_manage(actor, plan.forum):
        return None
    return calendar_refusal(plan, action)


def amend_refusal(actor, plan: Plan, target_key: str | None, nodes_by_key: dict) -> str | None:
    """Why ``actor`` may not amend this target now, or None."""
    refusal = eligibility_refusal(actor, plan, target_key, nodes_by_key)
    refusal = refusal or phase_refusal(actor, plan, "amend")
    return None if refusal is None else Forbidden(refusal)


def sub_amend_refusal(actor, parent: Amendment) -> str | None:
    """Why ``actor`` may not propose a new text for this amendment."""
    proposes_text = parent.operation != AmendmentOperation.DELETE
    if parent.status != S.ADMITTED or not proposes_text or parent.parent_id is not None:
        return Refusal(_("Only admitted amendments that propose a text can be amended."))
    nodes = {n.key: n for n in plans.version_nodes(plans.get_version(parent.plan))}
    return amend_refusal(actor, parent.plan, parent.target_key, nodes)


def compromise_refusal(actor, plan: Plan) -> str | None:
    """Why ``actor`` may not write a compromise on this plan's amendments."""
    if not forums.can_manage(actor, plan.forum):
        return Forbidden(_("Only the forum's facilitators can write compromises."))
    return plans.archived_refusal(plan) or final_refusal(plan)


def mergeable(amendment: Amendment) -> bool:
    """Whether a compromise may merge it: open, or accepted but not applied."""
    if amendment.status == S.ACCEPTED:
        return amendment.applied_version_id is None
    return amendment.status in SUPPORTABLE


# --- the author's own amendment ------------------------------------------------------


def edit_refusal(actor, amendment: Amendment) -> str | None:
    if not is_author(actor, amendment):
        return Forbidden(_("Only the author can do this."))
    if refusal := plans.archived_refusal(amendment.plan):
        return refusal
    if amendment.status != S.DRAFT:
        return Refusal(_("Only drafts can be edited; withdraw it and propose it again."))
    return None


def revise_refusal(actor, amendment: Amendment) -> str | None:
    if not is_author(actor, amendment):
        return Forbidden(_("Only the author can do this."))
    if refusal := plans.archived_refusal(amendment.plan):
        return refusal
    if amendment.status != S.REVISE:
        return Refusal(_("Only drafts can be edited; withdraw it and propose it again."))
    return None


def move_refusal(actor, amendment: Amendment, to_status: str) -> str | None:
    """Why ``actor`` may not move the amendment to ``to_status`` (the status machine)."""
    if refusal := plans.archived_refusal(amendment.plan):
        return refusal
    move = (amendment.status, to_status)
    if move in AUTHOR_MOVES and not is_author(actor, amendment):
        return Forbidden(_("Only the author can do this."))
    if move in FACILITATOR_MOVES and not forums.can_manage(actor, amendment.plan.forum):
        return Forbidden(_("Only the forum's facilitators can decide on amendments."))
    if move not in AUTHOR_MOVES | FACILITATOR_MOVES:
        return Refusal(
            _(
                "An amendment that is “%(before)s” cannot become “%(after)s”.",
                before=S(amendment.status).label,
                after=S(to_status).label,
            )
        )
    return None


def submit_refusal(actor, amendment: Amendment) -> str | None:
    """A draft is submitted while the calendar allows amending (a sub-amendment
    whenever its amendment is admitted)."""
    if amendment.parent_id is None and (closed := phase_refusal(actor, amendment.plan, "amend")):
        return Refusal(closed)
    return move_refusal(actor, amendment, S.SUBMITTED)


def withdraw_refusal(actor, amendment: Amendment) -> str | None:
    return move_refusal(actor, amendment, S.WITHDRAWN)


def invite_cosponsor_refusal(actor, amendment: Amendment) -> str | None:
    if not is_author(actor, amendment):
        return Forbidden(_("Only the author can invite co-sponsors."))
    if refusal := plans.archived_refusal(amendment.plan):
        return refusal
    if amendment.status.is_final:
        return Refusal(_("This amendment has been decided already."))
    return None


def cosponsor_refusal(
    actor, amendment: Amendment, invitation: AmendmentSponsor | None
) -> str | None:
    """Why ``actor`` may not accept to co-sponsor (``invitation``: their row, if any)."""
    if invitation is None:
        return Forbidden(_("You have not been invited to co-sponsor this amendment."))
    return plans.archived_refusal(amendment.plan)


# --- supports ------------------------------------------------------------------


def support_refusal(actor, amendment: Amendment) -> str | None:
    """Why ``actor`` may not support this amendment now, or None."""
    if not _is_member(_membership(actor, amendment.plan)):
        return Forbidden(_("Only members of the forum can support amendments."))
    if amendment.status not in SUPPORTABLE:
        return Refusal(_("Only submitted or admitted amendments can be supported."))
    if closed := phase_refusal(actor, amendment.plan, "support"):
        return Refusal(closed)
    if is_author(actor, amendment):
        return Refusal(_("Authors cannot support their own amendment."))
    return None


def withdraw_support_refusal(actor, amendment: Amendment) -> str | None:
    if refusal := plans.archived_refusal(amendment.plan):
        return refusal
    if amendment.status not in SUPPORTABLE:
        return Refusal(_("Supports can no longer change for this amendment."))
    return None


def threshold_met(amendment: Amendment, tally: dict[str, int] | None = None) -> bool:
    plan = amendment.plan
    if plan.support_threshold <= 0:
        return True
    tally = tally if tally is not None else support_tally(amendment)
    return tally[plan.support_threshold_kind] >= plan.support_threshold


# --- facilitators' decisions ------------------------------------------------------------


def decide_refusal(actor, amendment: Amendment, to_status: str, tally=None) -> str | None:
    """Why ``actor`` may not decide ``to_status`` for the amendment now: the
    plan's text is final; a vote that has not closed decides it; admitting
    needs the plan's supports."""
    if refusal := final_refusal(amendment.plan):
        return refusal
    if amendment.status == S.VOTING and in_running_poll(amendment):
        return Refusal(
            _("This amendment is in a vote that has not closed; the vote's result decides it.")
        )
    if to_status == S.ADMITTED and not threshold_met(amendment, tally):
        return _threshold_refusal(amendment, tally)
    if refusal := move_refusal(actor, amendment, to_status):
        return refusal
    parent = amendment.parent if amendment.parent_id is not None else None
    if to_status == S.ACCEPTED and parent is not None and parent.status.is_final:
        return Refusal(_("The amended amendment has been decided already."))
    return None


def _threshold_refusal(amendment: Amendment, tally=None) -> Refusal:
    plan = amendment.plan
    tally = tally if tally is not None else support_tally(amendment)
    return Refusal(
        _(
            "This amendment needs the support of %(needed)d %(kind)s before it can be "
            "admitted; it has %(have)d.",
            needed=plan.support_threshold,
            kind=SupportThresholdKind(plan.support_threshold_kind).label,
            have=tally[plan.support_threshold_kind],
        )
    )


def decisions(actor, amendment: Amendment, tally=None) -> tuple[Decision, ...]:
    """The decisions ``actor`` may take on the amendment now."""
    if not forums.can_manage(actor, amendment.plan.forum):
        return ()
    status = amendment.status
    possible = [Decision(after) for before, after in FACILITATOR_MOVES if before == status]
    ordered = sorted(possible, key=list(Decision).index)
    return tuple(d for d in ordered if decide_refusal(actor, amendment, d.value, tally) is None)


# --- what a page offers ---------------------------------------------------------------


@dataclass(frozen=True)
class AmendmentActions:
    """What ``actor`` may do with one amendment now: the page offers these and
    nothing else (each is the answer of the rule its service enforces)."""

    support: bool = False
    withdraw_support: bool = False
    cosponsor: bool = False
    invite_cosponsor: bool = False
    edit: bool = False
    submit: bool = False
    revise: bool = False
    withdraw: bool = False
    sub_amend: bool = False
    put_to_vote: bool = False
    translate: bool = False
    decisions: tuple[Decision, ...] = ()

    @property
    def as_author(self) -> bool:
        """Whether the author's part of the page has anything to offer."""
        return self.edit or self.submit or self.revise or self.withdraw


def allowed(
    actor, amendment: Amendment, *, supported: bool = False, tally=None
) -> AmendmentActions:
    """What ``actor`` may do with ``amendment`` now, from the services' own rules.
    ``supported``: whether the actor supports it already; ``tally``: its
    support tally if the caller has read it."""
    if not getattr(actor, "is_authenticated", False):
        return AmendmentActions()
    invitation = invitation_of(actor, amendment)
    chosen = decisions(actor, amendment, tally)
    return AmendmentActions(
        support=not supported and support_refusal(actor, amendment) is None,
        withdraw_support=supported and withdraw_support_refusal(actor, amendment) is None,
        cosponsor=invitation is not None
        and invitation.is_invited
        and cosponsor_refusal(actor, amendment, invitation) is None,
        invite_cosponsor=invite_cosponsor_refusal(actor, amendment) is None,
        edit=edit_refusal(actor, amendment) is None,
        submit=amendment.status == S.DRAFT and submit_refusal(actor, amendment) is None,
        revise=revise_refusal(actor, amendment) is None,
        withdraw=withdraw_refusal(actor, amendment) is None,
        sub_amend=sub_amend_refusal(actor, amendment) is None,
        put_to_vote=Decision.PUT_TO_VOTE in chosen,
        translate=translate_amendment_refusal(actor, amendment) is None,
        decisions=chosen,
    )
