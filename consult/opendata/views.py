from flask import Blueprint, Response, render_template
from flask_login import current_user

from ..consultations import services as consultations
from ..errors import NotFound
from . import services

bp = Blueprint("opendata", __name__)

OPEN_DATA = "/forums/<slug>/consultations/<int:consultation_id>/open-data"


@bp.get(OPEN_DATA + "/")
def index(slug, consultation_id):
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    return render_template(
        "opendata/index.html",
        consultation=consultation,
        forum=consultation.forum,
        plan=consultation.plan,
        datasets=services.DATASET_LABELS,
        minutes=services.signed_minutes(consultation),
    )


def _rows(slug, consultation_id, dataset):
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    if dataset not in services.DATASETS:
        raise NotFound()
    return consultation, services.dataset(current_user, consultation, dataset)


def _download(body: str, mimetype: str, name: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get(OPEN_DATA + "/assembly-minutes.json")
def minutes_json(slug, consultation_id):
    consultation = consultations.get_consultation(current_user, slug, consultation_id)
    name = f"consultation-{consultation.id}-assembly-minutes.json"
    return _download(services.minutes_json(consultation), "application/json", name)


@bp.get(OPEN_DATA + "/<dataset>.csv")
def as_csv(slug, consultation_id, dataset):
    consultation, rows = _rows(slug, consultation_id, dataset)
    name = f"consultation-{consultation.id}-{dataset}.csv"
    return _download(services.as_csv(dataset, rows), "text/csv", name)


@bp.get(OPEN_DATA + "/<dataset>.json")
def as_json(slug, consultation_id, dataset):
    consultation, rows = _rows(slug, consultation_id, dataset)
    name = f"consultation-{consultation.id}-{dataset}.json"
    return _download(services.as_json(consultation, dataset, rows), "application/json", name)
