"""``/api/v1/``: what members propose, say and vote: amendments (list,
detail, proposal, support), comments (a thread, a new comment or reply) and
polls (with their results when the reader may see them). Thin handlers, as in
``views``: the services decide who may do what.
"""

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from ..amendments import proposing, queries, supports
from ..amendments.models import OPERATIONS, STATUSES
from ..comments import services as comments
from ..comments import threads as comment_threads
from ..comments.models import ALIGNMENTS, TARGET_TYPES
from ..comments.targets import get_comment
from ..config import LOCALES
from ..extensions import db
from ..forums import services as forums
from ..plans import services as plans
from ..votes import disclosure as votes_disclosure
from ..votes import integrity as votes_integrity
from ..votes import queries as votes_queries
from . import serializers
from .blueprint import FORUM, PLAN, actor, bp, require_write
from .inputs import (
    bad,
    bool_field,
    choice_query,
    id_field,
    idempotency_key,
    int_query,
    json_body,
    page_of,
    pages,
    text_field,
)

# --- amendments ---------------------------------------------------------------------


@bp.route(PLAN + "/amendments", methods=["GET", "POST"])
def amendments_of_plan(slug, plan_id):
    """One route for both methods: the forum is found (or not) the same way."""
    plan = plans.plan_for(actor(), slug, plan_id)
    if request.method == "POST":
        return _amendment_create(plan)
    return _amendment_list(plan)


def _amendment_list(plan):
    page, per_page = pages()
    target = request.args.get("target") or None
    target_keys = None
    if target is not None:
        version = plans.get_version(plan)
        target_keys = [plans.find_node(version, target[:60]).key]
    result = queries.list_amendments(
        actor(),
        plan,
        status=choice_query("status", STATUSES),
        target_keys=target_keys,
        author_id=int_query("author", maximum=2**31 - 1),
        sort=choice_query("sort", queries.SORTS) or "newest",
        page=page,
        per_page=per_page,
    )
    items = [serializers.amendment(a, result.supports.get(a.id, 0)) for a in result.items]
    return jsonify(serializers.page_of(items, result.page, result.per_page, result.total))


def _amendment_data(amendment) -> dict:
    return serializers.amendment(amendment, queries.support_tally(amendment)["members"])


@bp.get(FORUM + "/amendments/<id:amendment_id>")
def amendment_detail(slug, amendment_id):
    return jsonify(_amendment_data(queries.get_amendment(actor(), slug, amendment_id)))


def _amendment_create(plan):
    user = require_write()
    body = json_body()
    operation = text_field(body, "operation", required=True)
    if operation not in OPERATIONS:
        raise bad(_("Unknown kind of amendment."))
    language = text_field(body, "language") or None
    if language is not None and language not in LOCALES:
        raise bad(_("Unknown language."))
    amendment = proposing.propose(
        user,
        plan,
        target=text_field(body, "target")[:60] or None,
        operation=operation,
        text=text_field(body, "text"),
        justification=text_field(body, "justification"),
        language=language,
        submit=bool_field(body, "submit", True),
        form_token=idempotency_key(),
    )
    db.session.commit()
    data = _amendment_data(amendment)
    data["notice"] = amendment.submission_refused
    response = jsonify(data)
    response.status_code = 201
    response.headers["Location"] = url_for(
        "api.amendment_detail", slug=plan.forum.slug, amendment_id=amendment.id
    )
    return response


@bp.post(FORUM + "/amendments/<id:amendment_id>/support")
def amendment_support(slug, amendment_id):
    amendment = queries.get_amendment(actor(), slug, amendment_id)
    user = require_write()
    supports.support(user, amendment)
    db.session.commit()
    return jsonify(_amendment_data(amendment))


# --- comments -----------------------------------------------------------------------


def _comment_plan(forum, plan_id: int | None):
    return plans.get_plan(forum, plan_id) if plan_id is not None else None


@bp.route(FORUM + "/comments", methods=["GET", "POST"])
def comments_of_forum(slug):
    forum = forums.get_forum_for(actor(), slug)
    if request.method == "POST":
        return _comment_create(forum)
    return _comment_list(forum)


def _comment_list(forum):
    """One page of a thread: top-level comments, oldest first, with their replies."""
    target_type = choice_query("target_type", TARGET_TYPES)
    target_key = request.args.get("target_key", "")
    if target_type is None or not target_key:
        raise bad(_("Say which discussion: “target_type” and “target_key”."))
    plan = _comment_plan(forum, int_query("plan_id", maximum=2**31 - 1))
    page, per_page = pages()
    thread = comment_threads.thread(
        actor(), forum, plan, target_type, target_key[:40], page=page, per_page=per_page
    )
    items = [serializers.comment_entry(entry) for entry in thread.entries]
    data = serializers.page_of(items, thread.page, thread.per_page, thread.total)
    data["counts"] = thread.counts
    data["can_post"] = thread.can_post
    data["closed_reason"] = thread.closed_reason
    return jsonify(data)


def _comment_create(forum):
    user = require_write()
    body = json_body()
    target_type = text_field(body, "target_type", required=True)
    if target_type not in TARGET_TYPES:
        raise bad(_("Unknown kind of discussion."))
    plan = _comment_plan(forum, id_field(body, "plan_id"))
    alignment = text_field(body, "alignment", default="neutral")
    if alignment not in ALIGNMENTS:
        raise bad(_("Choose in favour, against or neutral."))
    parent_id = id_field(body, "parent_id")
    parent = get_comment(forum, parent_id) if parent_id is not None else None
    comment = comments.post_comment(
        user,
        forum,
        plan=plan,
        target_type=target_type,
        target_key=text_field(body, "target_key", required=True)[:40],
        body=text_field(body, "body", required=True),
        alignment=alignment,
        parent=parent,
        form_token=idempotency_key(),
    )
    db.session.commit()
    response = jsonify(serializers.comment_created(comment))
    response.status_code = 201
    return response


# --- polls ---------------------------------------------------------------------------


def _poll_data(poll) -> dict:
    user = actor()
    visible = votes_queries.results_visible(user, poll)
    results = None
    if visible:
        if poll.state == "closed":
            results = votes_queries.stored_result(poll)
        else:
            results = votes_integrity.live_result(poll)
    turnout = votes_queries.turnout(poll) if poll.state in ("open", "closed") else None
    # Once closed: the total of each option, per ballot only what singles nobody out.
    shown = votes_disclosure.disclosure(poll) if poll.state == "closed" else None
    return serializers.poll(
        poll, results=results, visible=visible, turnout=turnout, disclosure=shown
    )


@bp.get(FORUM + "/polls")
def poll_list(slug):
    forum = forums.get_forum_for(actor(), slug)
    page, per_page = pages()
    everything = votes_queries.list_polls(forum)
    items, page = page_of(everything, page, per_page)
    data = [
        serializers.poll(
            p, results=None, visible=votes_queries.results_visible(actor(), p), turnout=None
        )
        for p in items
    ]
    return jsonify(serializers.page_of(data, page, per_page, len(everything)))


@bp.get(FORUM + "/polls/<id:poll_id>")
def poll_detail(slug, poll_id):
    return jsonify(_poll_data(votes_queries.get_poll(actor(), slug, poll_id)))
