"""The votes' blueprint, the poll page every view of a vote shows, and the
template helpers for votes."""

import json
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_login import current_user

from ..consultations import services as consultations
from ..forums import services as forums
from ..plan_translations import services as plan_translations
from ..urls import safe_next
from . import (
    disclosure,
    explanation,
    explanation_text,
    integrity,
    permissions,
    queries,
)
from .forms import ReasonForm, ReceiptForm

bp = Blueprint("votes", __name__)

POLL = "/forums/<slug>/polls/<int:poll_id>"


def timezone_of(plan) -> str:
    consultation = consultations.consultation_of(plan)
    return consultation.timezone if consultation else "UTC"


def to_poll(poll):
    return redirect(url_for("votes.show", slug=poll.forum.slug, poll_id=poll.id))


# --- the list and the set-up ---------------------------------------------------------


def poll_page(poll, status: int = 200, **extra):
    plan = poll.plan
    visible = queries.results_visible(current_user, poll)
    result = None
    if visible:
        closed = poll.state.is_closed
        result = queries.stored_result(poll) if closed else integrity.live_result(poll)
    me = permissions.voter_status(current_user, poll)
    explained = explanation.explain(poll) if visible else None
    page = {
        "forum": poll.forum,
        "plan": plan,
        "poll": poll,
        "amendment": poll.amendment,
        "candidates": poll.candidates,
        "labels": queries.candidate_labels(poll),
        "me": me,
        "allowed": permissions.allowed(current_user, poll, me),
        "explanation": explained,
        "explanation_sentences": explanation_text.sentences(poll, explained) if explained else [],
        "option_rows": explanation_text.option_rows(poll, explained) if explained else [],
        "turnout": queries.turnout(poll) if poll.state.has_voters else None,
        "result": result,
        "chart_rows": explanation_text.chart_rows(poll, result),
        "named_votes": queries.named_votes(poll) if visible else [],
        "weighted": disclosure.weights_differ(poll),
        "min_ballots_per_weight": disclosure.MIN_BALLOTS_PER_WEIGHT,
        "disclosure": disclosure.disclosure(poll) if poll.state.is_closed else None,
        "can_manage": forums.can_manage(current_user, poll.forum),
        "timezone": timezone_of(plan),
        "reason_form": ReasonForm(formdata=None),
        "receipt_form": ReceiptForm(formdata=None),
        "submitted": {},
        "translations": (
            plan_translations.completeness(plan, poll.version)
            if poll.subject == "plan" and poll.version is not None
            else {}
        ),
    }
    page.update(extra)
    return render_template("votes/show.html", **page), status


# --- template helpers ----------------------------------------------------------------


@bp.app_template_global()
def poll_time(moment, timezone: str, fmt: str = "medium") -> str:
    """A moment in the time zone of the plan's consultation calendar."""
    if moment is None:
        return ""
    return format_datetime(moment.astimezone(ZoneInfo(timezone)), fmt, rebase=False)


@bp.app_template_global()
def poll_choice(poll, choice) -> str:
    """A choice in words: yes/no/abstain, or a ranking of the candidates."""
    return queries.choice_label(poll, choice)


@bp.app_template_global()
def named_choice(poll, named) -> str:
    return queries.choice_label(poll, json.loads(named.choice))


@bp.app_template_global()
def decimal_value(value) -> Decimal:
    return Decimal(value)


@bp.app_template_global()
def ballot_return_path() -> str | None:
    """Where the receipt page leads back to when a ballot is cast from another
    page than the vote's own (the assembly session's phone page): that page's
    path, the page itself rather than its live fragment (``…_live``)."""
    endpoint = request.endpoint or ""
    if not endpoint or endpoint.startswith("votes."):
        return None
    if endpoint.endswith("_live") and endpoint[: -len("_live")] in current_app.view_functions:
        return safe_next(url_for(endpoint[: -len("_live")], **(request.view_args or {})))
    return safe_next(request.path)
