"""Who may choose which notifications they get: one refusal predicate per rule
(``<action>_refusal(actor, obj) -> str | None``, see forums/permissions.py)."""

from flask_babel import gettext as _

from ..forums.models import Forum
from ..forums.permissions import Refusal, membership_of


def watch_refusal(actor, forum: Forum) -> str | None:
    """Following or muting an amendment or a thread: the forum's members,
    who are the ones notified of it."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Refusal(_("Sign in to follow or mute."))
    if membership_of(actor, forum) is None:
        return Refusal(_("Only members of the forum can follow or mute its discussions."))
    return None
