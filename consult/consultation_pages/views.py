from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..amendments import queries as amendment_queries
from ..comments import threads as comment_threads
from ..consultations import permissions, scheduler, services
from ..consultations.forms import ConsultationForm, ExtendForm
from ..consultations.models import ACTIONS, DEFAULT_ACTIONS, PHASE_KINDS, PhaseKind, reading_label
from ..consultations.readings import consultations_of
from ..errors import ServiceError
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..labels import label
from ..plans import services as plans
from ..timezones import forum_zone

bp = Blueprint("consultations", __name__)

CONSULTATION = "/forums/<slug>/consultations/<int:consultation_id>"


def _phase_inputs(form: ConsultationForm) -> list[services.PhaseInput]:
    timezone = form.timezone.data
    phases = []
    for entry in form.phases.entries:
        phase = entry.form
        if not phase.kind.data:
            continue
        if phase.starts_at.data is None or phase.ends_at.data is None:
            raise services.InvalidInput(_("Every phase needs a start and an end."))
        phases.append(
            services.PhaseInput(
                kind=phase.kind.data,
                title=phase.title.data or "",
                starts_at=services.to_utc(phase.starts_at.data, timezone),
                ends_at=services.to_utc(phase.ends_at.data, timezone),
                actions={action: phase[f"allow_{action}"].data for action in ACTIONS},
            )
        )
    return phases


@bp.route("/forums/<slug>/plans/<int:plan_id>/consultation/new", methods=["GET", "POST"])
@login_required
def create(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forum_permissions.require_manage(current_user, plan.forum)
    previous = services.consultation_of(plan)
    refusal = permissions.create_refusal(current_user, plan, previous)
    if refusal is not None and request.method == "GET" and previous is not None:
        # One consultation at a time: the open one is where to go.
        flash(refusal, "error")
        return redirect(url_for("consultations.show", slug=slug, consultation_id=previous.id))
    form = ConsultationForm()
    if request.method == "GET":
        form.title.data = plan.title
        # The zone of the forum's other consultations, else Bogotá.
        form.timezone.data = forum_zone(plan.forum_id) or "America/Bogota"
        for entry, kind in zip(form.phases.entries, PHASE_KINDS, strict=False):
            entry.form.kind.data = kind
            for action in ACTIONS:
                entry.form[f"allow_{action}"].data = DEFAULT_ACTIONS[kind][action]
    status = 200
    if form.validate_on_submit():
        try:
            consultation = services.create_consultation(
                current_user,
                plan,
                title=form.title.data,
                description=form.description.data or "",
                timezone=form.timezone.data,
                phases=_phase_inputs(form),
            )
            scheduler.advance_due()
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The consultation has been created."), "success")
            return redirect(
                url_for("consultations.show", slug=slug, consultation_id=consultation.id)
            )
    elif request.method == "POST":
        status = 400
    return render_template(
        "consultations/create.html",
        forum=plan.forum,
        plan=plan,
        form=form,
        previous=previous,
        next_reading=reading_label(previous.number + 1) if previous else None,
        version=plan.current_version,
    ), status


@bp.get(CONSULTATION)
def show(slug, consultation_id):
    consultation = services.get_consultation(current_user, slug, consultation_id)
    current = services.open_phase(consultation)
    readings = consultations_of(consultation.plan)
    return render_template(
        "consultations/show.html",
        forum=consultation.forum,
        consultation=consultation,
        plan=consultation.plan,
        current=current,
        readings=readings,
        # The plan's newest consultation is its current one.
        is_latest=readings[-1].id == consultation.id,
        thread=comment_threads.thread(
            current_user,
            consultation.forum,
            consultation.plan,
            "consultation",
            str(consultation.id),
        ),
        progress=amendment_queries.status_counts(consultation.plan),
        progress_statuses=services.PROGRESS_STATUSES,
        my_sections=services.my_sections(current_user, consultation.plan),
        allowed=permissions.allowed(current_user, consultation, readings[-1]),
        extend_form=ExtendForm(),
    )


@bp.post(CONSULTATION + "/advance")
@login_required
def advance(slug, consultation_id):
    consultation = services.get_consultation(current_user, slug, consultation_id)
    forum_permissions.require_manage(current_user, consultation.forum)
    try:
        opened = scheduler.advance(current_user, consultation)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("consultations.show", slug=slug, consultation_id=consultation.id))
    db.session.commit()
    if opened is not None:
        flash(
            _("The phase “%(phase)s” is now open.", phase=label(opened.kind, PhaseKind)), "success"
        )
    else:
        flash(_("The consultation is closed."), "success")
    return redirect(url_for("consultations.show", slug=slug, consultation_id=consultation.id))


@bp.post(CONSULTATION + "/phases/<int:phase_id>/extend")
@login_required
def extend(slug, consultation_id, phase_id):
    consultation = services.get_consultation(current_user, slug, consultation_id)
    forum_permissions.require_manage(current_user, consultation.forum)
    phase = next((p for p in consultation.phases if p.id == phase_id), None)
    if phase is None:
        abort(404)
    form = ExtendForm()
    if not form.validate_on_submit():
        flash(_("Give the new end as a date and a time."), "error")
        return redirect(url_for("consultations.show", slug=slug, consultation_id=consultation.id))
    try:
        scheduler.extend_phase(
            current_user, phase, services.to_utc(form.ends_at.data, consultation.timezone)
        )
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The phase has been extended."), "success")
    return redirect(url_for("consultations.show", slug=slug, consultation_id=consultation.id))


@bp.app_template_global()
def consultation_time(consultation, moment, fmt: str = "medium") -> str:
    return services.local_time(consultation, moment, fmt)
