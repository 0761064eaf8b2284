"""The facilitators' dashboard of a consultation, as a page and as a CSV file."""

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required

from ..consultations import services
from ..forums import permissions as forum_permissions
from .counting import figures
from .figures import figures_csv

bp = Blueprint("consultation_dashboard", __name__)

DASHBOARD = "/forums/<slug>/consultations/<int:consultation_id>/dashboard"


def _consultation(slug, consultation_id):
    """The consultation for its facilitators: 404 for those who cannot see the
    forum, 403 for its other members."""
    consultation = services.get_consultation(current_user, slug, consultation_id)
    forum_permissions.require_manage(current_user, consultation.forum)
    return consultation


@bp.get(DASHBOARD)
@login_required
def dashboard(slug, consultation_id):
    consultation = _consultation(slug, consultation_id)
    return render_template(
        "consultations/dashboard.html",
        forum=consultation.forum,
        consultation=consultation,
        plan=consultation.plan,
        figures=figures(consultation),
    )


@bp.get(DASHBOARD + ".csv")
@login_required
def dashboard_csv(slug, consultation_id):
    consultation = _consultation(slug, consultation_id)
    # The byte order mark lets spreadsheets read the accents as UTF-8.
    body = "\ufeff" + figures_csv(figures(consultation))
    response = Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consultation-{consultation.id}-dashboard.csv"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
