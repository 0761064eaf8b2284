"""``consult forums …`` and ``consult users invite`` (an invitation is a membership
of a forum, so the command lives with the forums; the app puts it in ``users``)."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..errors import ServiceError
from ..extensions import db
from . import services
from .invitations import invite
from .models import Forum


def forum_by_slug(slug: str) -> Forum:
    """The forum named on the command line, or a usage error."""
    forum = db.session.scalar(select(Forum).where(Forum.slug == slug))
    if forum is None:
        raise click.ClickException(f"no forum {slug!r}")
    return forum


@click.group("forums")
def forums_group():
    """Manage forums."""


@forums_group.command("create")
@click.argument("slug")
@click.argument("name")
@with_appcontext
def forums_create(slug, name):
    """Create forum SLUG named NAME (does nothing if it exists)."""
    try:
        forum, created = services.ensure_forum(slug, name)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"forum={forum.slug} id={forum.id} {'created' if created else 'exists'}")


@click.command("invite")
@click.argument("email")
@click.option("--forum", "forum_slug", required=True)
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice(["member", "facilitator", "admin", "observer"]), default="member"
)
@click.option("--coalition", default="", help="Name of an existing coalition of the forum.")
@click.option("--locale", type=click.Choice(["es", "en", "pt"]), default=None)
@with_appcontext
def users_invite(email, forum_slug, name, role, coalition, locale):
    """Invite EMAIL to a forum (an activation link is emailed)."""
    forum = forum_by_slug(forum_slug)
    found = services.find_coalition(forum, coalition) if coalition else None
    if coalition and found is None:
        raise click.ClickException(f"no coalition {coalition!r} in {forum_slug}")
    try:
        membership = invite(
            None, forum, email=email, display_name=name, role=role, coalition=found, locale=locale
        )
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"invited user={membership.user_id} forum={forum.slug} role={role}")
