"""Notifications by email, following each member's preferences: which of the
ways below a notification takes is decided by ``preferences.email_frequency``
(per forum and topic, with follows and mutes), for a whole batch at once.

- **immediately**: the rows a transaction wrote are handed, after it commits,
  to jobs of at most MAIL_BATCH_SIZE notifications; each job renders its batch
  in each recipient's language, adds it to the outbox (one row per
  notification, key ``notification:<id>``) and sends it over one SMTP
  connection.
- **daily / weekly**: the scheduler sends each member whose
  ``next_digest_at`` has come one digest of everything still waiting for them.
- **never**: nothing.

Every notification is taken by exactly one email, one digest or none, with a
conditional UPDATE of its ``email_state`` (the per-notification cursor): a
digest is never a time window, so nothing is sent twice or missed whatever the
clock, the time zone, a scheduler that was down, two schedulers at once, or
transactions that commit out of id order. A change of preference applies to
what is still waiting (``change_preference``).
"""

import json
import logging
import re
import secrets
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import escape
from sqlalchemy import and_, event, exists, or_, select, update
from sqlalchemy import inspect as inspect_instance
from sqlalchemy.orm import Session, joinedload

from ..accounts.models import NOTIFICATION_PREFERENCES, User
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..jobs import enqueue
from ..mail import services as mail
from ..timezones import force_timezone, forum_zone, member_zone, platform_zone, valid_timezone
from ..tokens import make_token, read_token
from ..urls import external_url
from . import preferences
from .models import Notification

log = logging.getLogger(__name__)

DIGEST_PREFERENCES = ("daily", "weekly")
# A digest lists at most this many notifications (the newest); it says how many
# more wait in the notification centre.
DIGEST_MAX_ITEMS = 100
# Notifications still undecided this long after they were written lost their
# job (Redis was down, or lost its data): the scheduler hands them out again.
RELAY_AFTER = timedelta(minutes=10)
_PENDING = "consult_notifications_to_email"


# --- handing new notifications to the email jobs --------------------------------


def email_after_commit(session: Session, notifications) -> None:
    """Email these notifications (rows or ids) once ``session`` commits."""
    session.info.setdefault(_PENDING, []).extend(notifications)


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    # SQLAlchemy also fires after_commit when a savepoint (begin_nested) is
    # released: the outer transaction, and its locks, are still open then.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = set()
    for item in pending:
        if isinstance(item, int):
            ids.add(item)
        elif (identity := inspect_instance(item).identity) is not None:
            ids.add(identity[0])
    enqueue_batches(sorted(ids))


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: what the outer transaction asked for still stands
    session.info.pop(_PENDING, None)


def enqueue_batches(notification_ids: list[int], *, unless_known: bool = False) -> int:
    """One job per MAIL_BATCH_SIZE notifications; returns the number of jobs."""
    size = current_app.config["MAIL_BATCH_SIZE"]
    batches = [notification_ids[i : i + size] for i in range(0, len(notification_ids), size)]
    for batch in batches:
        enqueue(
            "workers.notifications.email_notifications",
            batch,
            job_id=f"notification-emails-{batch[0]}-{batch[-1]}",
            queue="mail",
            retry=mail.RETRY,
            unless_known=unless_known,
        )
    return len(batches)


def relay_unemailed(now: datetime | None = None) -> int:
    """Hand out again the notifications whose job was lost; returns how many."""
    cutoff = (now or utcnow()) - RELAY_AFTER
    # Those for an email now, and those for a digest not planned yet (its job,
    # which plans it, was lost).
    frequency = preferences.email_frequency()
    unplanned = exists().where(User.id == Notification.user_id, User.next_digest_at.is_(None))
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.email_state.is_(None),
                Notification.created_at <= cutoff,
                or_(
                    frequency == "immediately",
                    frequency == "never",
                    and_(frequency.in_(DIGEST_PREFERENCES), unplanned),
                ),
            )
            .order_by(Notification.id)
        )
    )
    db.session.commit()
    if ids:
        # A job still queued, waiting for a retry or failed (for an administrator
        # to retry) is not enqueued a second time.
        enqueue_batches(ids, unless_known=True)
    return len(ids)


# --- one email per notification --------------------------------------------------


def _skip(condition) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.email_state.is_(None), condition)
        .values(email_state="skipped")
        .execution_options(synchronize_session=False)
    )


def unsubscribe_token(user: User, scope: dict | None = None) -> str:
    """``scope``: what the link stops (``forum``, ``topic``, and ``watch``, the
    follow that brought the email); none: every notification email."""
    return make_token("unsubscribe", {"user": user.id, **(scope or {})})


def unsubscribe_payload(token: str) -> dict | None:
    payload = read_token("unsubscribe", token, current_app.config["UNSUBSCRIBE_MAX_AGE"])
    if payload is None or not isinstance(payload.get("user"), int):
        return None
    return payload


def user_for_unsubscribe_token(token: str) -> User | None:
    payload = unsubscribe_payload(token)
    return None if payload is None else db.session.get(User, payload["user"])


def _unsubscribe_links(
    user: User, address: tuple[str, str] | None = None, scope: dict | None = None
) -> tuple[str, dict]:
    """The signed one-click link, and the headers of RFC 2369 and RFC 8058.
    ``address``: the link's text before and after the token, built once for
    many members (a token is URL-safe: it goes in as the URL builder puts it)."""
    token = unsubscribe_token(user, scope)
    if address is None:
        url = external_url("notifications.unsubscribe", token=token)
    else:
        url = address[0] + token + address[1]
    return url, {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def link(notification: Notification) -> str | None:
    """The absolute address of what the notification is about."""
    from .views import target

    found = target(notification)
    return external_url(found[0], **found[1]) if found else None


def _why(notification: Notification | None, reason: tuple | None) -> dict:
    """What an email says about why it was sent, the exact preference that
    sent it (an anchor of the preferences page) and what its unsubscribe link
    stops. A digest (no notification): the preferences page as a whole."""
    page = external_url("notifications.preferences")
    if notification is None:
        return {"reason": "digest", "url": page, "scope": None}
    topic = preferences.TOPIC_OF_KIND.get(notification.kind, preferences.Topic.PHASES_VOTES)
    forum_id = notification.forum_id
    scope: dict = {"forum": forum_id, "topic": topic.value} if forum_id is not None else {}
    reason, watched_id = reason or ("setting", None)
    if reason in ("amendment", "thread") and watched_id is not None:
        scope["watch"] = [reason, watched_id]
    return {
        "reason": reason,
        "topic": topic,
        "forum": notification.forum.name if notification.forum is not None else None,
        "url": f"{page}#{preferences.anchor(forum_id, topic.value)}",
        "scope": scope or None,
    }


def _render(
    user: User,
    template: str,
    key: str,
    zone: str | None = None,
    reason: tuple | None = None,
    **context,
) -> dict:
    """One email to ``user``, in their language, its dates in their time zone."""
    from .views import describe

    why = _why(context.get("notification"), reason)
    unsubscribe_url, headers = _unsubscribe_links(user, scope=why["scope"])
    with force_timezone(zone or member_zone(user)):
        rendered = mail.render_email(
            user.locale,
            template,
            user=user,
            describe=describe,
            link=link,
            unsubscribe_url=unsubscribe_url,
            profile_url=external_url("accounts.profile"),
            why=why,
            **context,
        )
    return {"idempotency_key": key, "recipient": user.email, "headers": headers, **rendered}


class _PerRecipient(Exception):
    """A template read something of the recipient other than their name."""


class _Recipient:
    """Stands for every recipient of a shared rendering: only the name may be read."""

    def __init__(self, display_name: str):
        self.display_name = display_name

    def __getattr__(self, name):
        raise _PerRecipient(name)


def _group_key(user: User, zone: str, notification: Notification, reason: tuple) -> tuple:
    """What the text of a notification email depends on, besides its recipient's
    name and unsubscribe link: the same for every member told of one event who
    reads it in the same language and time zone, for the same reason."""
    created = notification.created_at
    return (
        user.locale,
        zone,
        reason,
        created.replace(second=0, microsecond=0) if created else None,
        notification.kind,
        notification.object_type,
        notification.object_id,
        notification.actor_id,
        notification.forum_id,
        json.dumps(notification.data, sort_keys=True, default=str),
    )


def _render_group(
    users: dict[int, User], zones: dict[int, str], group: list[Notification], reason: tuple
) -> list[dict]:
    """The emails of notifications that say the same thing in the same language:
    the template is rendered once, with markers where the recipient's name and
    unsubscribe link go, and each email is that text with its own name and link
    put in (escaped in HTML, as the template would)."""
    from .views import describe

    def one_by_one() -> list[dict]:
        return [
            _render(
                users[n.user_id],
                "notification",
                f"notification:{n.id}",
                zone=zones[n.id],
                reason=reason,
                notification=n,
            )
            for n in group
        ]

    if len(group) == 1:
        return one_by_one()
    # Random for each rendering, so that no name or text can contain one.
    token = secrets.token_hex(8)
    name_mark, link_mark = f"recipientname{token}x", f"unsubscribeurl{token}x"
    why = _why(group[0], reason)
    try:
        with force_timezone(zones[group[0].id]):
            shared = mail.render_email(
                users[group[0].user_id].locale,
                "notification",
                user=_Recipient(name_mark),
                describe=describe,
                link=link,
                unsubscribe_url=link_mark,
                profile_url=external_url("accounts.profile"),
                why=why,
                notification=group[0],
            )
    except _PerRecipient:
        return one_by_one()
    if token in shared["subject"]:
        return one_by_one()
    marks = re.compile(f"{name_mark}|{link_mark}")
    place = f"tokenplace{token}x"
    before, after = external_url("notifications.unsubscribe", token=place).rsplit(place, 1)
    messages = []
    for notification in group:
        user = users[notification.user_id]
        url, headers = _unsubscribe_links(user, (before, after), why["scope"])
        text = {name_mark: user.display_name, link_mark: url}
        html = {name_mark: str(escape(user.display_name)), link_mark: str(escape(url))}
        messages.append(
            {
                **shared,
                "idempotency_key": f"notification:{notification.id}",
                "recipient": user.email,
                "headers": headers,
                "body_text": marks.sub(lambda m, t=text: t[m.group()], shared["body_text"]),
                "body_html": marks.sub(lambda m, h=html: h[m.group()], shared["body_html"]),
            }
        )
    return messages


def _recipient_zones(notifications: list[Notification], users: dict[int, User]) -> dict[int, str]:
    """Each notification's recipient's time zone: their own, else the zone of
    the forum the notification is about (one query per forum, not per member)."""
    by_forum: dict[int | None, str | None] = {}
    zones = {}
    left = []  # neither their own zone nor their forum's: their other forums'
    for notification in notifications:
        user = users[notification.user_id]
        if valid_timezone(user.timezone):
            zones[notification.id] = user.timezone
            continue
        forum_id = notification.forum_id
        if forum_id not in by_forum:
            by_forum[forum_id] = forum_zone(forum_id)
        if by_forum[forum_id]:
            zones[notification.id] = by_forum[forum_id]
        else:
            left.append(notification)
    if left:
        theirs = _members_forum_zones({n.user_id for n in left})
        for notification in left:
            zones[notification.id] = theirs.get(notification.user_id) or platform_zone()
    return zones


def _members_forum_zones(user_ids) -> dict[int, str]:
    """``member_zone``'s last resort for many members in one query: the zone of
    the newest consultation of any of each member's forums that names one."""
    from ..consultations.models import Consultation
    from ..forums.models import Membership

    rows = db.session.execute(
        select(Membership.user_id, Consultation.timezone)
        .join(Consultation, Consultation.forum_id == Membership.forum_id)
        .where(Membership.user_id.in_(user_ids), Consultation.timezone != "UTC")
        .order_by(Membership.user_id, Consultation.created_at.desc(), Consultation.id.desc())
    )
    zones: dict[int, str] = {}
    for user_id, zone in rows:
        zones.setdefault(user_id, zone)
    return zones


def render_notification_emails(
    notifications: list[Notification], users: dict[int, User], reasons: dict | None = None
):
    """The emails of these notifications (in their order), each in its
    recipient's language and time zone: rendered once per language, zone,
    reason and event, not per member. ``reasons``: by notification id,
    ``(preferences.email_reason, preferences.followed_target)`` (default: the
    member's setting)."""
    zones = _recipient_zones(notifications, users)
    reasons = reasons or {}
    groups: dict[tuple, list[Notification]] = {}
    for notification in notifications:
        reason = reasons.get(notification.id, ("setting", None))
        key = _group_key(users[notification.user_id], zones[notification.id], notification, reason)
        groups.setdefault(key, []).append(notification)
    by_key = {}
    for key, group in groups.items():
        for message in _render_group(users, zones, group, key[2]):
            by_key[message["idempotency_key"]] = message
    return [by_key[f"notification:{n.id}"] for n in notifications]


def prepare_emails(notification_ids: list[int]) -> list[int]:
    """Take the notifications of members who want an email each (the others
    wait for a digest, or need none), render them and add them to the outbox.
    Returns the ids of the notifications taken by this call."""
    frequency = preferences.email_frequency()
    taken = list(
        db.session.scalars(
            update(Notification)
            .where(
                Notification.id.in_(notification_ids),
                Notification.email_state.is_(None),
                frequency == "immediately",
            )
            .values(email_state="immediate")
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
    )
    _skip(Notification.id.in_(notification_ids) & (frequency == "never"))
    plan_digests(notification_ids)
    if not taken:
        return []
    rows = db.session.execute(
        select(Notification, preferences.email_reason(), preferences.followed_target())
        .options(joinedload(Notification.actor), joinedload(Notification.forum))
        .where(Notification.id.in_(taken))
        .order_by(Notification.id)
    ).all()
    notifications = [row[0] for row in rows]
    reasons = {n.id: (reason, watched_id) for n, reason, watched_id in rows}
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({n.user_id for n in notifications}))
        )
    }
    mail.add_to_outbox(render_notification_emails(notifications, users, reasons))
    return taken


def plan_digests(notification_ids: list[int]) -> None:
    """The members some of these notifications wait for in a digest get one
    planned (their next digest no later than the first that should take
    them): one UPDATE per digest time (zone, hour, cadence), not per member."""
    frequency = preferences.email_frequency()
    waiting = db.session.execute(
        select(Notification.user_id, frequency)
        .where(
            Notification.id.in_(notification_ids),
            Notification.email_state.is_(None),
            frequency.in_(DIGEST_PREFERENCES),
        )
        .distinct()
    ).all()
    if not waiting:
        return
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({user_id for user_id, _f in waiting}))
        )
    }
    now = utcnow()
    by_slot: dict[tuple, set[int]] = {}
    slots: dict[tuple, datetime] = {}
    for user_id, cadence in waiting:
        user = users[user_id]
        when = (*digest_time(user), cadence)
        if when not in slots:
            slots[when] = next_digest_slot(cadence, now, user)
        by_slot.setdefault((slots[when], cadence), set()).add(user_id)
    for (slot, cadence), user_ids in sorted(by_slot.items()):
        # Members whose general setting is a digest have one planned at all
        # times (``change_preference``, ``_plan_missing_digests``): only a
        # daily notification of a weekly member brings it sooner.
        unplanned = and_(
            User.next_digest_at.is_(None), User.notification_preference.not_in(DIGEST_PREFERENCES)
        )
        sooner = (
            and_(User.next_digest_at > slot, User.notification_preference == "weekly")
            if cadence == "daily"
            else False
        )
        db.session.execute(
            update(User)
            .where(User.id.in_(user_ids), or_(unplanned, sooner))
            .values(next_digest_at=slot)
            .execution_options(synchronize_session=False)
        )


def email_notifications(notification_ids: list[int]) -> dict[int, str]:
    """The job of one batch: prepare its emails (committed), then send what is
    still pending of them over one connection. Run twice, it sends nothing more."""
    ids = sorted(set(notification_ids))
    prepare_emails(ids)
    db.session.commit()
    return mail.deliver_many(mail.pending_ids([f"notification:{i}" for i in ids]))


# --- digests ----------------------------------------------------------------------


def digest_time(user: User | None) -> tuple[str, int]:
    """The zone and local hour of ``user``'s digests: their own time zone and
    hour, else the platform's (DIGEST_TIMEZONE, DIGEST_HOUR)."""
    config = current_app.config
    chosen = getattr(user, "timezone", None)
    zone = chosen if valid_timezone(chosen) else config["DIGEST_TIMEZONE"]
    hour = getattr(user, "digest_hour", None)
    return zone, hour if isinstance(hour, int) and 0 <= hour <= 23 else config["DIGEST_HOUR"]


def next_digest_slot(preference: str, after: datetime, user: User | None = None) -> datetime | None:
    """The first digest time strictly after ``after`` for ``preference``: the
    member's digest hour (on DIGEST_WEEKDAY for weekly) in their time zone (see
    ``digest_time``), as wall-clock time there, so daylight saving time moves
    nothing. A wall-clock hour that does not exist that day (the clocks jump
    over it) is read as the same hour after the jump."""
    if preference not in DIGEST_PREFERENCES:
        return None
    name, hour = digest_time(user)
    zone = ZoneInfo(name)
    local = after.astimezone(zone)
    day = local.date()
    while True:
        slot = datetime.combine(day, time(hour), tzinfo=zone)
        # Round trip through UTC: a skipped hour becomes a real instant.
        slot = slot.astimezone(UTC).astimezone(zone)
        if slot > local and (
            preference == "daily" or day.weekday() == current_app.config["DIGEST_WEEKDAY"]
        ):
            return slot.astimezone(UTC)
        day += timedelta(days=1)


def reschedule_digest(user: User, now: datetime | None = None) -> None:
    """After a change of time zone or digest hour: the next digest at the new
    time (a last digest already due now stays due)."""
    now = now or utcnow()
    if user.notification_preference not in DIGEST_PREFERENCES:
        return
    if user.next_digest_at is not None and user.next_digest_at <= now:
        return
    user.next_digest_at = next_digest_slot(user.notification_preference, now, user)


def _plan_missing_digests(now: datetime) -> None:
    """Members who chose a digest but have no time for it yet (set outside
    ``change_preference``, e.g. before this existed) get the next one."""
    for user in db.session.scalars(
        select(User).where(
            User.notification_preference.in_(DIGEST_PREFERENCES), User.next_digest_at.is_(None)
        )
    ):
        user.next_digest_at = next_digest_slot(user.notification_preference, now, user)
    db.session.flush()


def digest_key(user_id: int, slot: datetime) -> str:
    """The idempotency key of one member's digest window."""
    return f"digest:{user_id}:{slot.astimezone(UTC).isoformat()}"


def _digest(user_id: int, slot: datetime, now: datetime) -> dict | None:
    """Take the window ``slot`` of this member (the row lock makes a second
    scheduler skip it) and everything waiting for them; render one digest."""
    user = db.session.scalar(
        select(User)
        .where(User.id == user_id, User.next_digest_at == slot)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None:
        return None  # done by another scheduler, or the preference changed meanwhile
    frequency = preferences.email_frequency()
    waiting = and_(Notification.user_id == user.id, Notification.email_state.is_(None))
    _skip(waiting & (frequency == "never"))
    # A weekly digest is a daily one that also takes the week's (on the weekly
    # day, or any digest of a member whose general setting is weekly: a last
    # daily one after a change); what is for an email each and still waits
    # goes too (a last digest after a change to "immediately").
    cadences = ["daily", "immediately"]
    if user.notification_preference == "weekly" or _is_weekly_slot(slot, user):
        cadences.insert(0, "weekly")
    taken_by = {
        cadence: list(
            db.session.scalars(
                update(Notification)
                .where(waiting, frequency == cadence)
                .values(email_state="digest")
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            )
        )
        for cadence in cadences
    }
    user.next_digest_at = _next_digest(user, now)
    taken = sorted(id_ for ids in taken_by.values() for id_ in ids)
    if not taken:
        return None
    shown = db.session.scalars(
        select(Notification)
        .options(joinedload(Notification.actor), joinedload(Notification.forum))
        .where(Notification.id.in_(taken[-DIGEST_MAX_ITEMS:]))
        .order_by(Notification.id)
    ).all()
    cadence = next((c for c in ("weekly", "daily") if taken_by.get(c)), "last")
    return _render(
        user,
        "digest",
        digest_key(user.id, slot),
        notifications=shown,
        count=len(taken),
        earlier=len(taken) - len(shown),
        cadence=cadence,
        notifications_url=external_url("notifications.index"),
    )


def _is_weekly_slot(slot: datetime, user: User) -> bool:
    zone, _hour = digest_time(user)
    return slot.astimezone(ZoneInfo(zone)).weekday() == current_app.config["DIGEST_WEEKDAY"]


def _next_digest(user: User, now: datetime) -> datetime | None:
    """The next digest: the first that takes what still waits for one, or the
    next of the member's general digest setting."""
    frequency = preferences.email_frequency()
    cadences = set(
        db.session.scalars(
            select(frequency)
            .where(
                Notification.user_id == user.id,
                Notification.email_state.is_(None),
                frequency.in_(DIGEST_PREFERENCES),
            )
            .distinct()
        )
    )
    if user.notification_preference in DIGEST_PREFERENCES:
        cadences.add(user.notification_preference)
    slots = [next_digest_slot(cadence, now, user) for cadence in cadences]
    return min(slots) if slots else None


def send_due_digests(now: datetime | None = None) -> int:
    """The scheduler's part: one digest for each member whose time has come,
    added to the outbox in chunks of MAIL_BATCH_SIZE members (one transaction
    and one sending job each). Returns the number of digests."""
    now = now or utcnow()
    _plan_missing_digests(now)
    due = db.session.execute(
        select(User.id, User.next_digest_at)
        .where(User.next_digest_at <= now)
        .order_by(User.next_digest_at, User.id)
    ).all()
    db.session.commit()
    size = current_app.config["MAIL_BATCH_SIZE"]
    count = 0
    for start in range(0, len(due), size):
        messages = []
        for user_id, slot in due[start : start + size]:
            try:
                with db.session.begin_nested():
                    message = _digest(user_id, slot, now)
            except Exception:
                # One member's digest that cannot be made must not hold up the
                # others'; theirs stays due (rolled back) and is tried again.
                log.exception("Digest of user %s could not be made", user_id)
                continue
            if message is not None:
                messages.append(message)
        mail.enqueue_delivery(mail.add_to_outbox(messages))
        db.session.commit()
        count += len(messages)
    return count


# --- preferences --------------------------------------------------------------------


def change_preference(user: User, preference: str, now: datetime | None = None) -> None:
    """Switch how ``user`` gets notifications by email, without sending anything
    twice or losing what waits for a digest:

    - to **never**: what waits is dropped (never means no email);
    - from **never**: what came meanwhile stays unsent (it was not wanted);
    - from a digest to **immediately**: a last digest of what waits goes out now;
    - to a digest: what waits goes into it, never later than the digest already due.
    """
    if preference not in NOTIFICATION_PREFERENCES:
        raise InvalidInput()
    before = user.notification_preference
    if preference == before:
        return
    now = now or utcnow()
    user.notification_preference = preference
    if preference == "never" or before == "never":
        _skip(Notification.user_id == user.id)
    if preference == "never":
        user.next_digest_at = None
    elif preference == "immediately":
        user.next_digest_at = now if before in DIGEST_PREFERENCES else None
    else:
        slot = next_digest_slot(preference, now, user)
        if before in DIGEST_PREFERENCES and user.next_digest_at is not None:
            slot = min(slot, user.next_digest_at)
        user.next_digest_at = slot
