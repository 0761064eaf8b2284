"""A member's notification settings: frequencies per forum and topic, follows
and mutes. Each change applies to what still waits to be emailed: those
notifications are handed to the email job again, which decides anew (now,
in a digest, or never) with ``preferences.email_frequency``."""

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..amendments.models import Amendment
from ..comments.models import Comment
from ..errors import InvalidInput
from ..extensions import db
from ..forums.models import Forum, Membership
from ..forums.permissions import require
from ..notifications.models import Notification, NotificationPreference, NotificationWatch
from ..notifications.permissions import watch_refusal
from ..notifications.services import email_after_commit
from . import digests as notification_digests
from .preferences import Frequency, Topic, WatchState, anchor, default_frequency


@dataclass
class TopicSetting:
    topic: Topic
    frequency: str
    chosen: bool  # False: the default

    def anchor(self, forum_id: int) -> str:
        return anchor(forum_id, self.topic)


@dataclass
class ForumSettings:
    forum: Forum
    topics: list[TopicSetting]


def settings_of(user: User) -> list[ForumSettings]:
    """A table per forum the member belongs to (two queries whatever their number)."""
    forums = db.session.scalars(
        select(Forum)
        .join(Membership, Membership.forum_id == Forum.id)
        .where(Membership.user_id == user.id)
        .order_by(Forum.name, Forum.id)
    ).all()
    chosen = {
        (row.forum_id, row.topic): row.frequency
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    tables = []
    for forum in forums:
        topics = []
        for topic in Topic:
            frequency = chosen.get((forum.id, topic.value))
            topics.append(
                TopicSetting(
                    topic,
                    frequency or default_frequency(user.notification_preference, topic),
                    frequency is not None,
                )
            )
        tables.append(ForumSettings(forum, topics))
    return tables


def parse_changes(user: User, form) -> dict[tuple[int, str], str]:
    """The form's ``frequency-<forum id>-<topic>`` fields, checked: a forum of
    the member's, a known topic and frequency; else InvalidInput (400)."""
    forum_ids = set(
        db.session.scalars(select(Membership.forum_id).where(Membership.user_id == user.id))
    )
    changes = {}
    for name, value in form.items():
        if not name.startswith("frequency-"):
            continue
        forum_part, _sep, topic = name.removeprefix("frequency-").partition("-")
        if not (forum_part.isascii() and forum_part.isdigit() and len(forum_part) < 12):
            raise InvalidInput(_("Unknown forum in the notification settings."))
        if int(forum_part) not in forum_ids:
            raise InvalidInput(_("Unknown forum in the notification settings."))
        if topic not in Topic or value not in Frequency:
            raise InvalidInput(_("Choose how often for each kind of notification."))
        changes[(int(forum_part), topic)] = value
    if not changes:
        raise InvalidInput(_("Choose how often for each kind of notification."))
    return changes


def set_frequencies(user: User, changes: dict[tuple[int, str], str]) -> None:
    """Save the member's choices (one row per forum and topic; none where the
    choice is the default, which then keeps following the defaults) and decide
    anew for what waits in those forums."""
    rows = {
        (row.forum_id, row.topic): row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for (forum_id, topic), frequency in changes.items():
        row = rows.get((forum_id, topic))
        if frequency == default_frequency(user.notification_preference, topic):
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(
                NotificationPreference(
                    user_id=user.id, forum_id=forum_id, topic=topic, frequency=frequency
                )
            )
        else:
            row.frequency = frequency
    db.session.flush()
    _decide_again(user, [forum_id for forum_id, _topic in changes])


def set_frequency(user: User, forum_id: int, topic: str, frequency: str) -> None:
    set_frequencies(user, {(forum_id, topic): frequency})


def _decide_again(user: User, forum_ids=None) -> None:
    """Hand what waits for ``user`` (in these forums) to the email job again."""
    waiting = select(Notification.id).where(
        Notification.user_id == user.id, Notification.email_state.is_(None)
    )
    if forum_ids is not None:
        waiting = waiting.where(Notification.forum_id.in_(set(forum_ids)))
    email_after_commit(db.session, list(db.session.scalars(waiting)))


# --- follow and mute -------------------------------------------------------------


@dataclass
class Watches:
    """What a page offers: follow and mute buttons when ``allowed``, and the
    reader's current choice for each target."""

    allowed: bool
    target_type: str
    states: dict[int, str]

    def is_followed(self, target_id: int) -> bool:
        return self.states.get(target_id) == WatchState.FOLLOW

    def is_muted(self, target_id: int) -> bool:
        return self.states.get(target_id) == WatchState.MUTE

    def url(self, target_id: int) -> str:
        if self.target_type == "amendment":
            return url_for("notifications.watch_amendment", amendment_id=target_id)
        return url_for("notifications.watch_thread", comment_id=target_id)


@dataclass(frozen=True)
class Watched:
    """One amendment or thread the member follows or mutes, as the settings
    page lists it (with the buttons that change it)."""

    target_type: str
    target_id: int
    state: str
    name: str  # the amendment's identifier, or the thread's first words
    url: str
    forum: Forum

    @property
    def watches(self) -> Watches:
        return Watches(True, self.target_type, {self.target_id: self.state})

    @property
    def is_followed(self) -> bool:
        return self.state == WatchState.FOLLOW

    @property
    def is_amendment(self) -> bool:
        return self.target_type == "amendment"


def watched_by(user: User) -> list[Watched]:
    """Everything the member follows or mutes, amendments then threads, newest
    first: two statements whatever their number."""

    def watched(model, target_type):
        return (
            select(model, NotificationWatch.state, Forum)
            .join(
                NotificationWatch,
                (NotificationWatch.target_type == target_type)
                & (NotificationWatch.target_id == model.id),
            )
            .join(Forum, Forum.id == model.forum_id)
            .where(NotificationWatch.user_id == user.id)
            .order_by(NotificationWatch.created_at.desc(), NotificationWatch.id.desc())
        )

    found = [
        Watched(
            "amendment",
            amendment.id,
            state,
            amendment.identifier,
            url_for("amendments.detail", slug=forum.slug, amendment_id=amendment.id),
            forum,
        )
        for amendment, state, forum in db.session.execute(
            watched(Amendment, "amendment").options(joinedload(Amendment.plan))
        )
    ]
    for comment, state, forum in db.session.execute(watched(Comment, "thread")):
        words = " ".join((comment.body or "").split())
        name = (words[:60] + "…") if len(words) > 60 else words
        if comment.deleted_at is not None or comment.hidden_at is not None or not name:
            name = _("A comment no longer shown")
        url = url_for("comments.permalink", slug=forum.slug, comment_id=comment.id)
        found.append(Watched("thread", comment.id, state, name, url, forum))
    return found


def watches_of(user, forum: Forum, target_type: str, target_ids) -> Watches:
    if watch_refusal(user, forum) is not None:
        return Watches(False, target_type, {})
    return Watches(True, target_type, watch_states(user, target_type, target_ids))


def watch_states(user, target_type: str, target_ids) -> dict[int, str]:
    """The member's follows and mutes among these targets (one query)."""
    ids = [i for i in target_ids if i is not None]
    if not ids or not getattr(user, "is_authenticated", False):
        return {}
    return dict(
        db.session.execute(
            select(NotificationWatch.target_id, NotificationWatch.state).where(
                NotificationWatch.user_id == user.id,
                NotificationWatch.target_type == target_type,
                NotificationWatch.target_id.in_(ids),
            )
        ).all()
    )


def set_watch(user: User, forum: Forum, target_type: str, target_id: int, state: str | None):
    """Follow (``"follow"``), mute (``"mute"``) or neither (None) one amendment
    or thread of ``forum``."""
    require(watch_refusal(user, forum))
    if state is not None and state not in WatchState:
        raise InvalidInput(_("Choose to follow or to mute."))
    db.session.execute(
        delete(NotificationWatch).where(
            NotificationWatch.user_id == user.id,
            NotificationWatch.target_type == target_type,
            NotificationWatch.target_id == target_id,
        )
    )
    if state is not None:
        db.session.add(
            NotificationWatch(
                user_id=user.id, target_type=target_type, target_id=target_id, state=state
            )
        )
    db.session.flush()
    _decide_again(user, [forum.id])


# --- unsubscribing -----------------------------------------------------------------


@dataclass
class UnsubscribeScope:
    """What an unsubscribe link stops: one topic in one forum (and the follow
    that brought the email), or, without a forum, every notification email."""

    forum: Forum | None = None
    topic: Topic | None = None
    watch: tuple[str, int] | None = None

    @property
    def forum_id(self) -> int | None:
        return self.forum.id if self.forum is not None else None


def unsubscribe_scope(user: User, payload: dict) -> UnsubscribeScope:
    """The scope a signed token names, checked again (a forum since deleted,
    or left: every notification email, as a digest's link)."""
    forum_id, topic, watch = payload.get("forum"), payload.get("topic"), payload.get("watch")
    forum = db.session.get(Forum, forum_id) if isinstance(forum_id, int) else None
    if forum is None or topic not in Topic:
        return UnsubscribeScope()
    followed = None
    if (
        isinstance(watch, list)
        and len(watch) == 2
        and watch[0] in ("amendment", "thread")
        and isinstance(watch[1], int)
    ):
        followed = (watch[0], watch[1])
    return UnsubscribeScope(forum, Topic(topic), followed)


def unsubscribe(user: User, forum_id: int | None = None, topic: str | None = None, watch=None):
    """The one-click unsubscribe. From a notification's email: that topic in
    that forum becomes "never" (and the follow that brought it ends). From a
    digest (no forum): no notification emails at all."""
    if watch is not None:
        target_type, target_id = watch
        db.session.execute(
            delete(NotificationWatch).where(
                NotificationWatch.user_id == user.id,
                NotificationWatch.target_type == target_type,
                NotificationWatch.target_id == target_id,
                NotificationWatch.state == WatchState.FOLLOW.value,
            )
        )
    if forum_id is not None and topic in Topic:
        set_frequency(user, forum_id, topic, Frequency.NEVER.value)
        return
    db.session.execute(
        update(NotificationPreference)
        .where(NotificationPreference.user_id == user.id)
        .values(frequency=Frequency.NEVER.value)
    )
    db.session.execute(
        delete(NotificationWatch).where(
            NotificationWatch.user_id == user.id,
            NotificationWatch.state == WatchState.FOLLOW.value,
        )
    )
    notification_digests.change_preference(user, Frequency.NEVER.value)
