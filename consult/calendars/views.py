from flask import Blueprint, Response, flash, redirect, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..consultations import services as consultations
from ..extensions import db
from ..timezones import force_timezone, member_zone
from . import services

bp = Blueprint("calendars", __name__)

ICS = "text/calendar; charset=utf-8"


@bp.get("/forums/<slug>/consultations/<int:consultation_id>/calendar.ics")
def consultation_calendar(slug, consultation_id):
    """The consultation's phases and votes, for whoever may read the consultation."""
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    body = services.consultation_calendar(consultation)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consultation-{consultation.id}.ics"'
    )
    return response


@bp.get("/calendar/<int:user_id>/<key>.ics")
def feed(user_id, key):
    """A member's personal feed: no session (calendar applications have none),
    the secret in the address is the key."""
    user = services.user_for_feed(user_id, key)
    with force_locale(user.locale), force_timezone(member_zone(user)):
        body = services.member_calendar(user)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/profile/calendar")
@login_required
def reset_feed():
    had = current_user.calendar_key is not None
    services.reset_feed(current_user._get_current_object())
    db.session.commit()
    if had:
        flash(_("Your calendar has a new address; the old one no longer works."), "success")
    else:
        flash(_("Your calendar address is ready: add it to your calendar application."), "success")
    return redirect(url_for("accounts.profile") + "#calendar-heading")


@bp.app_template_global()
def calendar_feed_url(user) -> str | None:
    return services.feed_url(user) if user and user.is_authenticated else None
