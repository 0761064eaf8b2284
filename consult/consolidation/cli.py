"""``consult plans consolidate``: the next consolidated draft from the command
line (the app adds it to the ``plans`` group)."""

import contextlib
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError
from rq import Worker

from ..errors import ServiceError
from ..extensions import db
from ..jobs import redis_connection
from ..plans.cli import plan_by_id
from . import job, services
from .models import Consolidation


def workers_listening() -> bool:
    """Whether an RQ worker serves the queues (so a queued job will be run)."""
    if current_app.config["JOBS_MODE"] == "inline" or not current_app.config["REDIS_URL"]:
        return False
    try:
        return Worker.count(connection=redis_connection()) > 0
    except RedisError:
        return False


def _wait_for(consolidation_id: int) -> Consolidation:
    if not workers_listening():
        # A failure is recorded on the consolidation and reported by the caller.
        with contextlib.suppress(Exception):
            job.run(consolidation_id)
    while True:
        db.session.expire_all()
        consolidation = db.session.get(Consolidation, consolidation_id)
        if not consolidation.is_active:
            return consolidation
        time.sleep(0.5)


@click.command("consolidate")
@click.argument("plan_id", type=int)
@click.option(
    "--wait",
    is_flag=True,
    help="Wait for the draft; with no worker running, build it in this process.",
)
@with_appcontext
def plans_consolidate(plan_id, wait):
    """Ask for the next consolidated draft of PLAN_ID (its accepted amendments
    applied). Prints, last, version=N applied=A conflicts=C rebased=R."""
    plan = plan_by_id(plan_id)
    try:
        consolidation, _new = services.request(None, plan, by_command=True)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    consolidation_id = consolidation.id
    db.session.commit()  # enqueues the job (or runs it, without a queue)
    if not wait:
        click.echo(f"consolidation={consolidation_id} queued")
        return
    consolidation = _wait_for(consolidation_id)
    if consolidation.state == "failed":
        raise click.ClickException(consolidation.error or "the consolidation failed")
    number = consolidation.version.number if consolidation.version else "none"
    click.echo(
        f"version={number} applied={consolidation.applied_count} "
        f"conflicts={consolidation.conflict_count} rebased={consolidation.rebased_count}"
    )
