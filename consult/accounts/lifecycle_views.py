"""The profile's account pages: a new email address, your data, deleting the account."""

import json

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..errors import ServiceError
from ..extensions import db
from . import lifecycle
from .forms import DeleteAccountForm, EmailChangeForm
from .my_data import my_data as read_my_data
from .views import bp, profile_page


@bp.post("/profile/email")
@login_required
def change_email():
    user = current_user._get_current_object()
    form = EmailChangeForm(prefix="em")
    if form.validate_on_submit():
        try:
            email = lifecycle.request_email_change(
                user, form.current_password.data, form.new_email.data
            )
        except ServiceError as error:
            db.session.rollback()
            wrong_password = isinstance(error, lifecycle.WrongPassword)
            field = form.current_password if wrong_password else form.new_email
            field.errors = [*field.errors, error.message]
            return profile_page(email_form=form, status=error.status)
        db.session.commit()
        flash(
            _(
                "We have sent a link to %(email)s: your address changes when you open it. "
                "Your current address has been told.",
                email=email,
            ),
            "success",
        )
        return redirect(url_for("accounts.profile"))
    return profile_page(email_form=form)


@bp.route("/profile/email/<token>", methods=["GET", "POST"])
def confirm_email(token):
    """The link sent to the new address. Opening it shows a button (mail
    programs open links on their own to check them); the button changes it."""
    found = lifecycle.read_email_change(token)
    if found is None:
        message = _("This confirmation link is invalid, has expired or was already used.")
        return render_template("accounts/confirm_email.html", error=message), 400
    user, email = found
    if request.method == "POST":
        try:
            lifecycle.confirm_email_change(token)
        except ServiceError as error:
            db.session.rollback()
            return render_template("accounts/confirm_email.html", error=error.message), error.status
        db.session.commit()
        flash(_("Your email address is now %(email)s.", email=email), "success")
        return redirect(
            url_for("accounts.profile" if current_user.is_authenticated else "core.index")
        )
    return render_template("accounts/confirm_email.html", user=user, email=email)


@bp.get("/profile/data")
@login_required
def my_data():
    data = read_my_data(current_user._get_current_object())
    return render_template(
        "accounts/my_data.html",
        data=data,
        standalone=False,
    )


def _attachment(body: str, mimetype: str, extension: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="consult-my-data.{extension}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/profile/data.json")
@login_required
def my_data_json():
    data = read_my_data(current_user._get_current_object())
    body = json.dumps(data.as_json(), ensure_ascii=False, indent=2)
    return _attachment(body, "application/json", "json")


@bp.get("/profile/data.html")
@login_required
def my_data_html():
    data = read_my_data(current_user._get_current_object())
    body = render_template(
        "accounts/my_data.html",
        data=data,
        standalone=True,
    )
    return _attachment(body, "text/html", "html")


def _deletion_page(form, status=200):
    user = current_user._get_current_object()
    return render_template(
        "accounts/delete_account.html", form=form, refusal=lifecycle.deletion_refusal(user)
    ), status


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    if request.method == "GET":
        return _deletion_page(form)
    if not form.validate_on_submit():
        return _deletion_page(form, 400)
    try:
        lifecycle.delete_account(user, form.current_password.data)
    except ServiceError as error:
        db.session.rollback()
        form.current_password.errors = [*form.current_password.errors, error.message]
        return _deletion_page(form, error.status)
    db.session.commit()
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("Your account has been deleted. Thank you for taking part."), "success")
    return redirect(url_for("core.index"))
