"""The triage desk: a facilitator works through a plan's amendments, one row
at a time or several at once with one reason (``lifecycle.decide_many``).
What each row offers is ``permissions.decisions``."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ..database import read_only
from ..extensions import db
from ..forums import services as forums
from ..forums.groups import list_groups
from ..inputs import clean_text, database_int
from ..plans import services as plans
from . import conflicts, lifecycle, permissions, plan_settings, queries
from .blueprint import PLAN, bp, int_arg
from .forms import DecisionForm
from .models import Amendment, AmendmentStatus

MAX_SELECTED = 100  # a page of the desk
MAX_REASON = 2_000


def _groups_in_charge(plan, amendments) -> dict[int, str]:
    """The working group in charge of each amendment's item (that of its nearest
    section with one), by amendment id: three statements for the whole desk."""
    assignments = plan_settings.section_assignments(plan)
    if not assignments:
        return {}
    names = {group.id: group.name for group, _members in list_groups(plan.forum)}
    nodes = {node.key: node for node in plans.version_nodes(plan.current_version)}
    in_charge = {}
    for amendment in amendments:
        node = nodes.get(amendment.target_key) if amendment.target_key else None
        while node is not None:
            if node.kind == "section" and node.key in assignments:
                in_charge[amendment.id] = names.get(assignments[node.key], "")
                break
            node = nodes.get(node.parent_key)
    return in_charge


def _offered(amendments, decisions) -> list:
    """The decisions that some row of a table offers, in their usual order."""
    offered = {decision for amendment in amendments for decision in decisions[amendment.id]}
    return [decision for decision in permissions.Decision if decision in offered]


def _desk(plan, status: int = 200, *, bulk_reason: str = "", selected=frozenset()):
    """What waits for admission, then what is admitted and waits for
    acceptance, rejection or a vote; each row with the decisions the rules allow."""
    submitted, admitted = (
        queries.list_amendments(
            current_user,
            plan,
            status=state,
            sort="target",
            per_page=100,
            page=int_arg(argument) or 1,
        )
        for state, argument in (
            (AmendmentStatus.SUBMITTED, "page"),
            (AmendmentStatus.ADMITTED, "admitted_page"),
        )
    )
    listed = [*submitted.items, *admitted.items]
    tallies = queries.support_tallies([a.id for a in listed])
    decisions = {a.id: permissions.decisions(current_user, a, tallies[a.id]) for a in listed}
    competing = conflicts.conflicts(plan)
    return render_template(
        "amendments/triage.html",
        forum=plan.forum,
        plan=plan,
        page=submitted,
        admitted=admitted,
        conflicts=competing,
        competing={a.id: group for group in competing for a in group.amendments},
        in_charge=_groups_in_charge(plan, listed),
        tallies=tallies,
        decisions=decisions,
        offered_in={
            "waiting": _offered(submitted.items, decisions),
            "admitted": _offered(admitted.items, decisions),
        },
        decision_form=DecisionForm(formdata=None),
        bulk_reason=bulk_reason,
        selected=selected,
    ), status


@bp.get(PLAN + "/amendments/triage")
@login_required
@read_only
def triage(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    return _desk(plan)


@bp.post(PLAN + "/amendments/triage/decisions")
@login_required
def decide_selected(slug, plan_id):
    """One decision and one reason for the amendments checked on the desk."""
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    reason = clean_text(request.form.get("reason", ""))[:MAX_REASON]
    ids = {n for raw in request.form.getlist("amendment") if (n := database_int(raw))}
    decision = request.form.get("status", "")
    if decision not in {d.value for d in permissions.Decision}:
        flash(_("Choose a decision."), "error")
        return _desk(plan, 400, bulk_reason=reason, selected=ids)
    if not ids or len(ids) > MAX_SELECTED:
        flash(_("Select at least one amendment (at most one page of the desk)."), "error")
        return _desk(plan, 400, bulk_reason=reason, selected=ids)
    chosen = list(
        db.session.scalars(
            select(Amendment)
            .where(Amendment.plan_id == plan.id, Amendment.id.in_(ids))
            .order_by(Amendment.number)
        )
    )
    decided, refused = lifecycle.decide_many(current_user, chosen, decision, reason)
    db.session.commit()
    if decided:
        flash(
            ngettext(
                "Decision recorded for %(num)d amendment: %(labels)s.",
                "Decision recorded for %(num)d amendments: %(labels)s.",
                len(decided),
                labels=", ".join(a.identifier for a in decided),
            ),
            "success",
        )
    for amendment, why in refused:
        flash(
            _(
                "%(amendment)s was not changed: %(reason)s",
                amendment=amendment.identifier,
                reason=why,
            ),
            "error",
        )
    return redirect(url_for("amendments.triage", slug=slug, plan_id=plan_id))
