"""A vote's results and ballots as downloads (``exports``)."""

import json

from flask import Response
from flask_login import current_user, login_required

from . import (
    exports,
    queries,
)
from .blueprint import POLL, bp

# --- exports -------------------------------------------------------------------------


def _download(content: str, mimetype: str, name: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get(POLL + "/results.json")
def results_json(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    document = exports.results_document(poll)
    return _download(
        json.dumps(document, ensure_ascii=False, indent=2),
        "application/json",
        exports.filename(poll, "json"),
    )


@bp.get(POLL + "/results.csv")
def results_csv(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    return _download(exports.results_csv(poll), "text/csv", exports.filename(poll, "csv"))


@bp.get(POLL + "/ballots.json")
@login_required
def ballots_json(slug, poll_id):
    """Every ballot with its weight, for those who run the forum's votes."""
    poll = queries.get_poll(current_user, slug, poll_id)
    document = exports.audit_document(current_user, poll)
    return _download(
        json.dumps(document, ensure_ascii=False, indent=2),
        "application/json",
        exports.audit_filename(poll, "json"),
    )


@bp.get(POLL + "/ballots.csv")
@login_required
def ballots_csv(slug, poll_id):
    poll = queries.get_poll(current_user, slug, poll_id)
    return _download(
        exports.audit_csv(current_user, poll), "text/csv", exports.audit_filename(poll, "csv")
    )
