"""Archiving a plan (its facilitators and administrators) or a whole forum
(its administrators) instead of deleting it: it stays readable where it was,
and nothing in it changes."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import InvalidInput
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums import services as forums
from ..plans import services as plans
from . import forum_archiving, plan_archiving
from .forms import ReasonForm

bp = Blueprint("plan_archive", __name__)

PLAN = "/forums/<slug>/plans/<int:plan_id>"


def _change(slug, plan_id, change, done_message):
    """A refusal (no reason given, already archived, not allowed) is answered
    by the error page with its message and status; nothing is changed."""
    plan = plans.plan_for(current_user, slug, plan_id)
    forum_permissions.require_manage(current_user, plan.forum)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise InvalidInput(_("Please give a reason: it is kept in the audit log."))
    change(current_user, plan, form.reason.data)
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("plans.show", slug=slug, plan_id=plan_id))


@bp.post(PLAN + "/archive")
@login_required
def archive(slug, plan_id):
    return _change(
        slug,
        plan_id,
        plan_archiving.archive_plan,
        _("The plan is archived: it stays readable here, and nothing on it can change."),
    )


@bp.post(PLAN + "/restore")
@login_required
def restore(slug, plan_id):
    return _change(slug, plan_id, plan_archiving.restore_plan, _("The plan is out of the archive."))


def _change_forum(slug, change, done_message):
    forum = forums.get_forum_for(current_user, slug)
    forum_permissions.require_administer(current_user, forum)
    form = ReasonForm()
    if not form.validate_on_submit():
        raise InvalidInput(_("Please give a reason: it is kept in the audit log."))
    change(current_user, forum, form.reason.data)
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("forums.manage", slug=slug))


@bp.post("/forums/<slug>/archive")
@login_required
def archive_forum(slug):
    return _change_forum(
        slug,
        forum_archiving.archive_forum,
        _("The forum is archived: everything in it stays readable, and nothing can change."),
    )


@bp.post("/forums/<slug>/restore")
@login_required
def restore_forum(slug):
    return _change_forum(slug, forum_archiving.restore_forum, _("The forum is out of the archive."))
