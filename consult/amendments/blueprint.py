"""The amendments' blueprint and what its views share: the routes live in
``views`` (an item, proposing, lists), ``amendment_views`` (one amendment and
what can be done with it) and ``facilitation_views`` (compromises, imports,
the plan's settings)."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from ..comments import services as comments
from ..plans import services as plans

bp = Blueprint("amendments", __name__)

PLAN = "/forums/<slug>/plans/<int:plan_id>"
AMENDMENT = "/forums/<slug>/amendments/<int:amendment_id>"


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        abort(400)
    return int(value)


def plan_node(plan, key):
    version = plans.get_version(plan)
    return version, plans.find_node(version, key)


def comment_thread(plan, target_type: str, target_key: str):
    """The comment thread of a target, when the comments feature provides one."""
    return comments.thread(current_user, plan.forum, plan, target_type, target_key, page=1)


def to_detail(amendment):
    return redirect(
        url_for("amendments.detail", slug=amendment.plan.forum.slug, amendment_id=amendment.id)
    )
