"""``consult demo``: the demo forum, its people and plan."""

import click
from flask.cli import with_appcontext

from ..extensions import db
from .loader import load_demo


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo forum, members and plan (once; running it again changes nothing)."""
    created = load_demo()
    db.session.commit()
    click.echo("demo data loaded" if created else "demo data already present")
