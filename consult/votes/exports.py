"""A closed poll's result as downloads: JSON with the settings, the frozen
result and every ballot (anonymous in a secret poll), so anyone can recount
with ``consult polls tally``; and CSV, one row per counted ballot."""

import csv
import io
import json

from flask_babel import gettext as _

from ..consultations.dashboard import safe_cell
from ..errors import Conflict
from . import services
from .models import Poll


def require_closed(poll: Poll) -> None:
    if poll.state != "closed":
        raise Conflict(_("The results can be downloaded once the vote has closed."))


def filename(poll: Poll, extension: str) -> str:
    return f"vote-{poll.id}-results.{extension}"


def results_document(poll: Poll) -> dict:
    require_closed(poll)
    document = {
        "poll": {
            "id": poll.id,
            "title": poll.title,
            "subject": poll.subject,
            "scope": poll.scope,
            "method": poll.method,
            "secret": poll.secret,
            "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
            "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
            "candidates": [candidate.name for candidate in poll.candidates],
        },
        "result": services.stored_result(poll),
        "ballots": [
            {"choice": choice, "weight": weight}
            for choice, weight in services.canonical_ballots(poll)
        ],
    }
    if not poll.secret:
        document["named_votes"] = [
            {
                "voter": named.voter.display_name,
                "choice": json.loads(named.choice),
                "weight": services.weight_text(named.weight),
                "cast_by": named.cast_by.display_name if named.cast_by else None,
            }
            for named in services.named_votes(poll)
        ]
    return document


def results_csv(poll: Poll) -> str:
    """With a byte-order mark, so spreadsheets read the accents right."""
    require_closed(poll)
    out = io.StringIO()
    writer = csv.writer(out)
    if poll.secret:
        writer.writerow([_("Choice"), _("Weight")])
        for choice, weight in services.canonical_ballots(poll):
            writer.writerow([safe_cell(services.choice_label(poll, choice)), weight])
    else:
        writer.writerow([_("Voter"), _("Choice"), _("Weight"), _("Cast by")])
        for named in services.named_votes(poll):
            writer.writerow(
                [
                    safe_cell(named.voter.display_name),
                    safe_cell(services.choice_label(poll, json.loads(named.choice))),
                    services.weight_text(named.weight),
                    safe_cell(named.cast_by.display_name if named.cast_by else ""),
                ]
            )
    return "\ufeff" + out.getvalue()
