"""An amendment as the subject of a comment thread: registered with the
comments' targets (``comments.targets.register_target``) when the app is made,
since comments sit below amendments."""

from flask_babel import gettext as _

from ..comments.targets import Target
from ..consultations.permissions import calendar_refusal
from ..errors import NotFound
from ..extensions import db
from ..forums.models import Forum
from ..plans.models import Plan
from .models import OPEN_STATUSES, Amendment


def amendment_target(forum: Forum, plan: Plan | None, key: str) -> Target:
    valid = key.isascii() and key.isdigit() and len(key) < 10
    amendment = db.session.get(Amendment, int(key)) if valid else None
    if amendment is None or amendment.forum_id != forum.id:
        raise NotFound()
    if plan is not None and amendment.plan_id != plan.id:
        raise NotFound()
    plan = plan or db.session.get(Plan, amendment.plan_id)
    closed = calendar_refusal(plan, "comment")
    if closed is None and amendment.status not in OPEN_STATUSES:
        closed = _("Comments are closed: this amendment is no longer under discussion.")
    return Target(
        "amendment",
        key,
        forum,
        plan,
        title=plan.title,
        ref=amendment.label,
        text=amendment.proposed_text,
        closed_reason=closed,
        obj=amendment,
        readable_by=amendment.author_id if amendment.status == "draft" else None,
    )
