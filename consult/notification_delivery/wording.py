"""What a notification says, in one sentence in the reader's language, and the
page it is about: the notifications page, the emails and digests, and the
member's data all word it the same."""

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..amendments.models import AmendmentStatus
from ..consultations.models import PhaseKind
from ..labels import label

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
