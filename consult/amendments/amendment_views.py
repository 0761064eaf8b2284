"""One amendment's page and what can be done with it: each action posts a
form, its service checks the rule (``permissions``) and the page offers only
what the same rules allow (``permissions.allowed``)."""

from flask import abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..diffing import diff_html
from ..errors import ServiceError
from ..extensions import db
from ..forums import services as forums
from ..urls import safe_next
from . import lifecycle, permissions, proposing, queries, supports, translations
from .blueprint import AMENDMENT, bp, comment_thread, to_detail
from .forms import (
    CosponsorForm,
    DecisionForm,
    DraftForm,
    ReasonForm,
    SubAmendmentForm,
    TranslationForm,
)
from .models import STATUSES


def _detail_page(amendment, status: int = 200, **forms):
    plan = amendment.plan
    supporting = queries.supporters(amendment)
    tally = queries.support_tally(amendment)
    supported = any(s.user_id == getattr(current_user, "id", None) for s in supporting)
    return render_template(
        "amendments/detail.html",
        forum=plan.forum,
        plan=plan,
        amendment=amendment,
        diff=diff_html(amendment.original_text, amendment.proposed_text),
        supporters=supporting,
        tally=tally,
        threshold_met=permissions.threshold_met(amendment, tally),
        allowed=permissions.allowed(current_user, amendment, supported=supported, tally=tally),
        sponsors=queries.sponsors(amendment),
        history=queries.history(amendment),
        subs=queries.sub_amendments(amendment),
        decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
        reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
        cosponsor_form=forms.get("cosponsor_form") or CosponsorForm(formdata=None),
        translation_form=forms.get("translation_form") or TranslationForm(formdata=None),
        translations=translations.amendment_translations(amendment),
        thread=comment_thread(plan, "amendment", str(amendment.id)),
        polls=queries.votes_about(amendment),
    ), status


@bp.get(AMENDMENT)
def detail(slug, amendment_id):
    return _detail_page(queries.get_amendment(current_user, slug, amendment_id))


def _act(slug, amendment_id, action, message, **forms):
    """Load → check (in the service) → change → commit → back to the amendment.
    On a refusal the page is shown again with the message and what was typed."""
    amendment = queries.get_amendment(current_user, slug, amendment_id)
    try:
        action(amendment)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _detail_page(amendment, error.status, **forms)
    db.session.commit()
    flash(message, "success")
    return to_detail(amendment)


@bp.post(AMENDMENT + "/submit")
@login_required
def submit(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: lifecycle.submit_amendment(current_user, a),
        _("The amendment has been submitted."),
    )


@bp.post(AMENDMENT + "/translations")
@login_required
def translate(slug, amendment_id):
    form = TranslationForm()
    if not form.validate_on_submit():
        amendment = queries.get_amendment(current_user, slug, amendment_id)
        return _detail_page(amendment, 400, translation_form=form)
    return _act(
        slug,
        amendment_id,
        lambda a: translations.translate_amendment(
            current_user, a, form.language.data, form.text.data or ""
        ),
        _("The translation has been saved."),
        translation_form=form,
    )


@bp.post(AMENDMENT + "/withdraw")
@login_required
def withdraw(slug, amendment_id):
    form = ReasonForm()
    return _act(
        slug,
        amendment_id,
        lambda a: lifecycle.withdraw(current_user, a, form.reason.data or ""),
        _("The amendment has been withdrawn."),
        reason_form=form,
    )


@bp.post(AMENDMENT + "/support")
@login_required
def support(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: supports.support(current_user, a),
        _("You support this amendment."),
    )


@bp.post(AMENDMENT + "/unsupport")
@login_required
def unsupport(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: supports.withdraw_support(current_user, a),
        _("You no longer support this amendment."),
    )


@bp.post(AMENDMENT + "/decide")
@login_required
def decide(slug, amendment_id):
    amendment = queries.get_amendment(current_user, slug, amendment_id)
    forums.require_manage(current_user, amendment.plan.forum)
    form = DecisionForm()
    if not form.validate_on_submit() or form.status.data not in STATUSES:
        abort(400)
    response = _act(
        slug,
        amendment_id,
        lambda a: lifecycle.decide(current_user, a, form.status.data, form.reason.data or ""),
        _("The decision has been recorded."),
        decision_form=form,
    )
    # Taken at the triage desk: back to the desk, where the next one waits.
    back = safe_next(request.form.get("next"))
    return redirect(back) if back and response.status_code == 302 else response


@bp.post(AMENDMENT + "/cosponsors")
@login_required
def invite_cosponsor(slug, amendment_id):
    if not permissions.is_author(
        current_user, queries.get_amendment(current_user, slug, amendment_id)
    ):
        abort(403)
    form = CosponsorForm()
    if not form.validate_on_submit():
        amendment = queries.get_amendment(current_user, slug, amendment_id)
        return _detail_page(amendment, 400, cosponsor_form=form)
    return _act(
        slug,
        amendment_id,
        lambda a: supports.invite_cosponsor(current_user, a, form.email.data),
        _("The co-sponsor has been invited."),
        cosponsor_form=form,
    )


@bp.post(AMENDMENT + "/cosponsors/accept")
@login_required
def accept_cosponsorship(slug, amendment_id):
    return _act(
        slug,
        amendment_id,
        lambda a: supports.accept_cosponsorship(current_user, a),
        _("You co-sponsor this amendment."),
    )


@bp.route(AMENDMENT + "/edit", methods=["GET", "POST"])
@login_required
def edit_draft(slug, amendment_id):
    amendment = queries.get_amendment(current_user, slug, amendment_id)
    if not permissions.is_author(current_user, amendment):
        abort(403)
    form = DraftForm(obj=amendment if request.method == "GET" else None)
    if request.method == "GET":
        form.text.data = amendment.proposed_text
    status = 200
    if form.validate_on_submit():
        try:
            if amendment.status.awaits_revision:
                proposing.revise(
                    current_user,
                    amendment,
                    text=form.text.data,
                    justification=form.justification.data,
                )
            else:
                proposing.update_draft(
                    current_user,
                    amendment,
                    text=form.text.data,
                    justification=form.justification.data,
                )
                if request.form.get("action") == "submit":
                    lifecycle.submit_amendment(current_user, amendment)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("The amendment has been saved."), "success")
            return to_detail(amendment)
    elif request.method == "POST":
        status = 400
    target = queries.current_target(amendment) if amendment.status.awaits_revision else None
    return render_template(
        "amendments/edit.html",
        forum=amendment.plan.forum,
        plan=amendment.plan,
        amendment=amendment,
        form=form,
        base_text=target.text if target is not None else amendment.original_text,
    ), status


@bp.route(AMENDMENT + "/amend", methods=["GET", "POST"])
@login_required
def sub_amend(slug, amendment_id):
    parent = queries.get_amendment(current_user, slug, amendment_id)
    permissions.enforce(permissions.sub_amend_refusal(current_user, parent))
    form = SubAmendmentForm()
    if request.method == "GET":
        form.text.data = parent.proposed_text
    status = 200
    if form.validate_on_submit():
        try:
            sub = proposing.propose_sub_amendment(
                current_user,
                parent,
                text=form.text.data,
                justification=form.justification.data or "",
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Sub-amendment %(label)s has been submitted.", label=sub.label), "success")
            return to_detail(sub)
    elif request.method == "POST":
        status = 400
    return render_template(
        "amendments/sub_amend.html",
        forum=parent.plan.forum,
        plan=parent.plan,
        parent=parent,
        form=form,
    ), status
