"""``consult users …``: accounts made from the command line (``users invite``,
a forum membership, comes from consult/forums/cli.py)."""

import click
from flask.cli import with_appcontext

from ..errors import ServiceError
from ..extensions import db
from .services import create_user


@click.group("users")
def users_group():
    """Manage accounts."""


@users_group.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--locale", type=click.Choice(["es", "en", "pt"]), default="es")
@click.option("--admin", is_flag=True, help="Platform administrator (may create forums).")
@with_appcontext
def users_create(email, name, password, locale, admin):
    """Create an account that can sign in at once."""
    try:
        user = create_user(email, name, password, locale=locale, is_admin=admin)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"user={user.id} email={user.email}")
