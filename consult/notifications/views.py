from datetime import time

from babel.dates import get_day_names
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..accounts.models import User
from ..errors import InvalidInput
from ..extensions import csrf, db
from ..forums.permissions import can_view, require
from ..labels import label
from ..urls import safe_next
from . import digests as notification_digests
from . import email_rendering, services, settings
from .permissions import watch_refusal
from .preferences import Frequency
from .settings import unsubscribe_scope

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

MESSAGES = {
    "amendment_status": _l("%(actor)s changed the status of your amendment %(label)s: %(status)s."),
    "amendment_submitted": _l(
        "%(actor)s submitted amendment %(label)s to item %(ref)s in your group."
    ),
    "amendment_supported": _l("%(actor)s supports your amendment %(label)s."),
    "cosponsor_invited": _l("%(actor)s invites you to co-sponsor amendment %(label)s."),
    "comment_reply": _l("%(actor)s replied to your comment."),
    "followed_comment": _l("%(actor)s commented in a discussion you follow."),
    "mention": _l("%(actor)s mentioned you in a comment."),
    "phase_opened": _l("%(title)s: the phase “%(phase)s” has opened."),
    "phase_closing": _l("%(title)s: the phase “%(phase)s” closes in less than 24 hours."),
    "phase_closed": _l("%(title)s: the phase “%(phase)s” has closed."),
    "poll_opened": _l("The vote “%(title)s” is open: cast your vote."),
    "poll_closing": _l(
        "The vote “%(title)s” closes in less than 24 hours and you have not voted yet."
    ),
    "poll_result": _l("The vote “%(title)s” has closed: see the result."),
    "proxy_received": _l("%(actor)s gave you their vote in “%(title)s”."),
    "plan_approved": _l("The assembly approved the plan “%(title)s”."),
    "draft_ready": _l("A consolidated draft of “%(title)s” is ready: version %(number)s."),
    "amendment_rebased": _l(
        "Your amendment %(label)s was carried over to version %(number)s of the plan, "
        "whose text had changed."
    ),
}
# Notifications written since amendments are named across the forum carry the
# amendment's ``identifier`` ("PA-2026 E2 · 4.1"), which already says the item;
# older ones only its ``label`` ("E2") and ``ref``, and keep their wording.
NAMED_MESSAGES = {
    "amendment_submitted": _l("%(actor)s submitted amendment %(label)s in your group."),
}


def describe(notification) -> str:
    """The notification in one sentence, in the current language (an email job
    calls it under the recipient's ``force_locale``)."""
    from ..amendments.models import AmendmentStatus
    from ..consultations.models import PhaseKind

    data = dict(notification.data or {})
    status = data.get("status")
    kind = data.get("phase_kind")
    phase = label(kind, PhaseKind) if kind in PhaseKind else data.get("phase", "")
    message = MESSAGES.get(notification.kind, notification.kind)
    if data.get("identifier"):
        message = NAMED_MESSAGES.get(notification.kind, message)
    return str(message) % {
        "actor": notification.actor.display_name if notification.actor else _("Consult"),
        "label": data.get("identifier") or data.get("label", ""),
        "ref": data.get("ref", ""),
        "status": label(status, AmendmentStatus),
        "title": data.get("title", ""),
        "phase": str(phase),
        "number": data.get("number", ""),
    }


# The page each kind of object is shown on: (endpoint, name of its id).
_PAGES = {
    "Amendment": ("amendments.detail", "amendment_id"),
    "Consultation": ("consultations.show", "consultation_id"),
    "Poll": ("votes.show", "poll_id"),
    "Plan": ("plans.show", "plan_id"),
    "Comment": ("comments.permalink", "comment_id"),
}


def target(notification) -> tuple[str, dict] | None:
    """The endpoint and values of the page a notification is about: a link in
    the app (``target_url``) or an absolute one in an email."""
    forum = notification.forum
    page = _PAGES.get(notification.object_type)
    if forum is None or notification.object_id is None or page is None:
        return None
    endpoint, id_name = page
    return endpoint, {"slug": forum.slug, id_name: notification.object_id}


def target_url(notification) -> str | None:
    found = target(notification)
    return url_for(found[0], **found[1]) if found else None


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


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token authenticates the request (one-click, RFC 8058)
def unsubscribe(token):
    """GET asks (link checkers open links); POST, from the page's button or from
    the mail client's one-click, sets the preference to "never"."""
    payload = email_rendering.unsubscribe_payload(token)
    user = db.session.get(User, payload["user"]) if payload else None
    if user is None:
        return render_template("notifications/unsubscribe.html", link_invalid=True), 400
    scope = unsubscribe_scope(user, payload)
    done = request.method == "POST"
    if done:
        settings.unsubscribe(user, scope.forum_id, scope.topic, scope.watch)
        db.session.commit()
    with force_locale(user.locale):
        return render_template(
            "notifications/unsubscribe.html", unsubscribed=done, user=user, scope=scope
        )


@bp.app_context_processor
def unread_notifications():
    """The unread count for the header (one query, only for signed-in members)."""

    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread_count(current_user)

    return {"unread_notifications": count}


# --- the member's settings ------------------------------------------------------------


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """One table per forum: how often each topic's notifications come."""
    form = FlaskForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            changes = settings.parse_changes(current_user, request.form)
            settings.set_frequencies(current_user, changes)
        except InvalidInput as invalid:
            db.session.rollback()
            error, status = invalid.message, 400
        else:
            db.session.commit()
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        tables=settings.settings_of(current_user),
        watched=settings.watched_by(current_user),
        frequencies=list(Frequency),
        error=error,
        digest_hour=format_time(time(notification_digests.digest_time(current_user)[1]), "short"),
        weekday=get_day_names("wide", locale=get_locale())[current_app.config["DIGEST_WEEKDAY"]],
    ), status


def _watch(forum, target_type: str, target_id: int, back: str):
    if not can_view(current_user, forum):
        abort(404)  # a private forum's amendment looks like none
    if not FlaskForm().validate_on_submit():
        abort(400)
    require(watch_refusal(current_user, forum))
    state = request.form.get("state", "")
    if state not in ("follow", "mute", "none"):
        raise InvalidInput(_("Choose to follow or to mute."))
    chosen = None if state == "none" else state
    settings.set_watch(current_user, forum, target_type, target_id, chosen)
    db.session.commit()
    flash(WATCH_MESSAGES[(target_type, state)], "success")
    # From the settings page, back to it; else to the amendment or thread.
    return redirect(safe_next(request.form.get("next")) or back)


WATCH_MESSAGES = {
    ("amendment", "follow"): _l("You follow this amendment: its notifications come by email."),
    ("amendment", "mute"): _l("This amendment is muted: no emails about it."),
    ("amendment", "none"): _l("Emails about this amendment follow your settings again."),
    ("thread", "follow"): _l("You follow this thread: its notifications come by email."),
    ("thread", "mute"): _l("This thread is muted: no emails about it."),
    ("thread", "none"): _l("Emails about this thread follow your settings again."),
}


@bp.post("/watch/amendment/<int:amendment_id>")
@login_required
def watch_amendment(amendment_id):
    from ..amendments.models import Amendment
    from ..forums.models import Forum

    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        abort(404)
    forum = db.session.get(Forum, amendment.forum_id)
    back = url_for("amendments.detail", slug=forum.slug, amendment_id=amendment.id)
    return _watch(forum, "amendment", amendment.id, back)


@bp.post("/watch/thread/<int:comment_id>")
@login_required
def watch_thread(comment_id):
    from ..comments.models import Comment
    from ..forums.models import Forum

    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.root_id is not None:
        abort(404)  # a thread is named by its top-level comment
    forum = db.session.get(Forum, comment.forum_id)
    back = url_for("comments.permalink", slug=forum.slug, comment_id=comment.id)
    return _watch(forum, "thread", comment.id, back)


@bp.app_template_global()
def watches_of(forum, target_type: str, target_ids) -> settings.Watches:
    """For a page: whether the reader may follow or mute there
    (``watch_refusal``) and their follows and mutes among these targets."""
    return settings.watches_of(current_user, forum, target_type, list(target_ids))
