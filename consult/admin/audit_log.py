"""A forum's audit log as its managers read it: who did what, when, on which
object and why; filtered by person, kind of action and dates, a page at a time
or as a CSV file of the same rows."""

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..accounts.models import User
from ..amendments.models import Amendment, identifier_of
from ..audit.models import AuditEvent
from ..comments.models import Comment
from ..consolidation.models import Consolidation
from ..consultations.models import Consultation, Phase
from ..extensions import db
from ..forums import permissions as forum_permissions
from ..forums.models import Coalition, Forum, Invitation, Membership, WorkingGroup
from ..plans.models import Plan, PlanVersion
from ..spreadsheets import safe_cell
from ..votes.models import Poll

PER_PAGE = 50
# A CSV export holds at most this many rows (the newest); the page says so.
MAX_EXPORT_ROWS = 50_000

# What each kind of action is called on the page (the key stays in a title
# attribute and in the CSV). A kind not listed here is shown by its key.
ACTION_LABELS = {
    "amendment.draft": _l("Amendment returned to draft"),
    "amendment.submitted": _l("Amendment submitted"),
    "amendment.admitted": _l("Amendment admitted"),
    "amendment.accepted": _l("Amendment accepted"),
    "amendment.rejected": _l("Amendment rejected"),
    "amendment.withdrawn": _l("Amendment withdrawn"),
    "amendment.merged": _l("Amendment merged into a compromise"),
    "amendment.voting": _l("Amendment put to the vote"),
    "amendment.revise": _l("Amendment sent back for revision"),
    "amendment.compromise": _l("Compromise amendment written"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "coalition.created": _l("Coalition created"),
    "coalition.updated": _l("Coalition changed"),
    "comment.deleted": _l("Comment deleted"),
    "comment.hidden": _l("Comment hidden"),
    "comment.restored": _l("Comment shown again"),
    "consultation.created": _l("Consultation created"),
    "consultation.advanced": _l("Consultation moved to its next phase"),
    "consultation.phase_extended": _l("Phase extended"),
    "forum.created": _l("Forum created"),
    "forum.updated": _l("Forum settings changed"),
    "forum.archived": _l("Forum archived"),
    "forum.restored": _l("Forum taken out of the archive"),
    "group.created": _l("Working group created"),
    "group.updated": _l("Working group changed"),
    "group.member_added": _l("Added to a working group"),
    "group.member_removed": _l("Removed from a working group"),
    "invitation.sent": _l("Invitation sent"),
    "invitation.accepted": _l("Invitation accepted"),
    "membership.created": _l("Member added"),
    "membership.updated": _l("Member's role or weight changed"),
    "membership.removed": _l("Member removed"),
    "plan.approved": _l("Plan approved"),
    "plan.archived": _l("Plan archived"),
    "plan.restored": _l("Plan taken out of the archive"),
    "plan.settings": _l("Plan settings changed"),
    "plan.consolidation_requested": _l("Consolidated draft requested"),
    "plan.consolidated": _l("Consolidated draft made"),
    "plan.translated": _l("Plan translation saved"),
    "plan.translations_imported": _l("Plan translations imported"),
    "plan.version_import": _l("Plan imported"),
    "plan.version_edit": _l("Plan edited"),
    "plan.version_consolidation": _l("Plan version from a consolidated draft"),
    "poll.created": _l("Vote created"),
    "poll.opened": _l("Vote opened"),
    "poll.closed": _l("Vote closed"),
    "poll.cancelled": _l("Vote cancelled"),
    "poll.roll_call": _l("Roll call taken"),
    "assembly.created": _l("Assembly session called"),
    "assembly.started": _l("Assembly session opened"),
    "assembly.adjourned": _l("Assembly session adjourned"),
    "assembly.point_added": _l("Point added to the agenda"),
    "assembly.point_moved": _l("Point moved on the agenda"),
    "assembly.point_removed": _l("Point removed from the agenda"),
    "assembly.reordered": _l("Agenda reordered"),
    "assembly.took_up": _l("Point put on the floor"),
    "assembly.moved_on": _l("Session moved on to the next point"),
    "assembly.outcome_noted": _l("Outcome of a point noted"),
    "assembly.vote_opened": _l("Vote on a point opened"),
    "assembly.vote_closed": _l("Vote on a point closed"),
    "assembly.asked_to_speak": _l("Asked to speak"),
    "assembly.withdrew": _l("Request to speak withdrawn"),
    "assembly.called_speaker": _l("Speaker called"),
    "assembly.speaker_finished": _l("Speaker finished"),
    "assembly.time_limit": _l("Speaking time changed"),
    "assembly.speaking_rules": _l("Speaking time rules changed"),
    "assembly.minutes_signed": _l("Minutes signed"),
    "poll.proxy_granted": _l("Proxy given"),
    "poll.proxy_revoked": _l("Proxy withdrawn"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "user.deleted": _l("Account deleted by its owner"),
    "user.two_step_on": _l("Two-step sign-in turned on"),
    "user.two_step_off": _l("Two-step sign-in turned off"),
    "platform.two_step_required": _l("Two-step sign-in required or not"),
    "legal_text.changed": _l("Privacy notice or terms of use changed"),
}

OBJECT_LABELS = {
    "Amendment": _l("Amendment"),
    "ApiToken": _l("API token"),
    "Coalition": _l("Coalition"),
    "Comment": _l("Comment"),
    "Consolidation": _l("Consolidated draft"),
    "Consultation": _l("Consultation"),
    "Forum": _l("Forum"),
    "Invitation": _l("Invitation"),
    "Membership": _l("Membership"),
    "Phase": _l("Phase"),
    "Plan": _l("Plan"),
    "PlanVersion": _l("Plan version"),
    "Poll": _l("Vote"),
    "PlatformSetting": _l("Platform setting"),
    "User": _l("Account"),
    "WorkingGroup": _l("Working group"),
    "WorkingGroupMember": _l("Working group membership"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


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


# Kinds recorded about accounts, outside any forum: not offered in a forum's list.
PLATFORM_ACTIONS = frozenset(
    (
        "api_token.created",
        "api_token.revoked",
        "user.deactivated",
        "user.reactivated",
        "user.deleted",
        "user.two_step_on",
        "user.two_step_off",
        "platform.two_step_required",
        "legal_text.changed",
    )
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


# --- the objects named: a link and a name where the object still exists -----------


@dataclass(frozen=True)
class Target:
    name: str
    url: str | None


def _ids_of(events, object_type: str) -> set[int]:
    return {e.object_id for e in events if e.object_type == object_type and e.object_id}


def targets(forum: Forum, events: list[AuditEvent]) -> dict[tuple[str, int], Target]:
    """(object type, id) -> its name and page, for the events' objects that
    still exist: one query per kind of object on the page."""
    found: dict[tuple[str, int], Target] = {}
    for object_type, statement, target in TARGET_QUERIES:
        ids = _ids_of(events, object_type)
        if ids:
            for row in db.session.execute(statement(forum, ids)):
                found[object_type, row.id] = target(forum.slug, row)
    if forum.id in _ids_of(events, "Forum"):
        found["Forum", forum.id] = Target(forum.name, url_for("forums.forum", slug=forum.slug))
    return found


def _own(*columns, forum_column):
    """The forum's rows among some ids, for a kind of object that names its forum."""
    return lambda forum, ids: select(*columns).where(columns[0].in_(ids), forum_column == forum.id)


# For each kind of object: its type's name, the statement that reads the
# forum's objects of that kind among some ids, and its Target from a row.
TARGET_QUERIES = [
    (
        "Amendment",
        lambda forum, ids: (
            select(Amendment.id, Amendment.number, Amendment.target_ref, Plan.short_name)
            .join(Plan, Plan.id == Amendment.plan_id)
            .where(Amendment.id.in_(ids), Amendment.forum_id == forum.id)
        ),
        lambda slug, r: Target(
            identifier_of(r.short_name, f"E{r.number}", r.target_ref),
            url_for("amendments.detail", slug=slug, amendment_id=r.id),
        ),
    ),
    (
        "Plan",
        _own(Plan.id, Plan.title, forum_column=Plan.forum_id),
        lambda slug, r: Target(r.title, url_for("plans.show", slug=slug, plan_id=r.id)),
    ),
    (
        "PlanVersion",
        lambda forum, ids: (
            select(PlanVersion.id, PlanVersion.plan_id, PlanVersion.number, Plan.title)
            .join(Plan, Plan.id == PlanVersion.plan_id)
            .where(PlanVersion.id.in_(ids), Plan.forum_id == forum.id)
        ),
        lambda slug, r: Target(
            f"{r.title} (v{r.number})",
            url_for("plans.show", slug=slug, plan_id=r.plan_id, number=r.number),
        ),
    ),
    (
        "Comment",
        _own(Comment.id, forum_column=Comment.forum_id),
        lambda slug, r: Target(
            f"#{r.id}", url_for("comments.permalink", slug=slug, comment_id=r.id)
        ),
    ),
    (
        "Consultation",
        _own(Consultation.id, Consultation.title, forum_column=Consultation.forum_id),
        lambda slug, r: Target(
            r.title, url_for("consultations.show", slug=slug, consultation_id=r.id)
        ),
    ),
    (
        "Phase",
        lambda forum, ids: (
            select(Phase.id, Phase.consultation_id, Consultation.title)
            .join(Consultation, Consultation.id == Phase.consultation_id)
            .where(Phase.id.in_(ids), Consultation.forum_id == forum.id)
        ),
        lambda slug, r: Target(
            r.title, url_for("consultations.show", slug=slug, consultation_id=r.consultation_id)
        ),
    ),
    (
        "Poll",
        _own(Poll.id, Poll.title, forum_column=Poll.forum_id),
        lambda slug, r: Target(r.title, url_for("votes.show", slug=slug, poll_id=r.id)),
    ),
    (
        "Consolidation",
        lambda forum, ids: (
            select(Consolidation.id, Consolidation.plan_id, Plan.title)
            .join(Plan, Plan.id == Consolidation.plan_id)
            .where(Consolidation.id.in_(ids), Plan.forum_id == forum.id)
        ),
        lambda slug, r: Target(
            r.title,
            url_for("consolidation.show", slug=slug, plan_id=r.plan_id, consolidation_id=r.id),
        ),
    ),
    (
        "Coalition",
        _own(Coalition.id, Coalition.name, forum_column=Coalition.forum_id),
        lambda slug, r: Target(r.name, url_for("forums.coalitions", slug=slug, coalition_id=r.id)),
    ),
    (
        "WorkingGroup",
        _own(
            WorkingGroup.id,
            WorkingGroup.name,
            WorkingGroup.slug,
            forum_column=WorkingGroup.forum_id,
        ),
        lambda slug, r: Target(r.name, url_for("forums.edit_group", slug=slug, group_slug=r.slug)),
    ),
    (
        "Membership",
        lambda forum, ids: (
            select(Membership.id, User.display_name)
            .join(User, User.id == Membership.user_id)
            .where(Membership.id.in_(ids), Membership.forum_id == forum.id)
        ),
        lambda slug, r: Target(
            r.display_name, url_for("forums.edit_member", slug=slug, membership_id=r.id)
        ),
    ),
    (
        "Invitation",
        lambda forum, ids: (
            select(Invitation.id, User.display_name)
            .join(User, User.id == Invitation.user_id)
            .where(Invitation.id.in_(ids), Invitation.forum_id == forum.id)
        ),
        lambda slug, r: Target(r.display_name, None),
    ),
]


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
