"""The search page, and ``consult search reindex``."""

import click
from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..amendments.models import STATUSES, AmendmentStatus
from ..extensions import db
from ..forums import groups as forum_groups
from ..forums import services as forums
from ..plans import services as plans
from . import index, services
from .models import KINDS

bp = Blueprint("search", __name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        abort(400)
    return int(value)


def _choice_arg(name: str, allowed) -> str | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in allowed:
        abort(400)
    return value


@bp.get("/search")
def index_page():
    query = request.args.get("q", "")[: services.MAX_QUERY_LENGTH]
    kind = _choice_arg("type", KINDS)
    status = _choice_arg("status", STATUSES)
    forum_slug = request.args.get("forum", "")
    forum = forums.get_forum_for(current_user, forum_slug) if forum_slug else None
    filters = services.SearchFilters(
        kinds=(kind,) if kind else (),
        forum=forum,
        plan_id=_int_arg("plan") if forum else None,
        group_id=_int_arg("group") if forum else None,
        status=status,
    )
    page = services.search(current_user, query, filters, page=_int_arg("page") or 1)
    return render_template(
        "search/index.html",
        query=query,
        page=page,
        filters=filters,
        kind=kind,
        forum=forum,
        forum_choices=forums.forums_visible_to(current_user),
        plan_choices=plans.list_plans(forum) if forum else [],
        group_choices=[group for group, _count in forum_groups.list_groups(forum)] if forum else [],
        kind_labels=services.KIND_LABELS,
        status_choices=AmendmentStatus.choices(),
        searched=bool(services.parse_query(query)),
    )


@bp.cli.command("reindex")
def reindex_command():
    """Rebuild the whole search index from the plans, amendments and comments."""
    count = index.reindex_all(db.session.connection())
    db.session.commit()
    click.echo(f"search index rebuilt: {count} documents")
