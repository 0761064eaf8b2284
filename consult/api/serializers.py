"""What the API says about each thing: plain dicts, the same fields in every
answer, nothing the web pages would not show the same reader (no emails, no
ballots, no voters of secret polls)."""

from decimal import Decimal

from ..amendments.models import Amendment
from ..forums.models import Forum
from ..plans.models import Plan, PlanNode, PlanVersion


def moment(value) -> str | None:
    return value.isoformat() if value is not None else None


def person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "display_name": user.display_name}


def page_of(items: list, page: int, per_page: int, total: int) -> dict:
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": max(1, -(-total // per_page)),
    }


def forum(value: Forum) -> dict:
    return {
        "slug": value.slug,
        "name": value.name,
        "description": value.description or "",
        "default_locale": value.default_locale,
        "is_public": bool(value.is_public),
    }


def plan(value: Plan, current_number: int | None) -> dict:
    return {
        "id": value.id,
        "title": value.title,
        "status": value.status,
        "language": value.language,
        "current_version": current_number,
        "open_for_input": bool(value.open_for_input),
        "support_threshold": value.support_threshold,
        "support_threshold_kind": value.support_threshold_kind,
        "created_at": moment(value.created_at),
    }


def version(value: PlanVersion) -> dict:
    return {
        "number": value.number,
        "title": value.title,
        "origin": value.origin,
        "note": value.note or "",
        "language": getattr(value, "language", None),
        "is_final": bool(value.is_final),
        "section_count": value.section_count,
        "item_count": value.item_count,
        "footnote_count": value.footnote_count,
        "created_at": moment(value.created_at),
    }


def node(value: PlanNode) -> dict:
    return {
        "key": value.key,
        "parent_key": value.parent_key,
        "position": value.position,
        "depth": value.depth,
        "kind": value.kind,
        "number": value.number,
        "ref": value.ref,
        "text": value.text,
    }


def amendment(value: Amendment, supporters: int) -> dict:
    return {
        "id": value.id,
        "label": value.label,
        # Its name across the forum: "PA-2026 E2 · 4.1".
        "identifier": value.identifier,
        "plan_id": value.plan_id,
        "status": value.status,
        "operation": value.operation,
        "target_key": value.target_key,
        "target_ref": value.target_ref,
        "original_text": value.original_text,
        "proposed_text": value.proposed_text,
        "justification": value.justification,
        "language": value.language,
        "author": person(value.author) if value.author_id else None,
        "author_name": value.author_display or "",
        "coalition": value.coalition.name if value.coalition is not None else None,
        "is_compromise": bool(value.is_compromise),
        "parent_id": value.parent_id,
        "merged_into_id": value.merged_into_id,
        "supporters_count": supporters,
        "created_at": moment(value.created_at),
        "submitted_at": moment(value.submitted_at),
        "decided_at": moment(value.decided_at),
    }


def comment_entry(entry) -> dict:
    """A comment as its reader sees it in the thread (see comments.thread): the
    body of a hidden comment only for moderators, none for a deleted one."""
    value = entry.comment
    return {
        "id": value.id,
        "parent_id": value.parent_id,
        "depth": value.depth,
        "state": entry.state,
        "author": person(value.author) if entry.state != "deleted" else None,
        "alignment": value.alignment,
        "language": value.language,
        "body": value.body if entry.show_body else None,
        "created_at": moment(value.created_at),
        "edited_at": moment(value.edited_at),
        "replies": [comment_entry(reply) for reply in entry.replies],
    }


def comment_created(value) -> dict:
    return {
        "id": value.id,
        "parent_id": value.parent_id,
        "depth": value.depth,
        "state": "visible",
        "author": person(value.author),
        "alignment": value.alignment,
        "language": value.language,
        "body": value.body,
        "created_at": moment(value.created_at),
        "edited_at": moment(value.edited_at),
        "replies": [],
    }


def _plain(value):
    """Decimals (weights) as exact strings, the way the stored results keep them."""
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def poll(
    value, *, results: dict | None, visible: bool, turnout: dict | None, disclosure=None
) -> dict:
    """``disclosure`` (``votes.services.Disclosure``, a closed poll's): the total of
    each option; the number of ballots per option is None where it would single
    out a delegate of a secret, weighted vote."""
    return {
        "id": value.id,
        "plan_id": value.plan_id,
        "title": value.title,
        "description": value.description or "",
        "subject": value.subject,
        "scope": value.scope,
        "method": value.method,
        "rule": value.rule,
        "secret": bool(value.secret),
        "state": value.state,
        "amendment_id": value.amendment_id,
        "candidates": [candidate.name for candidate in value.candidates],
        "opens_at": moment(value.opens_at),
        "closes_at": moment(value.closes_at),
        "closed_at": moment(value.closed_at),
        "electorate_size": value.electorate_size,
        "turnout": _plain(turnout) if turnout is not None else None,
        "results_visible": visible,
        "results": _plain(results) if visible else None,
        "ballots_published": disclosure.ballots_public if disclosure is not None else None,
        "options": (
            [
                {"option": total.option, "weight": _plain(total.weight), "ballots": total.ballots}
                for total in disclosure.options
            ]
            if disclosure is not None
            else None
        ),
    }


def notification(value) -> dict:
    return {
        "id": value.id,
        "kind": value.kind,
        "forum": value.forum.slug if value.forum is not None else None,
        "object_type": value.object_type,
        "object_id": value.object_id,
        "actor": value.actor.display_name if value.actor is not None else None,
        "data": _plain(dict(value.data or {})),
        "created_at": moment(value.created_at),
        "read_at": moment(value.read_at),
    }


def search_hit(hit) -> dict:
    return {
        "kind": hit.kind,
        "id": hit.object_id,
        "forum": hit.forum_slug,
        "plan_id": hit.plan_id,
        "target_key": hit.target_key,
        "ref": hit.ref,
        "label": hit.label,
        "identifier": hit.identifier,
        "status": hit.status,
        "language": hit.language,
        "snippet_html": str(hit.snippet),
        "rank": hit.rank,
        "created_at": moment(hit.created_at),
    }
