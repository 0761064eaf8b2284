from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..date_formats import zone_label
from ..errors import InvalidInput
from ..extensions import db
from ..timezones import member_zone
from ..urls import safe_next
from ..zone_choice import member_countries
from . import services, throttle
from .forms import (
    ChangePasswordForm,
    EmailChangeForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
)

bp = Blueprint("accounts", __name__)


def client_address() -> str:
    """The address the request came from: with TRUSTED_PROXIES set, the one the
    outermost trusted proxy saw (as werkzeug's ProxyFix reads X-Forwarded-For)."""
    hops = current_app.config.get("TRUSTED_PROXIES", 0)
    if hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return (request.remote_addr or "unknown")[:64]


def _throttled(template: str, form, error: throttle.Throttled):
    flash(error.message, "error")
    response = current_app.make_response((render_template(template, form=form), 429))
    if error.retry_after:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def sign_in_user(user) -> None:
    """Start a fresh session (a new cookie: no session fixation) for ``user``, and
    mark this browser as a known device of theirs (see accounts/throttle.py)."""
    locale = session.get("locale")
    session.clear()
    services.start_session(user, request.user_agent.string)
    db.session.commit()
    session.permanent = True
    if locale:
        session["locale"] = locale
    login_user(user)
    two_step_views.mark_if_required(user)
    token = throttle.device_token(user, request.cookies.get(throttle.KNOWN_DEVICE_COOKIE))

    @after_this_request
    def remember_device(response):
        config = current_app.config
        response.set_cookie(
            throttle.KNOWN_DEVICE_COOKIE,
            token,
            max_age=int(config["KNOWN_DEVICE_MAX_AGE"].total_seconds()),
            secure=config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def flash_offered_zone(zone: str | None) -> None:
    """Tell a member that their browser's time zone was taken (first sign-in)."""
    if zone:
        flash(
            _(
                "Dates are shown in %(zone)s, the time zone of your device. "
                "You can change it on your profile.",
                zone=zone_label(zone),
            ),
            "success",
        )


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("core.index"))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.email.data,
                form.password.data,
                client=client_address(),
                device_token=request.cookies.get(throttle.KNOWN_DEVICE_COOKIE),
            )
        except throttle.Throttled as error:
            db.session.rollback()
            return _throttled("accounts/sign_in.html", form, error)
        if user is not None:
            offered = services.offer_browser_zone(user, form.browser_timezone.data)
            if user.has_two_step:
                return two_step_views.ask_code(user, form.next.data, offered)
            sign_in_user(user)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            flash_offered_zone(offered)
            return redirect(safe_next(form.next.data) or url_for("core.index"))
        db.session.commit()
        flash(_("The email address or the password is not correct."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("accounts/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    services.end_session(current_user.get_id())
    db.session.commit()
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have signed out."), "success")
    return redirect(url_for("core.index"))


@bp.route("/password-reset", methods=["GET", "POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, client=client_address())
        except throttle.Throttled as error:
            db.session.rollback()
            return _throttled("accounts/reset_request.html", form, error)
        db.session.commit()
        flash(
            _("If an account uses this address, we have sent it a link to choose a new password."),
            "success",
        )
        return redirect(url_for("accounts.sign_in"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_request.html", form=form), status


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    if services.user_for_reset_token(token) is None:
        flash(_("This reset link is invalid or has expired. Please ask for a new one."), "error")
        return redirect(url_for("accounts.request_reset"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.password.data)
        except InvalidInput as error:
            flash(error.message, "error")
            return render_template("accounts/reset_password.html", form=form), 400
        if user.has_two_step:  # the mailbox alone does not let anyone in
            flash(_("Your password has been changed."), "success")
            return two_step_views.ask_code(user, "", None)
        sign_in_user(user)
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("core.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form), status


def _profile_form(user, formdata=None) -> ProfileForm:
    """The profile form, filled in from ``user`` unless a form was posted."""
    countries = member_countries(user)
    if formdata is not None:
        return ProfileForm(formdata=formdata, first_countries=countries)
    form = ProfileForm(obj=user, formdata=None, first_countries=countries)
    form.country.data = user.country or ""
    # Not chosen yet: the zone dates are shown in now (the forum's), which the
    # page's script offers to replace with the browser's.
    form.timezone.data = user.timezone or member_zone(user)
    form.digest_hour.data = (
        user.digest_hour if user.digest_hour is not None else current_app.config["DIGEST_HOUR"]
    )
    return form


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = _profile_form(user, request.form if request.method == "POST" else None)
    password_form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.update_profile(
                user,
                display_name=form.display_name.data,
                locale=form.locale.data,
                country=form.country.data,
                notification_preference=form.notification_preference.data,
                timezone=form.chosen_zone(),
                digest_hour=form.digest_hour.data,
            )
        except InvalidInput as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            session["locale"] = user.locale
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("accounts.profile"))
    status = 400 if request.method == "POST" else 200
    return profile_page(form=form, password_form=password_form, status=status)


def profile_page(*, form=None, password_form=None, email_form=None, status=400):
    """The profile page, with the form that was posted (and its errors) and
    the other forms empty."""
    user = current_user._get_current_object()
    return render_template(
        "accounts/profile.html",
        form=_profile_form(user) if form is None else form,
        password_form=ChangePasswordForm(prefix="pw") if password_form is None else password_form,
        email_form=EmailChangeForm(prefix="em") if email_form is None else email_form,
    ), status


@bp.post("/profile/password")
@login_required
def change_password():
    user = current_user._get_current_object()
    form = _profile_form(user)
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            services.change_password(
                user, password_form.current_password.data, password_form.password.data
            )
        except InvalidInput as error:
            db.session.rollback()
            password_form.current_password.errors.append(error.message)
        else:
            sign_in_user(user)
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(url_for("accounts.profile"))
    return profile_page(form=form, password_form=password_form)


# Their routes are on this blueprint.
from . import lifecycle_views, two_step_views  # noqa: E402, F401
