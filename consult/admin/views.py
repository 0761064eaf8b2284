"""Pages for platform administrators (``User.is_admin``): what the background
work could not do, and a button to try again."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from redis.exceptions import RedisError

from .. import jobs, leases
from ..extensions import db
from ..mail import services as mail
from .forms import RetryEmailForm, RetryJobForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _check_access():
    if not current_user.is_admin:
        abort(403)


@bp.get("/failed-jobs")
def failed_jobs():
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    emails = mail.failed_emails(page=int(value))
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
    if mail.retry_email(form.email_id.data):
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
