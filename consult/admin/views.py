"""Pages for platform administrators (``User.is_admin``): the accounts (list,
deactivation, reactivation, invitations sent again), and what the background
work could not do, with a button to try again."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from redis.exceptions import RedisError

from .. import jobs, leases
from ..errors import ServiceError
from ..extensions import db
from ..mail import failures as mail_failures
from . import audit_labels, audit_log, services
from .forms import ReasonForm, ResendInvitationForm, RetryEmailForm, RetryJobForm, UserSearchForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _check_access():
    if not current_user.is_admin:
        abort(403)


def _page_arg() -> int:
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return max(int(value), 1)


# --- accounts -----------------------------------------------------------------


@bp.get("/users")
def users():
    form = UserSearchForm(formdata=request.args)
    forums = services.forums_for_filter(current_user)
    form.forum.choices = [(0, _("All forums"))] + [(forum.id, forum.name) for forum in forums]
    page = _page_arg()
    if not form.validate():
        return render_template("admin/users.html", form=form, page=None), 400
    filters = services.UserFilters(
        query=form.q.data or "",
        status=form.status.data or "",
        admins_only=bool(form.admins.data),
        forum_id=form.forum.data or None,
    )
    result = services.list_users(current_user, filters, page=page)
    arguments = {
        key: value
        for key, value in (
            ("q", filters.query),
            ("status", filters.status),
            ("admins", "y" if filters.admins_only else ""),
            ("forum", filters.forum_id or ""),
        )
        if value
    }
    return render_template("admin/users.html", form=form, page=result, arguments=arguments)


def _user_page(user, status=200, **forms):
    events = services.account_events(user)
    return render_template(
        "admin/user.html",
        user=user,
        memberships=services.sorted_memberships(user),
        events=events,
        people=audit_log.actors_of(events),
        action_label=audit_labels.action_label,
        reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id):
    return _user_page(services.get_user(current_user, user_id))


def _change_activity(user_id, change, done_message):
    user = services.get_user(current_user, user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _user_page(user, 400, reason_form=form)
    try:
        change(current_user, user, form.reason.data)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _user_page(services.get_user(current_user, user_id), error.status, reason_form=form)
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id):
    return _change_activity(
        user_id,
        services.deactivate_user,
        _("The account is deactivated: its sessions and API tokens have ended."),
    )


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id):
    return _change_activity(
        user_id,
        services.reactivate_user,
        _("The account is active again. The person signs in anew."),
    )


@bp.post("/users/<int:user_id>/resend-invitation")
def resend_invitation(user_id):
    user = services.get_user(current_user, user_id)
    form = ResendInvitationForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        forum = services.resend_invitation(current_user, user, form.forum_id.data)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _user_page(services.get_user(current_user, user_id), error.status)
    db.session.commit()
    flash(_("The invitation to %(forum)s has been sent again.", forum=forum.name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


# --- failed jobs --------------------------------------------------------------


@bp.get("/failed-jobs")
def failed_jobs():
    emails = mail_failures.failed_emails(page=_page_arg())
    redis_problem = False
    try:
        failed = jobs.failed_jobs()
    except RedisError:
        failed, redis_problem = [], True
    return render_template(
        "admin/failed_jobs.html", emails=emails, failed=failed, redis_problem=redis_problem
    )


@bp.post("/failed-jobs/emails/retry")
def retry_email():
    form = RetryEmailForm()
    if not form.validate_on_submit():
        abort(400)
    if mail_failures.retry_email(form.email_id.data):
        db.session.commit()
        flash(_("The email is queued again."), "success")
    else:
        flash(_("This email does not need another try (it may have been sent meanwhile)."), "info")
    return redirect(url_for("admin.failed_jobs"))


@bp.post("/failed-jobs/jobs/retry")
def retry_job():
    form = RetryJobForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outcome = leases.retry_failed_job(form.queue.data, form.job_id.data)
    except RedisError:
        db.session.rollback()
        flash(_("The job queue cannot be reached right now. Please try again later."), "error")
        return redirect(url_for("admin.failed_jobs")), 503
    if outcome is True or outcome is leases.Retry.QUEUED:
        flash(_("The job is queued again."), "success")
    elif outcome is leases.Retry.FINISHED:
        flash(
            _(
                "Nothing to retry: another run of this job has finished its work "
                "since. It is taken off the list."
            ),
            "info",
        )
    elif outcome is leases.Retry.GONE:
        flash(
            _(
                "Nothing to retry: what this job worked on no longer exists. "
                "It is taken off the list."
            ),
            "info",
        )
    elif outcome is leases.Retry.BUSY:
        flash(
            _(
                "Not retried: another run of this job is under way and its worker is alive. "
                "If it stops, try again a few minutes later."
            ),
            "info",
        )
    else:
        flash(_("This job is no longer among the failed ones."), "info")
    return redirect(url_for("admin.failed_jobs"))
