"""Digests of notification emails: the members whose preference (per forum
and topic, ``preferences.email_frequency``) is daily or weekly get one email of
everything waiting for them at their own local hour (their time zone,
DIGEST_WEEKDAY for weekly); ``change_preference`` switches a member's general
setting without sending anything twice or losing what waits. Each
notification is taken by a conditional UPDATE of its ``email_state``, so two
schedulers never send it twice."""

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import joinedload

from ..accounts.models import NOTIFICATION_PREFERENCES, User
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..known_zones import valid_timezone
from ..mail import services as mail
from ..notifications.models import Notification
from ..urls import external_url
from . import email_rendering, preferences

log = logging.getLogger(__name__)

DIGEST_PREFERENCES = ("daily", "weekly")
# A digest lists at most this many notifications (the newest); it says how many
# more wait in the notification centre.
DIGEST_MAX_ITEMS = 100


def skip_emails(condition) -> None:
    """What needs no email (never wanted, or no longer): marked, never sent."""
    db.session.execute(
        update(Notification)
        .where(Notification.email_state.is_(None), condition)
        .values(email_state="skipped")
        .execution_options(synchronize_session=False)
    )


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
    skip_emails(waiting & (frequency == "never"))
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
    return email_rendering.render_message(
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
        skip_emails(Notification.user_id == user.id)
    if preference == "never":
        user.next_digest_at = None
    elif preference == "immediately":
        user.next_digest_at = now if before in DIGEST_PREFERENCES else None
    else:
        slot = next_digest_slot(preference, now, user)
        if before in DIGEST_PREFERENCES and user.next_digest_at is not None:
            slot = min(slot, user.next_digest_at)
        user.next_digest_at = slot


def apply_email_settings(user: User, preference: str, moved: bool) -> None:
    """A member's new email preference, and the next digest at their new local
    hour when only their zone or digest hour moved (an
    ``accounts.hooks.on_email_settings`` step)."""
    before = user.notification_preference
    change_preference(user, preference)
    if moved and preference == before:
        reschedule_digest(user)
