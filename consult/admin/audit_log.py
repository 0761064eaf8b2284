"""A forum's audit log as its managers read it: who did what, when, on which
object and why; filtered by person, kind of action and dates, a page at a time
or as a CSV file of the same rows. What the kinds are called is in
``audit_labels``, the objects' names and links in ``audit_targets``."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditEvent
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums.models import Forum
from ..spreadsheets import safe_cell
from .audit_labels import ACTION_LABELS, PLATFORM_ACTIONS, action_label

PER_PAGE = 50
# A CSV export holds at most this many rows (the newest); the page says so.
MAX_EXPORT_ROWS = 50_000


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    action: str = ""
    since: date | None = None  # days in the reader's zone, both included
    until: date | None = None


def _statement(forum: Forum, filters: AuditFilters, zone: str):
    statement = select(AuditEvent).where(AuditEvent.forum_id == forum.id)
    if filters.actor_id:
        statement = statement.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    tz = ZoneInfo(zone)
    if filters.since:
        start = datetime.combine(filters.since, time(), tzinfo=tz)
        statement = statement.where(AuditEvent.created_at >= start)
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), tzinfo=tz)
        statement = statement.where(AuditEvent.created_at < end)
    return statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def events_page(actor, forum: Forum, filters: AuditFilters, zone: str, *, page: int = 1):
    """One page (a Flask-SQLAlchemy Pagination) of the forum's events, newest first."""
    forum_permissions.require_manage(actor, forum)
    return db.paginate(
        _statement(forum, filters, zone), page=page, per_page=PER_PAGE, error_out=False
    )


def events_for_export(actor, forum: Forum, filters: AuditFilters, zone: str) -> list[AuditEvent]:
    forum_permissions.require_manage(actor, forum)
    return list(db.session.scalars(_statement(forum, filters, zone).limit(MAX_EXPORT_ROWS)))


def actor_choices(actor, forum: Forum) -> list[User]:
    """Everyone who appears as the author of an event of this forum."""
    forum_permissions.require_manage(actor, forum)
    acting = select(AuditEvent.actor_id).where(AuditEvent.forum_id == forum.id).distinct()
    return list(
        db.session.scalars(select(User).where(User.id.in_(acting)).order_by(User.display_name))
    )


def action_choices(forum: Forum) -> list[str]:
    """The kinds of action a forum's log can hold, and any other this one holds."""
    present = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.forum_id == forum.id).distinct()
    )
    kinds = (set(ACTION_LABELS) - PLATFORM_ACTIONS) | set(present)
    return sorted(kinds, key=lambda key: action_label(key).casefold())


def actors_of(events: list[AuditEvent]) -> dict[int, User]:
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


# --- the CSV file --------------------------------------------------------------------

CSV_COLUMNS = (
    "time_utc",
    "actor_id",
    "actor",
    "action",
    "action_label",
    "object_type",
    "object_id",
    "reason",
    "details",
)


def events_csv(events: list[AuditEvent]) -> str:
    """The rows as a spreadsheet reads them safely: no cell runs as a formula."""
    people = actors_of(events)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        details = dict(event.details or {})
        reason = details.pop("reason", "")
        actor = people.get(event.actor_id)
        writer.writerow(
            safe_cell(cell)
            for cell in (
                event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                event.actor_id or "",
                actor.display_name if actor is not None else "",
                event.action,
                action_label(event.action),
                event.object_type,
                event.object_id or "",
                reason or "",
                json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
                if details
                else "",
            )
        )
    return out.getvalue()
