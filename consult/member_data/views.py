"""The member's data as a page and as downloads (JSON, a web page), under the
profile's URLs."""

import json

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from .gathering import my_data as read_my_data

bp = Blueprint("member_data", __name__)


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
