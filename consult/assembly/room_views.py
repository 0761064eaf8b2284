"""The room: the projector on the wall and each delegate's phone. Both follow
the session live; whoever reads the forum may open them, and only the
delegates summoned get the buttons (check in, ask to speak, vote)."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..database import read_only, utcnow
from . import pages, permissions, points, presence, speakers
from .blueprint import SESSION, act, bp, live_region, load
from .forms import ActionForm, ProxyForm, SpeakForm


def _projector_context(session) -> dict:
    current = pages.floor(session, text=True)
    return {
        "forum": session.forum,
        "assembly": session,
        "floor": current,
        "now": utcnow(),
    }


@bp.get(SESSION + "/projector")
@read_only
def projector(slug, session_id):
    session = load(slug, session_id)
    return render_template(
        "assembly/projector.html",
        live=live_region(session, "assembly.projector_live"),
        **_projector_context(session),
    )


@bp.get(SESSION + "/projector/live")
@read_only
def projector_live(slug, session_id):
    session = load(slug, session_id)
    return render_template("assembly/_projector.html", **_projector_context(session))


def _phone_context(session) -> dict:
    current = pages.floor(session, text=True)
    allowed = pages.allowed_on(current_user, current)
    mine = pages.ballots(current_user, current)
    proxy_form = ProxyForm(formdata=None, back="phone")
    if mine.status is not None:
        # No one chosen beforehand: a vote is handed to the delegate one picks.
        proxy_form.holder.choices = [("", "—")] + [
            (u.id, u.display_name) for u in mine.status.proxy_candidates
        ]
    user_id = getattr(current_user, "id", None)
    return {
        "forum": session.forum,
        "assembly": session,
        "floor": current,
        "allowed": allowed,
        "mine": mine,
        "place": pages.place_in_queue(current, user_id),
        "now": utcnow(),
        "action_form": ActionForm(formdata=None, back="phone"),
        "speak_form": SpeakForm(formdata=None, back="phone"),
        "proxy_form": proxy_form,
    }


@bp.get(SESSION + "/phone")
@read_only
def phone(slug, session_id):
    session = load(slug, session_id)
    return render_template(
        "assembly/phone.html",
        live=live_region(session, "assembly.phone_live"),
        **_phone_context(session),
    )


@bp.get(SESSION + "/phone/live")
@read_only
def phone_live(slug, session_id):
    session = load(slug, session_id)
    return render_template("assembly/_phone.html", **_phone_context(session))


# --- a delegate's clicks ------------------------------------------------------------------


@bp.post(SESSION + "/check-in")
@login_required
def check_in(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: presence.check_in(current_user, session),
        _("You are checked in."),
    )


@bp.post(SESSION + "/check-out")
@login_required
def check_out(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: presence.check_out(current_user, session),
        _("You are checked out."),
    )


@bp.post(SESSION + "/speakers/ask")
@login_required
def ask_to_speak(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: speakers.ask(current_user, session, form.side.data),
        _("You are on the list of speakers."),
        SpeakForm,
        guard=lambda session: permissions.speak_refusal(current_user, session),
    )


@bp.post(SESSION + "/speakers/<int:request_id>/withdraw")
@login_required
def withdraw(slug, session_id, request_id):
    return act(
        slug,
        session_id,
        lambda session, form: speakers.withdraw(
            current_user, speakers.request_of(session, request_id)
        ),
        _("You are no longer on the list of speakers."),
    )


@bp.post(SESSION + "/proxy")
@login_required
def hand_proxy(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: points.hand_proxy(
            current_user, points.point_on_floor(session), form.holder.data
        ),
        _("Your vote on this point is carried by the delegate you chose."),
        ProxyForm,
        guard=lambda session: permissions.proxy_refusal(current_user, session),
    )


@bp.post(SESSION + "/proxy/revoke")
@login_required
def take_proxy_back(slug, session_id):
    return act(
        slug,
        session_id,
        lambda session, form: points.take_proxy_back(current_user, points.point_on_floor(session)),
        _("You have taken your vote back."),
        guard=lambda session: permissions.proxy_refusal(current_user, session),
    )
