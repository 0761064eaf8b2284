"""``consult mail …``: the outgoing mail queue."""

import click
from flask.cli import with_appcontext

from .delivery import relay_pending


@click.group("mail")
def mail_group():
    """The outgoing mail queue."""


@mail_group.command("relay")
@with_appcontext
def mail_relay():
    """Enqueue every email still pending (after Redis was down)."""
    click.echo(f"relayed={relay_pending()}")
