"""Who gets which notification by email, and how: the one decision.

Every kind of notification the code emits belongs to one of four **topics**
(``TOPIC_OF_KIND``). A member chooses, per forum and topic, a **frequency**:
immediately, in the daily digest, in the weekly digest, or never. Without a
choice (no ``NotificationPreference`` row) the default is:

- the member's general setting (profile) if they changed it from
  "immediately" (so "daily", "weekly" or "never" there still apply to all);
- otherwise the topic's own default (``DEFAULT_FREQUENCY``): their amendments,
  replies and mentions, phases and votes come immediately; what happens in
  their groups' sections (many amendments a day in a busy consultation) comes
  in the daily digest.

On top of that, a member may **follow** or **mute** one amendment or one
comment thread: a mute keeps its notifications out of every email; a follow
brings them even when the topic's frequency is "never" (then immediately), and
otherwise at the topic's frequency. A mute wins over a follow.

Daily digests come at the member's digest hour; weekly ones at that hour on
the platform's DIGEST_WEEKDAY (one fixed day for everyone: a forum's members
then read the same week's news on the same day).

``email_frequency`` is that decision as one SQL expression over a
notification row, so the fan-out (``emails.prepare_emails``) and the digests
(``emails._digest``) decide for thousands of notifications in one statement.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select

from ..accounts.models import Frequency, User
from ..comments.models import Comment
from ..labels import LabelledEnum
from ..notifications.models import Notification, NotificationPreference, NotificationWatch


class Topic(LabelledEnum):
    MY_AMENDMENTS = "my_amendments", _l("My amendments")
    GROUP_SECTIONS = "group_sections", _l("My groups' sections")
    REPLIES_MENTIONS = "replies_mentions", _l("Replies and mentions")
    PHASES_VOTES = "phases_votes", _l("Phases and votes")


class WatchState(LabelledEnum):
    FOLLOW = "follow", _l("Following")
    MUTE = "mute", _l("Muted")


# Every kind in ``services.KINDS``, and its topic (tests check that none is missing).
TOPIC_OF_KIND: dict[str, Topic] = {
    "amendment_status": Topic.MY_AMENDMENTS,
    "amendment_supported": Topic.MY_AMENDMENTS,
    "cosponsor_invited": Topic.MY_AMENDMENTS,
    "amendment_rebased": Topic.MY_AMENDMENTS,
    "amendment_submitted": Topic.GROUP_SECTIONS,
    "comment_reply": Topic.REPLIES_MENTIONS,
    "mention": Topic.REPLIES_MENTIONS,
    "followed_comment": Topic.REPLIES_MENTIONS,
    "phase_opened": Topic.PHASES_VOTES,
    "phase_closing": Topic.PHASES_VOTES,
    "phase_closed": Topic.PHASES_VOTES,
    "poll_opened": Topic.PHASES_VOTES,
    "poll_closing": Topic.PHASES_VOTES,
    "poll_result": Topic.PHASES_VOTES,
    "proxy_received": Topic.PHASES_VOTES,
    "plan_approved": Topic.PHASES_VOTES,
    "draft_ready": Topic.PHASES_VOTES,
}

DEFAULT_FREQUENCY: dict[Topic, Frequency] = {
    Topic.MY_AMENDMENTS: Frequency.IMMEDIATELY,
    Topic.GROUP_SECTIONS: Frequency.DAILY,
    Topic.REPLIES_MENTIONS: Frequency.IMMEDIATELY,
    Topic.PHASES_VOTES: Frequency.IMMEDIATELY,
}

DIGEST_FREQUENCIES = (Frequency.DAILY.value, Frequency.WEEKLY.value)


def default_frequency(general: str, topic: str) -> str:
    """The frequency of a topic the member has not set in a forum."""
    if general != Frequency.IMMEDIATELY:
        return general
    return DEFAULT_FREQUENCY[Topic(topic)].value


def anchor(forum_id: int | None, topic: str) -> str:
    """The id of a preference's row on the preferences page."""
    return f"forum-{forum_id}-{topic}" if forum_id is not None else "preferences"


# --- the decision as SQL --------------------------------------------------------------


def topic_of(kind):
    return case(
        *((kind == name, literal(topic.value)) for name, topic in TOPIC_OF_KIND.items()),
        else_=literal(Topic.PHASES_VOTES.value),
    )


def _default_of(topic, general):
    by_topic = case(
        *((topic == t.value, literal(f.value)) for t, f in DEFAULT_FREQUENCY.items()),
        else_=literal(Frequency.IMMEDIATELY.value),
    )
    return case((general == Frequency.IMMEDIATELY.value, by_topic), else_=general)


def _watch_conditions(state: str, target_type: str | None, n):
    """The recipient of notification ``n`` follows (or mutes) what it is
    about: the amendment itself, or the thread of a comment, or the amendment
    a comment is on. ``target_type`` narrows to one of them."""
    watch = NotificationWatch
    on_amendment = and_(
        n.object_type == "Amendment",
        watch.target_type == "amendment",
        watch.target_id == n.object_id,
    )
    comment = (
        select(Comment.id)
        .where(
            Comment.id == n.object_id,
            or_(
                and_(
                    watch.target_type == "thread",
                    watch.target_id == func.coalesce(Comment.root_id, Comment.id),
                ),
                and_(
                    watch.target_type == "amendment",
                    Comment.target_type == "amendment",
                    cast(watch.target_id, String) == Comment.target_key,
                ),
            ),
        )
        .exists()
    )
    on_comment = and_(n.object_type == "Comment", comment)
    conditions = [watch.user_id == n.user_id, watch.state == state, or_(on_amendment, on_comment)]
    if target_type is not None:
        conditions.append(watch.target_type == target_type)
    return conditions


def watched(state: str, target_type: str | None = None, n=Notification):
    """EXISTS: the recipient of ``n`` has this watch on what it is about."""
    return exists().where(*_watch_conditions(state, target_type, n))


def email_frequency(n=Notification):
    """How notification ``n`` goes out by email: 'immediately', 'daily',
    'weekly' or 'never' (see the module's documentation)."""
    topic = topic_of(n.kind)
    chosen = (
        select(NotificationPreference.frequency)
        .where(
            NotificationPreference.user_id == n.user_id,
            NotificationPreference.forum_id == n.forum_id,
            NotificationPreference.topic == topic,
        )
        .scalar_subquery()
    )
    general = select(User.notification_preference).where(User.id == n.user_id).scalar_subquery()
    frequency = func.coalesce(chosen, _default_of(topic, general))
    active = exists().where(User.id == n.user_id, User.active.is_(True))
    return case(
        (~active, literal(Frequency.NEVER.value)),
        (watched("mute", n=n), literal(Frequency.NEVER.value)),
        (
            and_(frequency == Frequency.NEVER.value, watched("follow", n=n)),
            literal(Frequency.IMMEDIATELY.value),
        ),
        else_=frequency,
    )


def email_reason(n=Notification):
    """Why notification ``n`` is emailed: 'amendment' or 'thread' (the member
    follows it), else 'setting' (their frequency for its topic and forum)."""
    return case(
        (watched("follow", "thread", n=n), literal("thread")),
        (watched("follow", "amendment", n=n), literal("amendment")),
        else_=literal("setting"),
    )


def followed_target(n=Notification):
    """The id of the thread (else the amendment) whose follow brings ``n``,
    in the order of ``email_reason``; NULL without a follow."""
    return (
        select(NotificationWatch.target_id)
        .where(*_watch_conditions("follow", None, n))
        .order_by(NotificationWatch.target_type.desc())
        .limit(1)
        .scalar_subquery()
    )
