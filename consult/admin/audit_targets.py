"""The objects the audit log's events name, as a name and a link to their
page where they still exist in the forum: one query per kind of object."""

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from ..accounts.models import User
from ..amendments.models import Amendment, identifier_of
from ..audit.models import AuditEvent
from ..comments.models import Comment
from ..consolidation.models import Consolidation
from ..consultations.models import Consultation, Phase
from ..extensions import db
from ..forums.models import Coalition, Forum, Invitation, Membership, WorkingGroup
from ..plans.models import Plan, PlanVersion
from ..votes.models import Poll


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
