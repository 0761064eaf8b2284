"""Rendering notification emails: one per notification, in the recipient's
language and time zone, saying why it was sent and how to stop it (signed
one-click unsubscribe links, RFC 2369 and 8058); what every recipient of one
event shares is rendered once per language, zone and reason."""

import json
import re
import secrets
from dataclasses import dataclass

from flask import current_app
from markupsafe import escape
from sqlalchemy import select

from ..accounts.models import User
from ..consultations.models import Consultation
from ..extensions import db
from ..forums.models import Membership
from ..known_zones import valid_timezone
from ..mail import services as mail
from ..notifications.models import Notification
from ..timezones import force_timezone, forum_zone, member_zone, platform_zone
from ..tokens import make_token, read_token
from ..urls import external_url
from . import preferences
from .wording import describe, target


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


def render_message(
    user: User,
    template: str,
    key: str,
    zone: str | None = None,
    reason: tuple | None = None,
    **context,
) -> dict:
    """One email to ``user``, in their language, its dates in their time zone."""

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
    shared = _shared_rendering(users, zones, group, reason) if len(group) > 1 else None
    if shared is None:
        return [
            render_message(
                users[n.user_id],
                "notification",
                f"notification:{n.id}",
                zone=zones[n.id],
                reason=reason,
                notification=n,
            )
            for n in group
        ]
    return _personalised(shared, users, group)


@dataclass(frozen=True)
class _SharedRendering:
    """One rendering for a group of recipients, with markers for each one's part."""

    message: dict
    token: str
    name_mark: str
    link_mark: str
    scope: dict | None  # what the unsubscribe links stop


def _shared_rendering(
    users: dict[int, User], zones: dict[int, str], group: list[Notification], reason: tuple
) -> _SharedRendering | None:
    """The group's email rendered once for all; None when the template reads
    more of the recipient than their name (each is then rendered on its own)."""

    # Random for each rendering, so that no name or text can contain one.
    token = secrets.token_hex(8)
    name_mark, link_mark = f"recipientname{token}x", f"unsubscribeurl{token}x"
    first = group[0]
    why = _why(first, reason)
    try:
        with force_timezone(zones[first.id]):
            message = mail.render_email(
                users[first.user_id].locale,
                "notification",
                user=_Recipient(name_mark),
                describe=describe,
                link=link,
                unsubscribe_url=link_mark,
                profile_url=external_url("accounts.profile"),
                why=why,
                notification=first,
            )
    except _PerRecipient:
        return None
    if token in message["subject"]:
        return None
    return _SharedRendering(message, token, name_mark, link_mark, why["scope"])


def _personalised(
    shared: _SharedRendering, users: dict[int, User], group: list[Notification]
) -> list[dict]:
    """Each recipient's email: the shared text with their name and link put in."""
    marks = re.compile(f"{shared.name_mark}|{shared.link_mark}")
    place = f"tokenplace{shared.token}x"
    before, after = external_url("notifications.unsubscribe", token=place).rsplit(place, 1)
    messages = []
    for notification in group:
        user = users[notification.user_id]
        url, headers = _unsubscribe_links(user, (before, after), shared.scope)
        text = {shared.name_mark: user.display_name, shared.link_mark: url}
        html = {
            shared.name_mark: str(escape(user.display_name)),
            shared.link_mark: str(escape(url)),
        }
        messages.append(
            {
                **shared.message,
                "idempotency_key": f"notification:{notification.id}",
                "recipient": user.email,
                "headers": headers,
                "body_text": marks.sub(lambda m, t=text: t[m.group()], shared.message["body_text"]),
                "body_html": marks.sub(lambda m, h=html: h[m.group()], shared.message["body_html"]),
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
