import json
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..accounts.models import User
from ..amendments.models import Amendment
from ..consultations import services as consultations
from ..errors import InvalidInput, NotFound, ServiceError
from ..extensions import db
from ..forums import services as forums
from ..plan_translations import services as plan_translations
from ..plans import services as plans
from . import (
    casting,
    explanation,
    exports,
    integrity,
    lifecycle,
    permissions,
    proxies,
    scheduling,
    setup,
)
from . import disclosure as votes_disclosure
from . import queries as votes_queries
from .forms import METHOD_LABELS, RULE_LABELS, PollForm, ReasonForm, ReceiptForm

bp = Blueprint("votes", __name__)

POLL = "/forums/<slug>/polls/<int:poll_id>"
STATE_LABELS = {
    "draft": _l("to open"),
    "open": _l("open"),
    "closed": _l("closed"),
    "cancelled": _l("cancelled"),
}
SUBJECT_LABELS = {
    "amendment": _l("An amendment"),
    "competing": _l("Competing amendments on one item"),
    "plan": _l("Approval of the plan"),
}


def _timezone(plan) -> str:
    consultation = consultations.consultation_of(plan)
    return consultation.timezone if consultation else "UTC"


def _to_utc(value: datetime | None, timezone: str) -> datetime | None:
    return value.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC) if value else None


def _to_poll(poll):
    return redirect(url_for("votes.show", slug=poll.forum.slug, poll_id=poll.id))


# --- the list and the set-up ---------------------------------------------------------


@bp.get("/forums/<slug>/polls/")
def index(slug):
    forum = forums.get_forum_for(current_user, slug)
    return render_template(
        "votes/index.html",
        forum=forum,
        polls=votes_queries.list_polls(forum),
        timezones=votes_queries.plan_timezones(forum),
        can_manage=forums.can_manage(current_user, forum),
    )


def _subject_from_request(plan):
    """What the new poll is about, from the link that led here."""
    subject = request.args.get("subject", "plan")
    amendment = None
    key = None
    if subject == "amendment":
        value = request.args.get("amendment", "")
        amendment_id = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0
        amendment = db.session.get(Amendment, amendment_id) if amendment_id else None
        if amendment is None or amendment.plan_id != plan.id:
            raise NotFound()
    elif subject == "competing":
        key = request.args.get("key", "")
        if not key or len(key) > 16:
            raise NotFound()
    elif subject != "plan":
        raise NotFound()
    return subject, amendment, key


def _fill_choices(form: PollForm, plan, consultation) -> None:
    form.working_group.choices = [("", _("(choose a group)"))] + [
        (group.id, group.name) for group, _count in forums.list_groups(plan.forum)
    ]
    # The phases a vote can still follow: those that allow voting and are not over.
    phases = (
        [p for p in consultation.phases if p.allow_vote and p.state != "closed"]
        if consultation
        else []
    )
    form.phase.choices = [("", _("(not tied to a phase)"))] + [
        (
            phase.id,
            f"{phase.title or consultations.PHASE_LABELS[phase.kind]} · "
            f"{consultations.local_time(consultation, phase.starts_at, 'short')} \u2013 "
            f"{consultations.local_time(consultation, phase.ends_at, 'short')}",
        )
        for phase in phases
    ]


@bp.route("/forums/<slug>/plans/<int:plan_id>/polls/new", methods=["GET", "POST"])
@login_required
def create(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    subject, amendment, key = _subject_from_request(plan)
    consultation = consultations.consultation_of(plan)
    timezone = _timezone(plan)
    form = PollForm()
    _fill_choices(form, plan, consultation)
    competing = setup.competing_amendments(plan, key) if subject == "competing" else []
    if request.method == "GET":
        form.scope.data = "assembly" if subject == "plan" else "group"
        form.method.data = "schulze" if subject == "competing" else "yesno"
        vote_phase = setup.suggested_phase(consultation, subject)
        form.phase.data = vote_phase.id if vote_phase is not None else None
        if subject != "plan":
            form.working_group.data = setup.group_in_charge(
                plan, amendment.target_key if amendment else key
            )
    status = 200
    if form.validate_on_submit():
        phase = next(
            (p for p in (consultation.phases if consultation else []) if p.id == form.phase.data),
            None,
        )
        group = next(
            (g for g, _count in forums.list_groups(plan.forum) if g.id == form.working_group.data),
            None,
        )
        settings = setup.PollSettings(
            title=form.title.data or "",
            description=form.description.data or "",
            method=form.method.data if subject == "competing" else "yesno",
            secret=form.secret.data,
            rule=form.rule.data,
            quorum_kind=form.quorum_kind.data,
            quorum_value=form.quorum_value.data or Decimal(0),
            quorum_base=form.quorum_base.data,
            abstentions_count=form.abstentions_count.data,
            hide_results=form.hide_results.data,
            allow_change=form.allow_change.data,
            max_proxies=form.max_proxies.data or 0,
            include_status_quo=form.include_status_quo.data,
        )
        try:
            poll = setup.create_poll(
                current_user,
                plan,
                subject=subject,
                scope=form.scope.data,
                group=group,
                amendment=amendment,
                target_key=key,
                phase=phase,
                opens_at=_to_utc(form.opens_at.data, timezone),
                closes_at=_to_utc(form.closes_at.data, timezone),
                settings=settings,
            )
            scheduling.advance_polls()
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
            field = getattr(form, getattr(error, "field", "") or "", None)
            if field is not None:
                # Beside the field it is about, as well as in the banner.
                field.errors = [*field.errors, error.message]
        else:
            db.session.commit()
            flash(_("The vote has been set up."), "success")
            return _to_poll(poll)
    elif request.method == "POST":
        status = 400
    return render_template(
        "votes/new.html",
        forum=plan.forum,
        plan=plan,
        form=form,
        subject=subject,
        amendment=amendment,
        competing=competing,
        timezone=timezone,
        consultation=consultation,
    ), status


# --- the poll page ---------------------------------------------------------------------


def _chart_rows(poll, result: dict | None) -> list[tuple[str, Decimal]]:
    if not result:
        return []
    details = result["tally"]
    if not poll.is_ranked:
        return [
            (str(votes_queries.CHOICE_LABELS[choice]), Decimal(details[choice]))
            for choice in ("yes", "no", "abstain")
        ]
    labels = votes_queries.candidate_labels(poll)
    if poll.method == "irv":
        last = details["rounds"][-1]["counts"] if details["rounds"] else {}
        return [(labels.get(name, name), Decimal(value)) for name, value in last.items()]
    paths = details["strongest_paths"]
    return [
        (
            labels.get(name, name),
            Decimal(sum(1 for other in paths[name] if paths[name][other] > paths[other][name])),
        )
        for name in details["ranking"]
    ]


def _poll_page(poll, status: int = 200, **extra):
    plan = poll.plan
    visible = votes_queries.results_visible(current_user, poll)
    result = None
    if visible:
        result = (
            votes_queries.stored_result(poll)
            if poll.state == "closed"
            else integrity.live_result(poll)
        )
    me = votes_queries.voter_status(current_user, poll)
    explained = explanation.explain(poll) if visible else None
    page = {
        "forum": poll.forum,
        "plan": plan,
        "poll": poll,
        "amendment": poll.amendment,
        "candidates": poll.candidates,
        "labels": votes_queries.candidate_labels(poll),
        "me": me,
        "allowed": permissions.allowed(current_user, poll, me),
        "explanation": explained,
        "explanation_sentences": explanation.sentences(poll, explained) if explained else [],
        "option_rows": explanation.option_rows(poll, explained) if explained else [],
        "turnout": votes_queries.turnout(poll) if poll.state in ("open", "closed") else None,
        "result": result,
        "chart_rows": _chart_rows(poll, result),
        "named_votes": votes_queries.named_votes(poll) if visible else [],
        "weighted": votes_disclosure.weights_differ(poll),
        "min_ballots_per_weight": votes_disclosure.MIN_BALLOTS_PER_WEIGHT,
        "disclosure": votes_disclosure.disclosure(poll) if poll.state == "closed" else None,
        "can_manage": forums.can_manage(current_user, poll.forum),
        "timezone": _timezone(plan),
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


@bp.get(POLL)
def show(slug, poll_id):
    return _poll_page(votes_queries.get_poll(current_user, slug, poll_id))


def _ballot_from_form(poll):
    """The ballot as the form sent it: a choice, or a ranking from the rank menus."""
    if not poll.is_ranked:
        return request.form.get("choice", "")
    ranks = []
    for candidate in poll.candidates:
        value = request.form.get(f"rank-{candidate.name}", "")
        if value:
            if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= len(
                poll.candidates
            ):
                raise InvalidInput(_("Choose a rank from the list."))
            ranks.append((int(value), candidate.name))
    if len({rank for rank, _name in ranks}) != len(ranks):
        raise InvalidInput(_("Give each option a different rank."))
    return [name for _rank, name in sorted(ranks)]


def _int_field(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


@bp.post(POLL + "/vote")
@login_required
def vote(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    on_behalf_of = _int_field("on_behalf_of")
    try:
        choice = _ballot_from_form(poll)
        code = casting.cast(
            current_user,
            poll,
            choice,
            on_behalf_of=on_behalf_of,
            receipt=request.form.get("receipt", "").strip() or None,
        )
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _poll_page(poll, error.status, submitted=request.form.to_dict())
    voter = None
    if on_behalf_of is not None:
        voter = db.session.get(User, on_behalf_of)
    # The receipt code is shown here once and stored nowhere in the clear, so this
    # page is not a redirect: a redirect would have to carry it in the session.
    # It is rendered before the commit, from what this request has read (the
    # commit expires it all, and reading it again would cost four queries), and
    # sent only once the commit has succeeded.
    page = render_template(
        "votes/receipt.html",
        forum=poll.forum,
        poll=poll,
        code=code,
        choice=votes_queries.choice_label(poll, casting.parse_choice(poll, choice)),
        voter=voter,
    )
    db.session.commit()
    return page


@bp.post(POLL + "/receipt")
def receipt(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        flash(_("Enter the receipt code you received when voting."), "error")
        return _poll_page(poll, 400, receipt_form=form)
    try:
        choice = casting.check_receipt(poll, form.code.data)
    except ServiceError as error:
        flash(error.message, "error")
        return _poll_page(poll, error.status)
    return _poll_page(
        poll,
        200,
        receipt_form=form,
        receipt_checked=True,
        receipt_choice=votes_queries.choice_label(poll, choice) if choice is not None else None,
    )


def _manage(slug, poll_id, action, message):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    forums.require_manage(current_user, poll.forum)
    try:
        done = action(poll)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _poll_page(poll, error.status)
    db.session.commit()
    if done is not False:
        flash(message, "success")
    return _to_poll(poll)


@bp.post(POLL + "/open")
@login_required
def open_now(slug, poll_id):
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.open_poll(current_user, poll),
        _("The vote is open."),
    )


@bp.post(POLL + "/close")
@login_required
def close_now(slug, poll_id):
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.close_poll(current_user, poll),
        _("The vote is closed and counted."),
    )


@bp.post(POLL + "/cancel")
@login_required
def cancel(slug, poll_id):
    form = ReasonForm()
    return _manage(
        slug,
        poll_id,
        lambda poll: lifecycle.cancel_poll(current_user, poll, form.reason.data or ""),
        _("The vote has been cancelled."),
    )


@bp.post(POLL + "/proxy")
@login_required
def grant_proxy(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    try:
        proxy = proxies.grant_proxy(current_user, poll, _int_field("holder"))
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _poll_page(poll, error.status)
    name = proxy.holder.display_name if proxy.holder else ""
    db.session.commit()
    flash(_("%(name)s now carries your vote in this poll.", name=name), "success")
    return _to_poll(poll)


@bp.post(POLL + "/proxy/revoke")
@login_required
def revoke_proxy(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    try:
        proxies.revoke_proxy(current_user, poll)
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _poll_page(poll, error.status)
    db.session.commit()
    flash(_("You have taken your vote back; you can cast it yourself."), "success")
    return _to_poll(poll)


@bp.route(POLL + "/roll-call", methods=["GET", "POST"])
@login_required
def roll_call(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    forums.require_manage(current_user, poll.forum)
    status = 200
    if request.method == "POST":
        present = {
            int(value)
            for value in request.form.getlist("present")
            if value.isascii() and value.isdigit() and len(value) < 10
        }
        try:
            count = proxies.set_presence(current_user, poll, present)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
        else:
            db.session.commit()
            flash(_("Roll call saved: %(count)d present.", count=count), "success")
            return redirect(url_for("votes.roll_call", slug=slug, poll_id=poll.id))
    return render_template(
        "votes/roll_call.html",
        forum=poll.forum,
        poll=poll,
        voters=votes_queries.electorate(poll),
        allowed=permissions.allowed(current_user, poll),
    ), status


# --- exports -------------------------------------------------------------------------


def _download(content: str, mimetype: str, name: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get(POLL + "/results.json")
def results_json(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    document = exports.results_document(poll)
    return _download(
        json.dumps(document, ensure_ascii=False, indent=2),
        "application/json",
        exports.filename(poll, "json"),
    )


@bp.get(POLL + "/results.csv")
def results_csv(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    return _download(exports.results_csv(poll), "text/csv", exports.filename(poll, "csv"))


@bp.get(POLL + "/ballots.json")
@login_required
def ballots_json(slug, poll_id):
    """Every ballot with its weight, for those who run the forum's votes."""
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    document = exports.audit_document(current_user, poll)
    return _download(
        json.dumps(document, ensure_ascii=False, indent=2),
        "application/json",
        exports.audit_filename(poll, "json"),
    )


@bp.get(POLL + "/ballots.csv")
@login_required
def ballots_csv(slug, poll_id):
    poll = votes_queries.get_poll(current_user, slug, poll_id)
    return _download(
        exports.audit_csv(current_user, poll), "text/csv", exports.audit_filename(poll, "csv")
    )


# --- template helpers ----------------------------------------------------------------


@bp.app_template_global()
def poll_state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.app_template_global()
def poll_subject_label(subject: str) -> str:
    return str(SUBJECT_LABELS.get(subject, subject))


@bp.app_template_global()
def poll_method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


@bp.app_template_global()
def poll_rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


@bp.app_template_global()
def poll_time(moment, timezone: str, fmt: str = "medium") -> str:
    """A moment in the time zone of the plan's consultation calendar."""
    if moment is None:
        return ""
    return format_datetime(moment.astimezone(ZoneInfo(timezone)), fmt, rebase=False)


@bp.app_template_global()
def poll_choice_label(poll, choice) -> str:
    return votes_queries.choice_label(poll, choice)


@bp.app_template_global()
def named_choice_label(poll, named) -> str:
    return votes_queries.choice_label(poll, json.loads(named.choice))


@bp.app_template_global()
def decimal_value(value) -> Decimal:
    return Decimal(value)
