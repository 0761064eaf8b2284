"""The list of votes, setting one up, and the poll page."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..amendments.models import Amendment
from ..consultations import services as consultations
from ..errors import NotFound, ServiceError
from ..extensions import db
from ..forums import services as forums
from ..plans import services as plans
from ..whole_pages import kept_per_reader

# ballot_views and download_views add their routes to the same blueprint.
from . import ballot_views, download_views, lifecycle, queries, setup  # noqa: F401
from .blueprint import POLL, bp, poll_page, timezone_of, to_poll
from .forms import PollForm, settings_from


def _to_utc(value: datetime | None, timezone: str) -> datetime | None:
    return value.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC) if value else None


@bp.get("/forums/<slug>/polls/")
def index(slug):
    forum = forums.get_forum_for(current_user, slug)
    return render_template(
        "votes/index.html",
        forum=forum,
        polls=queries.list_polls(forum),
        timezones=queries.plan_timezones(forum),
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
            f"{phase.shown_title} · "
            f"{consultations.local_time(consultation, phase.starts_at, 'short')} \u2013 "
            f"{consultations.local_time(consultation, phase.ends_at, 'short')}",
        )
        for phase in phases
    ]


def _suggest(form: PollForm, plan, consultation, subject: str, target_key) -> None:
    """The form's first values: who most likely votes, how, and after which phase."""
    form.scope.data = "assembly" if subject == "plan" else "group"
    form.method.data = "schulze" if subject == "competing" else "yesno"
    vote_phase = setup.suggested_phase(consultation, subject)
    form.phase.data = vote_phase.id if vote_phase is not None else None
    if subject != "plan":
        form.working_group.data = setup.group_in_charge(plan, target_key)


def _create_poll(form: PollForm, plan, consultation, subject, amendment, key, timezone):
    """The vote the form describes, opened at once when its time has come."""
    phases = consultation.phases if consultation else []
    phase = next((p for p in phases if p.id == form.phase.data), None)
    groups = forums.list_groups(plan.forum)
    group = next((g for g, _count in groups if g.id == form.working_group.data), None)
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
        settings=settings_from(form, subject),
    )
    lifecycle.open_if_due(poll)
    return poll


@bp.route("/forums/<slug>/plans/<int:plan_id>/polls/new", methods=["GET", "POST"])
@login_required
def create(slug, plan_id):
    plan = plans.plan_for(current_user, slug, plan_id)
    forums.require_manage(current_user, plan.forum)
    subject, amendment, key = _subject_from_request(plan)
    consultation = consultations.consultation_of(plan)
    timezone = timezone_of(plan)
    form = PollForm()
    _fill_choices(form, plan, consultation)
    competing = setup.competing_amendments(plan, key) if subject == "competing" else []
    if request.method == "GET":
        _suggest(form, plan, consultation, subject, amendment.target_key if amendment else key)
    status = 200
    if form.validate_on_submit():
        try:
            poll = _create_poll(form, plan, consultation, subject, amendment, key, timezone)
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
            return to_poll(poll)
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


@bp.get(POLL)
@kept_per_reader
def show(slug, poll_id):
    return poll_page(queries.get_poll(current_user, slug, poll_id))
