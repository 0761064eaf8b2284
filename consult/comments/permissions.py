"""Who may do what in a comment thread: one refusal predicate per rule.

Each ``<action>_refusal(actor, obj, …) -> str | None`` says why ``actor`` may
not act (translated), or ``None``. The services raise with it (403 for who
may act, 409 for the comment's or the discussion's state, as the refusal's
class says), and the thread page asks the same predicates for what it offers
(``ThreadAllowed``, ``CommentAllowed``). ``membership`` may be passed when
the caller already has it (a page of comments asks once); an actor of
``None`` is the system.
"""

from dataclasses import dataclass

from flask_babel import gettext as _

from ..forums.models import Forum, Membership, Role
from ..forums.permissions import (
    InputRefusal,
    Refusal,
    StateRefusal,
    manage_refusal,
    membership_of,
    require,
)
from .models import Comment
from .targets import Target, is_author

_LOOK_UP = object()  # "membership not given: read it"


def _membership(actor, forum: Forum, membership) -> Membership | None:
    return membership_of(actor, forum) if membership is _LOOK_UP else membership


def write_refusal(actor, forum: Forum, membership=_LOOK_UP) -> str | None:
    """Members write comments; observers read them."""
    if actor is None:
        return None
    membership = _membership(actor, forum, membership)
    if membership is None:
        return Refusal(_("Only members of the forum can comment."))
    if membership.role == Role.OBSERVER:
        return Refusal(_("Observers can read the comments but cannot write them."))
    return None


def post_refusal(actor, target: Target, membership=_LOOK_UP) -> str | None:
    """A new comment: a member who may write, in a discussion that is open."""
    refusal = write_refusal(actor, target.forum, membership)
    if refusal is None and target.closed_reason:
        refusal = StateRefusal(target.closed_reason)
    return refusal


def reply_refusal(actor, parent: Comment, target: Target, membership=_LOOK_UP) -> str | None:
    """A reply: as a new comment, to a comment still shown."""
    refusal = post_refusal(actor, target, membership)
    if refusal is None and not parent.state.is_visible:
        refusal = StateRefusal(_("This comment can no longer be answered."))
    return refusal


def edit_refusal(actor, comment: Comment, target: Target, membership=_LOOK_UP) -> str | None:
    """Its author, still a member who may write, while the comment is shown
    and the discussion open."""
    if not is_author(actor, comment):
        return Refusal(_("Only its author can edit a comment."))
    refusal = write_refusal(actor, target.forum, membership)
    if refusal is None and comment.is_deleted:
        refusal = StateRefusal(_("This comment was deleted."))
    if refusal is None and comment.is_hidden:
        refusal = StateRefusal(_("This comment was hidden by the moderators and cannot be edited."))
    if refusal is None and target.closed_reason:
        refusal = StateRefusal(target.closed_reason)
    return refusal


def delete_refusal(actor, comment: Comment) -> str | None:
    """Its author withdraws a comment, whatever their role now."""
    if not is_author(actor, comment):
        return Refusal(_("Only its author can delete a comment."))
    if comment.is_deleted:
        return StateRefusal(_("This comment was deleted."))
    return None


def flag_refusal(actor, comment: Comment, forum: Forum, membership=_LOOK_UP) -> str | None:
    """Any member, observers included, may report someone else's shown comment
    (once: the service checks the earlier reports)."""
    if actor is None or _membership(actor, forum, membership) is None:
        return Refusal(_("Only members of the forum can report comments."))
    if is_author(actor, comment):
        return InputRefusal(_("You cannot report your own comment."))
    if comment.is_deleted:
        return StateRefusal(_("This comment was deleted."))
    if comment.is_hidden:
        return StateRefusal(_("This comment was hidden by the moderators."))
    return None


def hide_refusal(actor, comment: Comment, forum: Forum, membership=None) -> str | None:
    """The forum's moderators (facilitators, administrators) hide a shown comment."""
    refusal = manage_refusal(actor, forum, membership)
    if refusal is None and comment.is_deleted:
        refusal = StateRefusal(_("This comment was deleted."))
    if refusal is None and comment.is_hidden:
        refusal = StateRefusal(_("This comment is already hidden."))
    return refusal


def restore_refusal(actor, comment: Comment, forum: Forum, membership=None) -> str | None:
    """The moderators show a hidden comment again."""
    refusal = manage_refusal(actor, forum, membership)
    if refusal is None and not comment.is_hidden:
        refusal = StateRefusal(_("This comment is not hidden."))
    return refusal


def moderate_refusal(actor, forum: Forum, membership=None) -> str | None:
    """Moderators see hidden comments and how often each was reported."""
    return manage_refusal(actor, forum, membership)


# --- what a page offers ---------------------------------------------------------------


@dataclass(frozen=True)
class ThreadAllowed:
    """What the thread offers its reader, and why not when it does not."""

    post: bool
    post_refusal: str | None
    flag: bool  # report forms are rendered (members)
    moderate: bool
    signed_in: bool


@dataclass(frozen=True)
class CommentAllowed:
    reply: bool = False
    edit: bool = False
    delete: bool = False
    flag: bool = False
    hide: bool = False
    restore: bool = False


def thread_allowed(actor, target: Target, membership) -> ThreadAllowed:
    signed_in = bool(getattr(actor, "is_authenticated", False))
    refusal = post_refusal(actor, target, membership) if signed_in else None
    return ThreadAllowed(
        post=signed_in and refusal is None,
        post_refusal=refusal,
        flag=membership is not None,
        moderate=signed_in and moderate_refusal(actor, target.forum, membership) is None,
        signed_in=signed_in,
    )


def comment_allowed(
    actor, comment: Comment, target: Target, membership, thread: ThreadAllowed
) -> CommentAllowed:
    """The same predicates as the services, for one comment of the page
    (``thread`` spares asking again what holds for the whole page)."""
    if not thread.signed_in:
        return CommentAllowed()
    forum = target.forum
    moderate = thread.moderate
    return CommentAllowed(
        reply=thread.post and reply_refusal(actor, comment, target, membership) is None,
        edit=edit_refusal(actor, comment, target, membership) is None,
        delete=delete_refusal(actor, comment) is None,
        flag=thread.flag and flag_refusal(actor, comment, forum, membership) is None,
        hide=moderate and hide_refusal(actor, comment, forum, membership) is None,
        restore=moderate and restore_refusal(actor, comment, forum, membership) is None,
    )


__all__ = [
    "CommentAllowed",
    "ThreadAllowed",
    "comment_allowed",
    "delete_refusal",
    "edit_refusal",
    "flag_refusal",
    "hide_refusal",
    "post_refusal",
    "reply_refusal",
    "require",
    "restore_refusal",
    "thread_allowed",
    "write_refusal",
]
