"""The sessions of a consultation, calling one, and the session's page with its
agenda editor. The console and the room's pages (projector, phones) are in
``console_views`` and ``room_views``, on the same blueprint."""

from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from ..accounts.models import User
from ..consultations import services as consultations
from ..database import read_only
from ..errors import NotFound, ServiceError
from ..extensions import db
from ..forums.models import Membership
from . import agenda, permissions, queries, sessions
from . import console_views as _console_views  # noqa: F401 (its routes)
from . import room_views as _room_views  # noqa: F401 (its routes)
from .blueprint import SESSION, act, bp, load, session_url
from .forms import MoveForm, PointForm, SessionForm, SpeakingRulesForm
from .models import SessionState

CONSULTATION = "/forums/<slug>/consultations/<int:consultation_id>/assembly"

__all__ = ["bp"]


@bp.get(CONSULTATION)
@read_only
def index(slug, consultation_id):
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    return render_template(
        "assembly/index.html",
        forum=consultation.forum,
        consultation=consultation,
        sessions=sessions.sessions_of(consultation),
        may_create=permissions.create_refusal(current_user, consultation) is None,
    )


def _chair_choices(consultation) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.forum_id == consultation.forum_id, Membership.role != "observer")
        .order_by(func.lower(User.display_name), User.id)
    ).all()
    return [(row.id, row.display_name) for row in rows]


def _session_input(form: SessionForm, timezone: str) -> sessions.SessionInput:
    starts_at = form.starts_at.data.replace(tzinfo=ZoneInfo(timezone))
    return sessions.SessionInput(
        title=form.title.data or "",
        starts_at=starts_at.astimezone(ZoneInfo("UTC")),
        place=form.place.data or "",
        online_url=form.online_url.data or "",
        chair_id=form.chair_id.data,
        default_speaking_seconds=form.default_speaking_seconds.data or 180,
        coalition_cap_seconds=form.coalition_cap_seconds.data,
        amendment_rule=form.amendment_rule.data,
        approval_rule=form.approval_rule.data,
        ranked_method=form.ranked_method.data,
        quorum_kind=form.quorum_kind.data,
        quorum_value=form.quorum_value.data or Decimal(0),
        quorum_base=form.quorum_base.data,
        secret=form.secret.data,
        max_proxies=form.max_proxies.data or 0,
    )


@bp.route(CONSULTATION + "/new", methods=["GET", "POST"])
@login_required
def create(slug, consultation_id):
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    permissions.enforce(permissions.create_refusal(current_user, consultation))
    form = SessionForm()
    form.chair_id.choices = _chair_choices(consultation)
    if request.method == "GET":
        form.title.data = _("Assembly: %(title)s", title=consultation.title)[:300]
        form.chair_id.data = current_user.id
    status = 200
    if form.validate_on_submit():
        try:
            created = sessions.create_session(
                current_user, consultation, _session_input(form, consultation.timezone)
            )
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = error.status
            field = getattr(form, getattr(error, "field", "") or "", None)
            if field is not None:
                field.errors = [*field.errors, error.message]
        else:
            db.session.commit()
            flash(_("The session has been called; its agenda is proposed below."), "success")
            return redirect(url_for("assembly.show", **session_url(created)))
    elif request.method == "POST":
        status = 400
    return render_template(
        "assembly/create.html",
        forum=consultation.forum,
        consultation=consultation,
        form=form,
    ), status


def _minutes_url(session) -> str | None:
    """The minutes' page, once there is a session to minute (their own page
    decides who reads them)."""
    if session.state is not SessionState.ADJOURNED:
        return None
    try:
        return url_for("assembly_minutes.show", **session_url(session))
    except BuildError:
        return None


@bp.get(SESSION)
@read_only
def show(slug, session_id):
    session = load(slug, session_id)
    point = queries.current_point(session)
    form = PointForm(formdata=None)
    agenda_points = queries.points(session)
    form.after.choices = [("", _("At the end"))] + [
        (p.id, _("After %(number)d. %(title)s", number=p.position, title=p.shown_title))
        for p in agenda_points
    ]
    allowed = permissions.allowed(current_user, session, point)
    return render_template(
        "assembly/show.html",
        forum=session.forum,
        consultation=session.consultation,
        assembly=session,
        points=agenda_points,
        current=point,
        presence=queries.presence(session),
        allowed=allowed,
        removable={
            p.id
            for p in agenda_points
            if permissions.remove_point_refusal(current_user, p, allowed.seat) is None
        },
        roll_call=queries.roll_call(session),
        minutes_url=_minutes_url(session),
        point_form=form,
        rules_form=SpeakingRulesForm(
            formdata=None,
            default_speaking_seconds=session.default_speaking_seconds,
            coalition_cap_seconds=session.coalition_cap_seconds,
        ),
    )


# --- the agenda editor -------------------------------------------------------------------


@bp.post(SESSION + "/points")
@login_required
def add_point(slug, session_id):
    session = load(slug, session_id)
    permissions.enforce(permissions.edit_agenda_refusal(current_user, session))
    form = PointForm()
    form.after.choices = []
    if not form.validate_on_submit():
        flash(_("Give the point a title."), "error")
        return redirect(url_for("assembly.show", **session_url(session)) + "#agenda")
    try:
        agenda.add_point(
            current_user,
            session,
            form.title.data,
            form.description.data or "",
            after_id=form.after.data,
        )
    except ServiceError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The point has been added to the agenda."), "success")
    return redirect(url_for("assembly.show", **session_url(session)) + "#agenda")


def _point(session, point_id):
    point = queries.get_point(session, point_id)
    if point is None:
        raise NotFound()
    return point


@bp.post(SESSION + "/points/<int:point_id>/move")
@login_required
def move_point(slug, session_id, point_id):
    def move(session, form):
        step = -1 if form.direction.data == "up" else 1
        agenda.move_point(current_user, _point(session, point_id), step)

    return act(slug, session_id, move, form_class=MoveForm)


@bp.post(SESSION + "/points/<int:point_id>/remove")
@login_required
def remove_point(slug, session_id, point_id):
    return act(
        slug,
        session_id,
        lambda session, form: agenda.remove_point(current_user, _point(session, point_id)),
        _("The point has been removed from the agenda."),
    )


@bp.post(SESSION + "/start")
@login_required
def start(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: sessions.start_session(current_user, session),
        _("The session is open."),
    )


@bp.post(SESSION + "/adjourn")
@login_required
def adjourn(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: sessions.adjourn_session(current_user, session),
        _("The session is adjourned."),
    )


@bp.post(SESSION + "/speaking-rules")
@login_required
def speaking_rules(slug, session_id):
    def update(session, form):
        sessions.update_speaking_rules(
            current_user,
            session,
            form.default_speaking_seconds.data,
            form.coalition_cap_seconds.data,
        )

    return act(
        slug,
        session_id,
        update,
        _("The speaking times are saved."),
        SpeakingRulesForm,
        guard=lambda session: permissions.edit_agenda_refusal(current_user, session),
    )
