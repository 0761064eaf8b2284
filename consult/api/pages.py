"""Pages for people: the API's documentation, and the personal access tokens
on the profile (ordinary forms with CSRF, unlike the API itself)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..errors import ServiceError
from ..extensions import db
from . import openapi, tokens
from .forms import SCOPE_LABELS, TokenForm

bp = Blueprint("api_pages", __name__)


@bp.get("/api/")
def documentation():
    return render_template(
        "api/index.html",
        operations=openapi.operations(),
        version=openapi.VERSION,
    )


def _tokens_page(form: TokenForm, status: int = 200, **extra):
    return render_template(
        "api/tokens.html",
        form=form,
        revoke_form=FlaskForm(formdata=None),
        tokens=tokens.tokens_of(current_user),
        scope_labels=SCOPE_LABELS,
        **extra,
    ), status


@bp.route("/profile/tokens", methods=["GET", "POST"])
@login_required
def personal_tokens():
    """List, create (the token is shown once, on this answer) and revoke."""
    user = current_user._get_current_object()
    if request.method == "POST" and request.form.get("revoke"):
        if not FlaskForm().validate_on_submit():
            return _tokens_page(TokenForm(formdata=None), 400)
        value = request.form["revoke"]
        token_id = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
        token = tokens.revoke_token(user, token_id)
        db.session.commit()
        flash(_("The token “%(name)s” has been revoked.", name=token.name), "success")
        return redirect(url_for("api_pages.personal_tokens"))
    form = TokenForm()
    if request.method == "GET":
        return _tokens_page(form)
    if not form.validate_on_submit():
        return _tokens_page(form, 400)
    try:
        token, secret = tokens.create_token(user, form.name.data, form.scope.data)
    except ServiceError as error:
        db.session.rollback()
        form.name.errors = [*form.name.errors, error.message]
        return _tokens_page(form, error.status)
    db.session.commit()
    return _tokens_page(TokenForm(formdata=None), 201, created=token, secret=secret)


@bp.app_template_global()
def active_token_count(user) -> int:
    """For the profile page's summary."""
    return sum(1 for token in tokens.tokens_of(user) if token.is_active)
