"""A closed poll's result as downloads.

For every reader of the forum (``results_document``, ``results_csv``): the
settings, the frozen result with its checksum, the total of each option, and,
when ``disclosure.Disclosure`` says it singles nobody out, every ballot (anonymous
in a secret poll) so that anyone can recount with ``consult polls tally``. A
secret vote in which some weight is carried by fewer than
``disclosure.MIN_BALLOTS_PER_WEIGHT`` ballots publishes option totals only.

Both results downloads also say how the result was reached
(``explanation``): in JSON an ``explanation`` object (numbers and sentences),
in CSV the sentences and each option's share of the base after a blank row.
It holds weighted totals and shares only, never ballots per option.

For those who run the forum's votes (``audit_document``, ``audit_csv``): every
ballot with its weight, whatever the vote publishes, to check the count. The
checksum is the SHA-256 of the ballots written as JSON lines ``[choice, weight]``
(no spaces), sorted, joined by newlines (``integrity.checksum``): the same for
every vote, so the published checksum can be checked against this download.
"""

import csv
import io
import json

from flask_babel import gettext as _

from ..errors import Conflict
from ..spreadsheets import safe_cell
from . import disclosure, explanation, explanation_text, integrity, queries
from .models import Poll

CHECKSUM_OF = (
    "SHA-256 of the ballots written as JSON lines [choice, weight] without spaces, "
    "sorted, joined by newlines"
)


def require_closed(poll: Poll) -> None:
    if not poll.state.is_closed:
        raise Conflict(_("The results can be downloaded once the vote has closed."))


def filename(poll: Poll, extension: str) -> str:
    return f"vote-{poll.id}-results.{extension}"


def audit_filename(poll: Poll, extension: str) -> str:
    return f"vote-{poll.id}-ballots.{extension}"


def _document(poll: Poll, shown: disclosure.Disclosure) -> dict:
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
        "result": queries.stored_result(poll),
        "published": "ballots" if shown.ballots_public else "totals",
        # Ranked votes: the ballots that rank the option first.
        "options": [
            {
                "option": total.option,
                "weight": integrity.weight_text(total.weight),
                "ballots": total.ballots,
            }
            for total in shown.options
        ],
    }
    if shown.ballots_public:
        document["ballots"] = [
            {"choice": choice, "weight": weight}
            for choice, weight in integrity.canonical_ballots(poll)
        ]
    return document


def _explanation(poll: Poll) -> dict | None:
    """How the result was reached, as numbers and in the reader's words."""
    explained = explanation.explain(poll)
    if explained is None:
        return None
    return {**explained.to_json(), "sentences": explanation_text.sentences(poll, explained)}


def results_document(poll: Poll) -> dict:
    """What every reader may download (see the module docstring)."""
    require_closed(poll)
    document = _document(poll, disclosure.disclosure(poll))
    document["explanation"] = _explanation(poll)
    if not poll.secret:
        document["named_votes"] = [
            {
                "voter": named.voter.display_name,
                "choice": json.loads(named.choice),
                "weight": integrity.weight_text(named.weight),
                "cast_by": named.cast_by.display_name if named.cast_by else None,
            }
            for named in queries.named_votes(poll)
        ]
    return document


def audit_document(actor, poll: Poll) -> dict:
    """Every ballot with its weight and the way to check the checksum, for those
    who run the forum's votes."""
    disclosure.require_auditor(actor, poll)
    require_closed(poll)
    document = _document(poll, disclosure.disclosure(poll, audit=True))
    document["checksum_of"] = CHECKSUM_OF
    return document


def _csv(rows: list[list]) -> str:
    """With a byte-order mark, so spreadsheets read the accents right."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return "\ufeff" + out.getvalue()


def _ballot_rows(poll: Poll) -> list[list]:
    return [[_("Choice"), _("Weight")]] + [
        [safe_cell(queries.choice_label(poll, choice)), weight]
        for choice, weight in integrity.canonical_ballots(poll)
    ]


def _explanation_rows(poll: Poll) -> list[list]:
    """After a blank row: how the result was reached, one sentence a row, then
    each option against the base of the majority."""
    explained = explanation.explain(poll)
    if explained is None:
        return []
    rows: list[list] = [[], [_("How the result was reached")]]
    rows += [[safe_cell(sentence)] for sentence in explanation_text.sentences(poll, explained)]
    if explained.method == "schulze":
        rows.append([_("Option"), _("Options it beats")])
        rows += [
            [safe_cell(label), votes]
            for label, votes, _share in explanation_text.option_rows(poll, explained)
        ]
    else:
        rows.append([_("Option"), _("Votes (weighted)"), _("Share of the base")])
        rows += [
            [safe_cell(label), votes, share]
            for label, votes, share in explanation_text.option_rows(poll, explained)
        ]
    return rows


def results_csv(poll: Poll) -> str:
    """One row per counted ballot, per voter in a named poll, or per option when
    the ballots are not published; then, after a blank row, how the result was
    reached (``_explanation_rows``)."""
    require_closed(poll)
    return _csv(_result_rows(poll) + _explanation_rows(poll))


def _result_rows(poll: Poll) -> list[list]:
    if not poll.secret:
        rows = [[_("Voter"), _("Choice"), _("Weight"), _("Cast by")]]
        for named in queries.named_votes(poll):
            rows.append(
                [
                    safe_cell(named.voter.display_name),
                    safe_cell(queries.choice_label(poll, json.loads(named.choice))),
                    integrity.weight_text(named.weight),
                    safe_cell(named.cast_by.display_name if named.cast_by else ""),
                ]
            )
        return rows
    shown = disclosure.disclosure(poll)
    if shown.ballots_public:
        return _ballot_rows(poll)
    labels = queries.candidate_labels(poll)
    heading = _("Option ranked first") if poll.is_ranked else _("Option")
    rows = [[heading, _("Total weight")]]
    for total in shown.options:
        if poll.is_ranked:
            label = labels.get(total.option, total.option)
        else:
            label = queries.choice_label(poll, total.option)
        rows.append([safe_cell(label), integrity.weight_text(total.weight)])
    return rows


def audit_csv(actor, poll: Poll) -> str:
    """Every counted ballot with its weight, for those who run the forum's votes."""
    disclosure.require_auditor(actor, poll)
    require_closed(poll)
    return _csv(_ballot_rows(poll))
