"""The assembly's blueprint and what its views share: loading a session, and
one POST = one action (CSRF-checked form, service call, commit, back to the
page it came from)."""

from collections.abc import Callable

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from .. import live
from ..errors import InvalidInput, ServiceError
from ..extensions import db
from . import events, sessions
from .forms import ActionForm
from .models import AssemblySession
from .permissions import enforce

bp = Blueprint("assembly", __name__)

SESSION = "/forums/<slug>/assembly/<int:session_id>"
BACK_ENDPOINTS = {
    "session": "assembly.show",
    "console": "assembly.console",
    "phone": "assembly.phone",
}


@bp.record_once
def _register_channel(_state) -> None:
    events.register()


def load(slug, session_id) -> AssemblySession:
    return sessions.get_session(current_user, slug, session_id)


def back_to(session: AssemblySession, page: str, anchor: str = ""):
    url = url_for(BACK_ENDPOINTS.get(page, "assembly.show"), **session_url(session))
    return redirect(url + anchor)


def session_url(session: AssemblySession) -> dict:
    return {"slug": session.forum.slug, "session_id": session.id}


def act(
    slug,
    session_id,
    action: Callable[[AssemblySession, ActionForm], object],
    message: str | None = None,
    form_class: type[ActionForm] = ActionForm,
    guard: Callable[[AssemblySession], str | None] | None = None,
):
    """Load (404), ask ``guard`` (the action's rule, when its form has fields
    to check: so a stranger to the action is refused before the form is read),
    check the form, act, commit, go back. Refused because of who the actor is:
    the error page (403); because of where things stand or what was typed: the
    message, back on the page."""
    session = load(slug, session_id)
    form = form_class()
    try:
        if guard is not None:
            enforce(guard(session))
        if not form.validate_on_submit():
            errors = [str(error) for errors in form.errors.values() for error in errors]
            raise InvalidInput(" ".join(errors) or None)
        action(session, form)
    except ServiceError as error:
        db.session.rollback()
        if error.status in (403, 404):
            raise
        flash(error.message, "error")
        return back_to(session, form.back_page)
    db.session.commit()
    if message:
        flash(message, "success")
    return back_to(session, form.back_page)


def live_region(session: AssemblySession, endpoint: str) -> dict:
    """What a page's live region needs (see consult/static/js/live.js)."""
    channel = events.channel(session)
    return {
        "channel": channel,
        "src": url_for(endpoint, **session_url(session)),
        "last_id": live.last_id(channel),
    }
