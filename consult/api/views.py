"""``/api/v1/``: thin handlers over the same services as the web pages.

Every handler parses, calls a service with the acting user, and serialises;
who may see or do what is the services' decision, never this module's. The
acting user is the owner of the Bearer token, else the signed-in member (whose
writes need the CSRF token, as forms do), else an anonymous visitor (who reads
public forums only). Tokens of the "read" scope cannot write.

Here: the OpenAPI document, who is asking, forums, plans and their versions,
the member's notifications and search. What members propose, say and vote
(amendments, comments, polls) is in ``participation_views``.
"""

from flask import g, jsonify, request
from flask_babel import gettext as _

from ..amendments.models import STATUSES
from ..extensions import db
from ..forums import groups as forum_groups
from ..forums import services as forums
from ..notifications import services as notifications
from ..plans import services as plans
from ..search import services as search
from ..search.models import KINDS
from . import openapi, serializers
from .blueprint import FORUM, MAX_ID, PLAN, actor, bp, require_write, unauthorised
from .inputs import bad, choice_query, int_query, page_of, pages

# --- the document -------------------------------------------------------------------


def _resolved(value):
    """The document with its (lazy) translated strings turned into text."""
    if isinstance(value, dict):
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_resolved(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_resolved(openapi.document()))


# --- who and what ----------------------------------------------------------------


@bp.get("/me")
def me():
    user = actor()
    if not user.is_authenticated:
        raise unauthorised(_("Sign in, or send an access token, to do this."))
    token = g.api_token
    return jsonify(
        {
            "id": user.id,
            "display_name": user.display_name,
            "locale": user.locale,
            "scope": token.scope if token is not None else "write",
            "token": token.name if token is not None else None,
        }
    )


@bp.get("/forums")
def forum_list():
    page, per_page = pages()
    visible = forums.forums_visible_to(actor())
    items, page = page_of(visible, page, per_page)
    return jsonify(
        serializers.page_of([serializers.forum(f) for f in items], page, per_page, len(visible))
    )


@bp.get(FORUM)
def forum_detail(slug):
    forum = forums.get_forum_for(actor(), slug)
    data = serializers.forum(forum)
    data["working_groups"] = [
        {"id": group.id, "slug": group.slug, "name": group.name, "members": count}
        for group, count in forum_groups.list_groups(forum)
    ]
    return jsonify(data)


# --- plans and versions ------------------------------------------------------------


def _plan(slug, plan_id):
    return plans.plan_for(actor(), slug, plan_id)


def _plan_data(plan) -> dict:
    number = plan.current_version.number if plan.current_version is not None else None
    return serializers.plan(plan, number)


@bp.get(FORUM + "/plans")
def plan_list(slug):
    forum = forums.get_forum_for(actor(), slug)
    page, per_page = pages()
    everything = plans.list_plans(forum)
    items, page = page_of(everything, page, per_page)
    return jsonify(
        serializers.page_of([_plan_data(p) for p in items], page, per_page, len(everything))
    )


@bp.get(PLAN)
def plan_detail(slug, plan_id):
    return jsonify(_plan_data(_plan(slug, plan_id)))


@bp.get(PLAN + "/versions")
def version_list(slug, plan_id):
    plan = _plan(slug, plan_id)
    page, per_page = pages()
    everything = plans.versions(plan)
    items, page = page_of(everything, page, per_page)
    return jsonify(
        serializers.page_of(
            [serializers.version(v) for v in items], page, per_page, len(everything)
        )
    )


@bp.get(PLAN + "/versions/<id:number>")
def version_detail(slug, plan_id, number):
    version = plans.get_version(_plan(slug, plan_id), number)
    return jsonify(serializers.version(version))


@bp.get(PLAN + "/versions/<id:number>/nodes")
def version_nodes(slug, plan_id, number):
    """The version's document tree in document order (``parent_key`` and
    ``depth`` give the tree), a page at a time."""
    version = plans.get_version(_plan(slug, plan_id), number)
    page, per_page = pages()
    everything = plans.version_nodes(version)
    items, page = page_of(everything, page, per_page)
    return jsonify(
        serializers.page_of([serializers.node(n) for n in items], page, per_page, len(everything))
    )


# --- notifications --------------------------------------------------------------------


def _signed_in():
    user = actor()
    if not user.is_authenticated:
        raise unauthorised(_("Sign in, or send an access token, to do this."))
    return user


@bp.get("/notifications")
def notification_list():
    user = _signed_in()
    page, per_page = pages()
    result = notifications.for_user(user, page=page, per_page=per_page)
    items = [serializers.notification(n) for n in result.items]
    data = serializers.page_of(items, result.page, result.per_page, result.total)
    data["unread"] = notifications.unread_count(user)
    return jsonify(data)


@bp.post("/notifications/read")
def notification_read():
    user = require_write()
    body = request.get_json(silent=True)
    ids = None
    if isinstance(body, dict) and body.get("ids") is not None:
        ids = body["ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids
        ):
            raise bad(_("“ids” must be a list of whole numbers."))
        ids = ids[:1000]
    notifications.mark_read(user, ids)
    db.session.commit()
    return jsonify({"unread": notifications.unread_count(user)})


# --- search ----------------------------------------------------------------------------


@bp.get("/search")
def search_documents():
    query = request.args.get("q", "")
    if not query.strip():
        raise bad(_("“%(name)s” is required.", name="q"))
    forum_slug = request.args.get("forum")
    kind = choice_query("type", KINDS)
    filters = search.SearchFilters(
        kinds=(kind,) if kind else (),
        forum=forums.get_forum_for(actor(), forum_slug) if forum_slug else None,
        plan_id=int_query("plan", maximum=2**31 - 1),
        group_id=int_query("group", maximum=2**31 - 1),
        status=choice_query("status", STATUSES),
    )
    page, per_page = pages()
    result = search.search(
        actor(), query, filters, page=page, per_page=min(per_page, search.MAX_PER_PAGE)
    )
    items = [serializers.search_hit(hit) for hit in result.hits]
    return jsonify(serializers.page_of(items, result.page, result.per_page, result.total))
