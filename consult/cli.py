"""The ``consult`` command (also ``flask --app consult``). Each feature keeps
its commands in its own ``cli.py``; the app registers them here."""

import os

from flask.cli import FlaskGroup

from . import create_app
from .accounts.cli import users_group
from .amendments.cli import amendments_group
from .background import scheduler_command, worker_command
from .consolidation.cli import plans_consolidate
from .demo.cli import demo_command
from .dev import dev_command
from .dev_logging import CHILD_FLAG, configure_child_logging
from .forums.cli import forums_group, users_invite
from .mail.cli import mail_group
from .plans.cli import plans_group
from .votes.cli import polls_group


def main() -> None:
    if os.environ.get(CHILD_FLAG):
        configure_child_logging()
    cli = FlaskGroup(create_app=lambda: create_app(), help="Consult: plans, amendments, votes.")
    cli.main(prog_name="consult")


def register_cli(app) -> None:
    """Called by create_app (``consult/app.py``)."""
    # Commands that belong to one feature but sit in another's group.
    users_group.add_command(users_invite)
    plans_group.add_command(plans_consolidate)
    for command in (
        demo_command,
        forums_group,
        users_group,
        worker_command,
        mail_group,
        dev_command,
        plans_group,
        amendments_group,
        scheduler_command,
        polls_group,
    ):
        app.cli.add_command(command)
