"""``consult polls …``: count ballots offline and verify a closed poll."""

import json
import sys

import click
from flask.cli import with_appcontext

from ..errors import ServiceError
from ..extensions import db
from . import integrity
from .models import Poll
from .tally import tally


@click.group("polls")
def polls_group():
    """Votes."""


def _settings(rule, electorate, quorum_count, quorum_share, abstentions_count, candidates):
    quorum = None
    if quorum_count is not None:
        quorum = {"count": quorum_count}
    elif quorum_share is not None:
        quorum = {"share": quorum_share}
    return {
        "rule": rule,
        "electorate_weight": electorate,
        "quorum": quorum,
        "abstentions_count": abstentions_count,
        "candidates": list(candidates) or None,
    }


@polls_group.command("tally")
@click.option("--method", type=click.Choice(["schulze", "irv", "yesno"]), required=True)
@click.argument("ballots_file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--rule",
    type=click.Choice(["simple", "absolute", "two_thirds"]),
    default=None,
    help="yesno: the majority rule.",
)
@click.option("--electorate", default=None, help="yesno: total vote weight of the electorate.")
@click.option("--quorum-count", default=None, help="yesno: participation needed, in weight.")
@click.option(
    "--quorum-share", default=None, help="yesno: participation needed, share of the electorate."
)
@click.option(
    "--abstentions-count",
    is_flag=True,
    default=None,
    help="yesno: abstentions count toward the base of the majority.",
)
@click.option(
    "--candidate",
    "candidates",
    multiple=True,
    help="schulze/irv: a candidate (repeat); others in ballots are refused.",
)
def polls_tally(method, ballots_file, **options):
    """Count BALLOTS_FILE (a JSON list of ballots) and print the result as JSON.

    A ranking is a list of names, best first; a yes/no ballot is "yes", "no" or
    "abstain"; {"ranking": [...], "weight": 2} or {"choice": "yes", "weight": 2}
    give a weight. The web app counts with the same code.
    """
    try:
        ballots = json.load(ballots_file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{ballots_file.name} is not valid JSON: {error}") from None
    try:
        result = tally(method, ballots, **_settings(**options))
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@polls_group.command("verify")
@click.argument("poll_id", type=int)
@with_appcontext
def polls_verify(poll_id):
    """Recount closed poll POLL_ID from its ballots and compare with the frozen
    result and checksum. Prints JSON; exits with status 1 on any difference."""
    poll = db.session.get(Poll, poll_id)
    if poll is None:
        raise click.ClickException(f"no poll with id {poll_id}")
    try:
        report = integrity.verify(poll)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if not report["ok"]:
        sys.exit(1)
