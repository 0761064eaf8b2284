"""``consult worker`` and ``consult scheduler``: the processes that run the
queued jobs and the dated changes (phases, polls, reminders, digests)."""

import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker

from workers import _own_pool

from .consultations.scheduler import advance_due, remind_closing_phases
from .extensions import db
from .jobs import QUEUES, redis_connection
from .mail.delivery import relay_pending, relay_stalled
from .notification_delivery.digests import send_due_digests
from .notification_delivery.emails import relay_unemailed
from .votes.scheduling import advance_polls, remind_closing_polls

SCHEDULER_INTERVAL = 30


def run_scheduler_once() -> dict:
    """Open and close the phases and polls that are due, remind members of what
    closes within a day, send the digests that are due and hand out again the
    notifications and emails whose job was lost (safe to run from several places).
    Phases first, so a poll that ends with its phase sees it closed."""
    try:
        changes = advance_due()
        db.session.commit()
        changes.update({f"polls_{key}": value for key, value in advance_polls().items()})
        db.session.commit()
        changes["phase_reminders"] = remind_closing_phases()
        db.session.commit()
        changes["poll_reminders"] = remind_closing_polls()
        db.session.commit()
        changes["digests"] = send_due_digests()
        changes["relayed"] = relay_unemailed() + relay_stalled()
    finally:
        db.session.remove()
    return changes


def start_scheduler_thread(app: Flask) -> None:
    """The scheduler loop that goes with a worker: no cron needed on the host."""

    def loop():
        while True:
            with app.app_context():
                try:
                    run_scheduler_once()
                except Exception:
                    app.logger.exception("Scheduler run failed; trying again shortly")
            time.sleep(SCHEDULER_INTERVAL)

    threading.Thread(target=loop, name="consult-scheduler", daemon=True).start()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(burst):
    """Run an RQ worker for Consult's queues."""
    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set")
    relayed = relay_pending()
    db.session.remove()
    click.echo(f"worker: {relayed} pending email(s) re-enqueued")
    app = current_app._get_current_object()
    _own_pool(app)  # the parent owns this pool
    if not burst:
        start_scheduler_thread(app)
    worker = Worker(list(QUEUES), connection=redis_connection())
    worker.work(burst=burst, with_scheduler=True)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run once and stop.")
@with_appcontext
def scheduler_command(once):
    """Open and close consultation phases and polls at their dates, send
    reminders and digests."""
    while True:
        changes = run_scheduler_once()
        click.echo(" ".join(f"{key}={value}" for key, value in changes.items()))
        if once:
            return
        time.sleep(SCHEDULER_INTERVAL)
