"""Two-step sign-in pages: the code after the password, setting it up on the
profile, and the platform's setting (see accounts/two_step.py)."""

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..database import utcnow
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..urls import safe_next
from . import throttle
from . import two_step as service
from .forms import PasswordCheckForm, TwoStepCodeForm, TwoStepPolicyForm, TwoStepSetupForm
from .models import User
from .views import bp, client_address, flash_offered_zone, sign_in_user

# How long the password stays good for while the code is asked.
PENDING_SECONDS = 300
PENDING_KEY = "two_step_pending"
# Set at sign-in for someone who must set it up (the platform requires it).
MUST_SET_UP_KEY = "two_step_must_set_up"
_OPEN_WHILE_SETTING_UP = {
    "accounts.two_step",
    "accounts.two_step_start",
    "accounts.two_step_confirm",
    "accounts.sign_out",
    "static",
}


def ask_code(user: User, next_url: str, offered_zone: str | None):
    """The password was right: remember who signed in (for a few minutes) and ask the code."""
    db.session.commit()
    session[PENDING_KEY] = {"u": user.id, "t": int(time.time()), "n": next_url, "z": offered_zone}
    return redirect(url_for("accounts.two_step_sign_in"))


def mark_if_required(user: User) -> None:
    """Called once signed in: someone who must use two-step sign-in and does not
    yet is sent to set it up before anything else."""
    if not user.has_two_step and service.required_for(user):
        session[MUST_SET_UP_KEY] = True


@bp.before_app_request
def send_to_set_up():
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None  # a visitor: their session is not even opened (no Vary: Cookie)
    if not session.get(MUST_SET_UP_KEY) or request.endpoint in _OPEN_WHILE_SETTING_UP:
        return None
    if not current_user.is_authenticated or current_user.has_two_step:
        session.pop(MUST_SET_UP_KEY, None)
        return None
    flash(
        _("Two-step sign-in is required for facilitators and administrators on this platform."),
        "error",
    )
    return redirect(url_for("accounts.two_step"))


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("u"), int):
        return None
    if time.time() - pending.get("t", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending["u"])
    if user is None or not user.active or not user.has_two_step:
        return None
    return user


@bp.route("/sign-in/two-step", methods=["GET", "POST"])
def two_step_sign_in():
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(
            _("Please sign in again: too much time passed, or the sign-in was not started."),
            "error",
        )
        return redirect(url_for("accounts.sign_in"))
    form = TwoStepCodeForm()
    if not form.validate_on_submit():
        return render_template("accounts/two_step_sign_in.html", form=form), (
            400 if request.method == "POST" else 200
        )
    now = utcnow()
    device = throttle.known_device(request.cookies.get(throttle.KNOWN_DEVICE_COOKIE), user)
    client = f"device:{device}" if device else client_address()
    try:
        throttle.check_sign_in(user.email, client, known=device is not None, now=now)
    except throttle.Throttled as error:
        db.session.rollback()
        flash(error.message, "error")
        response = current_app.make_response(
            (render_template("accounts/two_step_sign_in.html", form=form), 429)
        )
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    if not service.verify(user, form.code.data, now):
        throttle.record_sign_in_failure(user.email, client, now)
        db.session.commit()
        form.code.errors = [_("This code is not correct, or was already used.")]
        return render_template("accounts/two_step_sign_in.html", form=form), 401
    pending = session.get(PENDING_KEY)
    sign_in_user(user)
    flash(_("Welcome, %(name)s.", name=user.display_name), "success")
    flash_offered_zone(pending.get("z"))
    return redirect(safe_next(pending.get("n") or "") or url_for("core.index"))


# --- on the profile ----------------------------------------------------------------


def _page(status=200, **forms):
    user = current_user._get_current_object()
    context = {
        "setup_form": forms.get("setup_form") or TwoStepSetupForm(formdata=None),
        "codes_form": forms.get("codes_form") or PasswordCheckForm(prefix="codes", formdata=None),
        "off_form": forms.get("off_form") or PasswordCheckForm(prefix="off", formdata=None),
        "secret": service.pending_secret(user),
        "required": service.required_for(user),
        "recovery_codes": forms.get("recovery_codes"),
        "unused_codes": service.unused_recovery_codes(user) if user.has_two_step else 0,
    }
    if context["secret"]:
        context["setup_uri"] = service.setup_uri(user)
    return render_template("accounts/two_step.html", **context), status


@bp.get("/profile/two-step")
@login_required
def two_step():
    return _page()


@bp.post("/profile/two-step/start")
@login_required
def two_step_start():
    try:
        service.start(current_user._get_current_object())
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _page(error.status)
    db.session.commit()
    return redirect(url_for("accounts.two_step"))


@bp.post("/profile/two-step/confirm")
@login_required
def two_step_confirm():
    form = TwoStepSetupForm()
    if not form.validate_on_submit():
        return _page(400, setup_form=form)
    try:
        codes = service.confirm(current_user._get_current_object(), form.code.data)
    except ServiceError as error:
        db.session.rollback()
        form.code.errors = [error.message]
        return _page(error.status, setup_form=form)
    db.session.commit()
    session.pop(MUST_SET_UP_KEY, None)
    flash(_("Two-step sign-in is on."), "success")
    return _page(recovery_codes=codes)


@bp.post("/profile/two-step/recovery-codes")
@login_required
def two_step_recovery_codes():
    form = PasswordCheckForm(prefix="codes")
    if not form.validate_on_submit():
        return _page(400, codes_form=form)
    try:
        codes = service.new_recovery_codes(
            current_user._get_current_object(), form.current_password.data
        )
    except ServiceError as error:
        db.session.rollback()
        form.current_password.errors = [error.message]
        return _page(error.status, codes_form=form)
    db.session.commit()
    return _page(recovery_codes=codes)


@bp.post("/profile/two-step/off")
@login_required
def two_step_off():
    form = PasswordCheckForm(prefix="off")
    if not form.validate_on_submit():
        return _page(400, off_form=form)
    try:
        service.turn_off(current_user._get_current_object(), form.current_password.data)
    except ServiceError as error:
        db.session.rollback()
        form.current_password.errors = [error.message]
        return _page(error.status, off_form=form)
    db.session.commit()
    flash(_("Two-step sign-in is off."), "success")
    return redirect(url_for("accounts.profile"))


# --- the platform's setting -------------------------------------------------------


@bp.route("/admin/two-step", methods=["GET", "POST"])
@login_required
def two_step_policy():
    user = current_user._get_current_object()
    if not user.is_admin:
        raise PermissionDenied(_("Only platform administrators can do this."))
    form = TwoStepPolicyForm(required=service.is_required())
    if form.validate_on_submit():
        service.set_required(user, form.required.data)
        db.session.commit()
        flash(_("The setting has been saved."), "success")
        return redirect(url_for("accounts.two_step_policy"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/two_step_policy.html", form=form), status
