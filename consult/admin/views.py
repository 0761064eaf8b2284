"""Pages for platform administrators (``User.is_admin``): what the background
work could not do, and a button to try again."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from redis.exceptions import RedisError

from .. import jobs
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
        requeued = jobs.requeue_failed(form.queue.data, form.job_id.data)
    except RedisError:
        flash(_("The job queue cannot be reached right now. Please try again later."), "error")
        return redirect(url_for("admin.failed_jobs")), 503
    if requeued:
        flash(_("The job is queued again."), "success")
    else:
        flash(_("This job is no longer among the failed ones."), "info")
    return redirect(url_for("admin.failed_jobs"))
