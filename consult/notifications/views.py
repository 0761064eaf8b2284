from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..extensions import db
from . import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

MESSAGES = {
    "amendment_status": _l("%(actor)s changed the status of your amendment %(label)s: %(status)s."),
    "amendment_submitted": _l(
        "%(actor)s submitted amendment %(label)s to item %(ref)s in your group."
    ),
    "amendment_supported": _l("%(actor)s supports your amendment %(label)s."),
    "cosponsor_invited": _l("%(actor)s invites you to co-sponsor amendment %(label)s."),
    "comment_reply": _l("%(actor)s replied to your comment."),
    "mention": _l("%(actor)s mentioned you in a comment."),
    "phase_opened": _l("%(title)s: the phase “%(phase)s” has opened."),
    "phase_closed": _l("%(title)s: the phase “%(phase)s” has closed."),
    "poll_opened": _l("The vote “%(title)s” is open: cast your vote."),
    "poll_result": _l("The vote “%(title)s” has closed: see the result."),
    "proxy_received": _l("%(actor)s gave you their vote in “%(title)s”."),
    "plan_approved": _l("The assembly approved the plan “%(title)s”."),
    "draft_ready": _l("A consolidated draft of “%(title)s” is ready: version %(number)s."),
    "amendment_rebased": _l(
        "Your amendment %(label)s was carried over to version %(number)s of the plan, "
        "whose text had changed."
    ),
}


def describe(notification) -> str:
    from ..amendments.services import STATUS_LABELS

    data = dict(notification.data or {})
    status = data.get("status")
    return str(MESSAGES.get(notification.kind, notification.kind)) % {
        "actor": notification.actor.display_name if notification.actor else _("Consult"),
        "label": data.get("label", ""),
        "ref": data.get("ref", ""),
        "status": str(STATUS_LABELS.get(status, status or "")),
        "title": data.get("title", ""),
        "phase": data.get("phase", ""),
        "number": data.get("number", ""),
    }


def target_url(notification) -> str | None:
    forum = notification.forum
    if forum is None or notification.object_id is None:
        return None
    if notification.object_type == "Amendment":
        return url_for("amendments.detail", slug=forum.slug, amendment_id=notification.object_id)
    if notification.object_type == "Consultation":
        return url_for(
            "consultations.show", slug=forum.slug, consultation_id=notification.object_id
        )
    if notification.object_type == "Poll":
        return url_for("votes.show", slug=forum.slug, poll_id=notification.object_id)
    if notification.object_type == "Plan":
        return url_for("plans.show", slug=forum.slug, plan_id=notification.object_id)
    if notification.object_type == "Comment":
        return url_for("comments.permalink", slug=forum.slug, comment_id=notification.object_id)
    return None


@bp.get("/")
@login_required
def index():
    value = request.args.get("page", "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    page = services.for_user(current_user, page=int(value))
    return render_template(
        "notifications/index.html",
        page=page,
        form=FlaskForm(),
        describe=describe,
        target_url=target_url,
    )


@bp.post("/read")
@login_required
def mark_read():
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user)
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def unread_notifications():
    """The unread count for the header (one query, only for signed-in members)."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(current_user)

    return {"unread_notifications": count}
