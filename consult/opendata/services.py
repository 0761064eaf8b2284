"""Open data of a consultation: its amendments (status, supporters), its shown
comments, the results of its closed votes and its participation figures, as
rows for CSV and JSON.

Never in them: emails, drafts, comments hidden by the moderators or deleted,
ballots, receipts or who voted what. Who may download them is who may read the
forum (``consultations.get_consultation``): members only, for a private forum.
Each dataset is read with a fixed number of queries.
"""

import csv
import io
import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import aliased, joinedload

from ..amendments.models import Amendment, AmendmentSupport, identifier_of
from ..assembly import minutes
from ..comments.models import Comment
from ..consultations.models import Consultation
from ..consultations.readings import in_window, reading_window
from ..dashboard import counting as dashboard
from ..database import utcnow
from ..extensions import db
from ..plans.models import PlanNode
from ..spreadsheets import safe_cell
from ..votes import disclosure as votes_disclosure
from ..votes import queries as votes_queries

DATASET_LABELS = {
    "amendments": _l("Amendments, with their status and number of supporters"),
    "comments": _l("Comments (those hidden by the moderators are left out)"),
    "polls": _l("Results of the closed votes"),
    "participation": _l("Participation figures"),
}
DATASETS = tuple(DATASET_LABELS)

COLUMNS = {
    "amendments": (
        "id",
        "identifier",
        "label",
        "status",
        "operation",
        "target_ref",
        "original_text",
        "proposed_text",
        "justification",
        "language",
        "author",
        "coalition",
        "is_compromise",
        "merged_into",
        "supporters_count",
        "submitted_at",
        "decided_at",
    ),
    "comments": (
        "id",
        "parent_id",
        "target_type",
        "target_ref",
        "alignment",
        "language",
        "author",
        "body",
        "created_at",
        "edited_at",
    ),
    "polls": (
        "id",
        "title",
        "subject",
        "scope",
        "method",
        "rule",
        "secret",
        "closed_at",
        "electorate_size",
        "ballots",
        "turnout_weight",
        "quorum_met",
        "winner",
        "yes",
        "no",
        "abstain",
        "yes_ballots",
        "no_ballots",
        "abstain_ballots",
        "ranking",
        "checksum",
    ),
    "participation": ("metric", "group", "value"),
}


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- datasets ---------------------------------------------------------------------


def amendment_rows(consultation: Consultation) -> list[dict]:
    """Every amendment but drafts proposed during this reading of the plan
    (``reading_window``), in number order, with its supporters counted."""
    supports = (
        select(AmendmentSupport.amendment_id, func.count().label("n"))
        .group_by(AmendmentSupport.amendment_id)
        .subquery()
    )
    merged = aliased(Amendment)
    # Named across the forum ("PA-2026 E2 · 4.1"): two plans' E2 stay apart
    # once their data sets are put together.
    short_name = consultation.plan.short_name
    rows = db.session.execute(
        select(Amendment, func.coalesce(supports.c.n, 0), merged.number, merged.target_ref)
        .outerjoin(supports, supports.c.amendment_id == Amendment.id)
        .outerjoin(merged, merged.id == Amendment.merged_into_id)
        .options(joinedload(Amendment.author), joinedload(Amendment.coalition))
        .where(
            Amendment.plan_id == consultation.plan_id,
            Amendment.status != "draft",
            in_window(Amendment.created_at, reading_window(consultation)),
        )
        .order_by(Amendment.number)
    ).all()
    return [
        {
            "id": amendment.id,
            "identifier": identifier_of(short_name, amendment.label, amendment.target_ref),
            "label": amendment.label,
            "status": amendment.status,
            "operation": amendment.operation,
            "target_ref": amendment.target_ref,
            "original_text": amendment.original_text,
            "proposed_text": amendment.proposed_text,
            "justification": amendment.justification,
            "language": amendment.language,
            "author": amendment.author_display or "",
            "coalition": amendment.coalition.name if amendment.coalition else "",
            "is_compromise": bool(amendment.is_compromise),
            "merged_into": identifier_of(short_name, f"E{merged_number}", merged_ref)
            if merged_number
            else "",
            "supporters_count": supporters,
            "submitted_at": _moment(amendment.submitted_at),
            "decided_at": _moment(amendment.decided_at),
        }
        for amendment, supporters, merged_number, merged_ref in rows
    ]


def comment_rows(consultation: Consultation) -> list[dict]:
    """Shown comments on the plan's items, on its amendments (not drafts) and on
    the consultation itself, written during this reading, oldest first."""
    comments = db.session.scalars(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(_comments_of_reading(consultation))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    targets = _comment_target_refs(consultation)
    return [
        {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "target_type": comment.target_type,
            "target_ref": targets.get(comment.target_type, {}).get(comment.target_key, ""),
            "alignment": comment.alignment,
            "language": comment.language,
            "author": comment.author.display_name if comment.author else "",
            "body": comment.body,
            "created_at": _moment(comment.created_at),
            "edited_at": _moment(comment.edited_at),
        }
        for comment in comments
    ]


def _comments_of_reading(consultation: Consultation):
    """The condition on the comments ``comment_rows`` gives: shown, about the
    plan or this consultation, not on a draft, written during this reading."""
    plan_id = consultation.plan_id
    drafts = select(cast(Amendment.id, String)).where(
        Amendment.plan_id == plan_id, Amendment.status == "draft"
    )
    return (
        (Comment.forum_id == consultation.forum_id)
        & (
            (Comment.plan_id == plan_id)
            | (
                (Comment.target_type == "consultation")
                & (Comment.target_key == str(consultation.id))
            )
        )
        & ~((Comment.target_type == "amendment") & Comment.target_key.in_(drafts))
        # Another reading's thread, and what was written during another reading.
        & ~((Comment.target_type == "consultation") & (Comment.target_key != str(consultation.id)))
        & in_window(Comment.created_at, reading_window(consultation))
        & Comment.deleted_at.is_(None)
        & Comment.hidden_at.is_(None)
    )


def _comment_target_refs(consultation: Consultation) -> dict[str, dict[str, str]]:
    """How the comments' targets are cited, by kind and key: an item by its
    reference in the current version, an amendment by its identifier."""
    refs = dict(
        db.session.execute(
            select(PlanNode.key, PlanNode.ref).where(
                PlanNode.version_id == consultation.plan.current_version_id
            )
        ).all()
    )
    short_name = consultation.plan.short_name
    labels = {
        str(amendment_id): identifier_of(short_name, f"E{number}", ref)
        for amendment_id, number, ref in db.session.execute(
            select(Amendment.id, Amendment.number, Amendment.target_ref).where(
                Amendment.plan_id == consultation.plan_id
            )
        )
    }
    return {"node": refs, "amendment": labels}


def poll_rows(user, consultation: Consultation) -> list[dict]:
    """The frozen results of the plan's closed votes, as totals: never a ballot
    nor a voter, secret or not. The weighted total of each option always; the
    number of ballots for each option only where ``votes_disclosure.Disclosure`` says it
    singles nobody out (not in a secret vote where some weight is carried by
    fewer than ``votes_disclosure.MIN_BALLOTS_PER_WEIGHT`` ballots)."""
    polls = [
        poll
        for poll in votes_queries.polls_about(consultation.plan)
        if poll.state == "closed" and votes_queries.results_visible(user, poll)
    ]
    shown = votes_disclosure.disclosures(polls)
    rows = []
    for poll in polls:
        result = votes_queries.stored_result(poll) or {}
        tally = result.get("tally") or {}
        numbers = {} if poll.is_ranked else {t.option: t.ballots for t in shown[poll.id].options}
        rows.append(
            {
                "id": poll.id,
                "title": poll.title,
                "subject": poll.subject,
                "scope": poll.scope,
                "method": poll.method,
                "rule": poll.rule,
                "secret": bool(poll.secret),
                "closed_at": _moment(poll.closed_at),
                "electorate_size": poll.electorate_size,
                "ballots": result.get("ballots"),
                "turnout_weight": result.get("turnout_weight"),
                "quorum_met": (result.get("quorum") or {}).get("met"),
                "winner": result.get("winner"),
                "yes": tally.get("yes"),
                "no": tally.get("no"),
                "abstain": tally.get("abstain"),
                "yes_ballots": numbers.get("yes"),
                "no_ballots": numbers.get("no"),
                "abstain_ballots": numbers.get("abstain"),
                "ranking": " > ".join(tally.get("ranking") or []),
                "checksum": result.get("checksum"),
                "tally": tally,
            }
        )
    return rows


def participation_rows(consultation: Consultation) -> list[dict]:
    """The dashboard's figures that say who took part and how much (not its
    moderation queues): totals, then by working group, coalition, country, phase."""
    figures = dashboard.figures(consultation)
    rows = [
        ("participants", "", figures.participants),
        ("amendments", "", figures.amendments),
        *((f"amendments_{status}", "", n) for status, n in figures.statuses.items()),
        ("supports", "", figures.supports),
        ("comments", "", figures.comments),
    ]
    for group in figures.groups:
        rows.append(("amendments_by_group", group.label, group.amendments))
        rows.append(("comments_by_group", group.label, group.comments))
    rows.extend(("participants_by_coalition", s.label, s.count) for s in figures.by_coalition)
    rows.extend(("participants_by_country", s.label, s.count) for s in figures.by_country)
    for phase in figures.phases:
        rows.append(("amendments_in_phase", phase.label, phase.amendments))
        rows.append(("comments_in_phase", phase.label, phase.comments))
    return [{"metric": m, "group": g, "value": v} for m, g, v in rows]


def signed_minutes(consultation: Consultation) -> list[dict]:
    """The signed minutes of the consultation's assembly sessions (never a draft),
    each as published: the record, who signed it and when, and its links."""
    return [minutes.publication(session) for session in minutes.signed_sessions(consultation)]


def minutes_json(consultation: Consultation) -> str:
    document = {
        "consultation": {
            "id": consultation.id,
            "title": consultation.title,
            "forum": consultation.forum.slug,
        },
        "dataset": "assembly_minutes",
        "generated_at": utcnow().isoformat(),
        "minutes": signed_minutes(consultation),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def dataset(user, consultation: Consultation, name: str) -> list[dict]:
    if name == "amendments":
        return amendment_rows(consultation)
    if name == "comments":
        return comment_rows(consultation)
    if name == "polls":
        return poll_rows(user, consultation)
    return participation_rows(consultation)


# --- formats ------------------------------------------------------------------------


def as_csv(name: str, rows: list[dict]) -> str:
    """With a BOM (spreadsheets then read UTF-8), every cell formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS[name])
    for row in rows:
        writer.writerow([safe_cell(_cell(row.get(column))) for column in COLUMNS[name]])
    return "\ufeff" + out.getvalue()


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def as_json(consultation: Consultation, name: str, rows: list[dict]) -> str:
    document = {
        "consultation": {
            "id": consultation.id,
            "title": consultation.title,
            "forum": consultation.forum.slug,
            "plan_id": consultation.plan_id,
            "plan_title": consultation.plan.title,
            # 1 for the plan's first reading, 2 for the second…
            "number": consultation.number,
        },
        "dataset": name,
        "generated_at": utcnow().isoformat(),
        "columns": list(COLUMNS[name]),
        "rows": rows,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
