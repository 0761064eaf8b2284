"""The chair's console: one screen to run the meeting, one POST per click."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..database import read_only, utcnow
from ..errors import NotFound
from . import agenda, pages, permissions, points, presence, queries, speakers
from .blueprint import SESSION, act, bp, live_region, load
from .forms import ActionForm, MarkForm, OutcomeForm, TimeLimitForm


def _console_context(session) -> dict:
    current = pages.floor(session)
    allowed = pages.allowed_on(current_user, current)
    permissions.enforce(permissions.run_refusal(current_user, session, allowed.seat))
    agenda_points = queries.points(session)
    return {
        "forum": session.forum,
        "assembly": session,
        "floor": current,
        "allowed": allowed,
        "points": agenda_points,
        "may_take_up": {
            point.id
            for point in agenda_points
            if permissions.take_up_refusal(
                current_user, point, current.point, current.poll, allowed.seat
            )
            is None
        },
        "next_point": queries.next_point(session, current.point),
        "delegates": queries.delegates(session),
        "now": utcnow(),
        "action_form": ActionForm(formdata=None, back="console"),
        "time_form": TimeLimitForm(formdata=None, back="console"),
        "outcome_form": OutcomeForm(
            formdata=None, back="console", text=current.point.outcome if current.point else ""
        ),
        "may_note_outcome": current.point is not None
        and permissions.outcome_refusal(current_user, current.point, allowed.seat) is None,
    }


@bp.get(SESSION + "/console")
@login_required
@read_only
def console(slug, session_id):
    session = load(slug, session_id)
    return render_template(
        "assembly/console.html",
        live=live_region(session, "assembly.console_live"),
        **_console_context(session),
    )


@bp.get(SESSION + "/console/live")
@login_required
@read_only
def console_live(slug, session_id):
    """The console's live region alone (re-fetched on each event of the session)."""
    session = load(slug, session_id)
    return render_template("assembly/_console.html", **_console_context(session))


def _floor_point(session):
    """The point on the floor, for the chair (a delegate is refused first: 403)."""
    permissions.enforce(permissions.run_refusal(current_user, session))
    return points.point_on_floor(session)


@bp.post(SESSION + "/move-on")
@login_required
def move_on(slug, session_id):
    return act(slug, session_id, lambda session, form: agenda.move_on(current_user, session))


@bp.post(SESSION + "/points/<int:point_id>/take-up")
@login_required
def take_up(slug, session_id, point_id):
    def take(session, form):
        point = queries.get_point(session, point_id)
        if point is None:
            raise NotFound()
        agenda.take_up(current_user, point)

    return act(slug, session_id, take)


@bp.post(SESSION + "/points/<int:point_id>/outcome")
@login_required
def note_outcome(slug, session_id, point_id):
    def note(session, form):
        point = queries.get_point(session, point_id)
        if point is None:
            raise NotFound()
        agenda.note_outcome(current_user, point, form.text.data or "")

    return act(
        slug,
        session_id,
        note,
        _("The outcome is noted."),
        OutcomeForm,
        guard=lambda session: permissions.edit_agenda_refusal(current_user, session),
    )


@bp.post(SESSION + "/vote/open")
@login_required
def open_vote(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: points.open_vote(current_user, _floor_point(session)),
        _("The vote is open."),
    )


@bp.post(SESSION + "/vote/close")
@login_required
def close_vote(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: points.close_vote(current_user, _floor_point(session)),
        _("The vote is closed and counted."),
    )


@bp.post(SESSION + "/speakers/next")
@login_required
def call_next(slug, session_id):
    return act(slug, session_id, lambda session, form: speakers.call_next(current_user, session))


@bp.post(SESSION + "/speakers/finish")
@login_required
def finish_speaker(slug, session_id):
    return act(slug, session_id, lambda session, form: speakers.finish(current_user, session))


@bp.post(SESSION + "/speakers/time")
@login_required
def time_limit(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: speakers.set_time_limit(current_user, session, form.seconds.data),
        form_class=TimeLimitForm,
        guard=lambda session: permissions.time_limit_refusal(current_user, session),
    )


@bp.post(SESSION + "/presence/mark")
@login_required
def mark_presence(slug, session_id):
    def mark(session, form):
        user_id = form.user_id.data or ""
        user_id = (
            int(user_id) if user_id.isascii() and user_id.isdigit() and len(user_id) < 10 else None
        )
        presence.mark(current_user, session, user_id, form.present.data == "1")

    return act(
        slug,
        session_id,
        mark,
        form_class=MarkForm,
        guard=lambda session: permissions.mark_presence_refusal(current_user, session),
    )
