from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..accounts.services import set_locale
from ..extensions import db
from ..forums.services import forums_visible_to
from ..i18n import valid_locale
from ..urls import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
def index():
    return render_template("core/index.html", forums=forums_visible_to(current_user))


@bp.post("/language")
def switch_language():
    """Keep the chosen language in the session, and as the member's preference."""
    form = FlaskForm()
    locale = valid_locale(request.form.get("locale"))
    if form.validate_on_submit() and locale:
        session["locale"] = locale
        if current_user.is_authenticated:
            set_locale(current_user, locale)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


@bp.get("/healthz")
def health():
    return {"status": "ok"}
