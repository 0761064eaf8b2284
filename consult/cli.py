"""The ``consult`` command (also ``flask --app consult``)."""

import os
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from .extensions import db


def main() -> None:
    from . import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="Consult: plans, amendments, votes.")
    cli.main(prog_name="consult")


def register_cli(app) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(forums_group)
    app.cli.add_command(users_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(mail_group)
    app.cli.add_command(dev_command)
    app.cli.add_command(plans_group)
    app.cli.add_command(amendments_group)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(polls_group)


def _fail(message: str) -> None:
    raise click.ClickException(str(message))


@click.command("demo")
@with_appcontext
def demo_command():
    """Load the demo forum, members and plan (once; running it again changes nothing)."""
    from .demo.loader import load_demo

    created = load_demo()
    db.session.commit()
    click.echo("demo data loaded" if created else "demo data already present")


# --- forums -------------------------------------------------------------


@click.group("forums")
def forums_group():
    """Manage forums."""


@forums_group.command("create")
@click.argument("slug")
@click.argument("name")
@with_appcontext
def forums_create(slug, name):
    """Create forum SLUG named NAME (does nothing if it exists)."""
    from .errors import ServiceError
    from .forums.services import ensure_forum

    try:
        forum, created = ensure_forum(slug, name)
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"forum={forum.slug} id={forum.id} {'created' if created else 'exists'}")


# --- users --------------------------------------------------------------


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
    from .accounts.services import create_user
    from .errors import ServiceError

    try:
        user = create_user(email, name, password, locale=locale, is_admin=admin)
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"user={user.id} email={user.email}")


@users_group.command("invite")
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
    from sqlalchemy import select

    from .errors import ServiceError
    from .forums import services
    from .forums.models import Forum

    forum = db.session.scalar(select(Forum).where(Forum.slug == forum_slug))
    if forum is None:
        _fail(f"no forum {forum_slug!r}")
    found = services.find_coalition(forum, coalition) if coalition else None
    if coalition and found is None:
        _fail(f"no coalition {coalition!r} in {forum_slug}")
    try:
        membership = services.invite(
            None, forum, email=email, display_name=name, role=role, coalition=found, locale=locale
        )
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    click.echo(f"invited user={membership.user_id} forum={forum.slug} role={role}")


# --- plans --------------------------------------------------------------


@click.group("plans")
def plans_group():
    """Import, show and export plans."""


def _plan_by_id(plan_id: int):
    from .plans.models import Plan

    plan = db.session.get(Plan, plan_id)
    if plan is None:
        _fail(f"no plan {plan_id}")
    return plan


@plans_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--forum", "forum_slug", required=True)
@click.option("--title", default="", help="Title when the document has none.")
@click.option("--lang", "language", type=click.Choice(["es", "en", "pt"]), default="es")
@with_appcontext
def plans_import(file, forum_slug, title, language):
    """Import FILE (.txt, .md or .docx) as a new plan of a forum."""
    from sqlalchemy import select

    from .errors import ServiceError
    from .forums.models import Forum
    from .plans import services
    from .uploads import decode_text

    forum = db.session.scalar(select(Forum).where(Forum.slug == forum_slug))
    if forum is None:
        _fail(f"no forum {forum_slug!r}")
    data = file.read_bytes()
    try:
        if file.suffix.lower() == ".docx":
            from .plans.docx_reader import read_docx

            text = read_docx(data)
        else:
            text = decode_text(data)
        plan = services.import_plan(
            None, forum, text, title=title, language=language, filename=file.name
        )
    except ServiceError as error:
        _fail(error.message)
    db.session.commit()
    version = plan.current_version
    for warning in services.preview(text, title or None).warnings:
        click.echo(f"warning: {warning.message}")
    click.echo(
        f"plan={plan.id} sections={version.section_count} items={version.item_count} "
        f"footnotes={version.footnote_count}"
    )


@plans_group.command("show")
@click.argument("plan_id", type=int)
@click.option("--version", "number", type=int, default=None)
@with_appcontext
def plans_show(plan_id, number):
    """Print the outline of a plan version with each node's reference."""
    from .errors import ServiceError
    from .plans import services

    plan = _plan_by_id(plan_id)
    try:
        version = services.get_version(plan, number)
    except ServiceError as error:
        _fail(error.message)
    click.echo(f"{version.title} (version {version.number})")
    for node in services.version_nodes(version):
        text = node.text if len(node.text) <= 70 else node.text[:69] + "…"
        click.echo(f"{'  ' * node.depth}{node.ref:<10} {node.kind:<9} {text}")


@plans_group.command("export")
@click.argument("plan_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "pdf", "docx", "odt"]), required=True
)
@click.option("--version", "number", type=int, default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def plans_export(plan_id, fmt, number, output):
    """Write a version of a plan as Markdown, HTML, PDF, DOCX or ODT."""
    from .errors import ServiceError
    from .plans import services
    from .plans.documents import export_filename, render
    from .plans.markdown import to_markdown

    plan = _plan_by_id(plan_id)
    try:
        version = services.get_version(plan, number)
    except ServiceError as error:
        _fail(error.message)
    nodes = services.version_nodes(version)
    if fmt == "md":
        content = to_markdown(version.title, nodes).encode()
        filename = export_filename(plan, version, "md")
    else:
        content, _mimetype, filename = render(fmt, plan, version, nodes)
    target = output or Path(filename)
    target.write_bytes(content)
    click.echo(f"wrote {target} ({len(content)} bytes)")


@plans_group.command("consolidate")
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
    import contextlib
    import time

    from .consolidation import services
    from .errors import ServiceError

    plan = _plan_by_id(plan_id)
    try:
        consolidation, _new = services.request(None, plan, by_command=True)
    except ServiceError as error:
        _fail(error.message)
    consolidation_id = consolidation.id
    db.session.commit()  # enqueues the job (or runs it, without a queue)
    if not wait:
        click.echo(f"consolidation={consolidation_id} queued")
        return
    if not _workers_listening():
        # A failure is recorded on the consolidation and reported below.
        with contextlib.suppress(Exception):
            services.run(consolidation_id)
    while True:
        db.session.expire_all()
        consolidation = db.session.get(services.Consolidation, consolidation_id)
        if not consolidation.is_active:
            break
        time.sleep(0.5)
    if consolidation.state == "failed":
        _fail(consolidation.error or "the consolidation failed")
    number = consolidation.version.number if consolidation.version else "none"
    click.echo(
        f"version={number} applied={consolidation.applied_count} "
        f"conflicts={consolidation.conflict_count} rebased={consolidation.rebased_count}"
    )


def _workers_listening() -> bool:
    """Whether an RQ worker serves the queues (so a queued job will be run)."""
    if current_app.config["JOBS_MODE"] == "inline" or not current_app.config["REDIS_URL"]:
        return False
    from redis.exceptions import RedisError
    from rq import Worker

    from .jobs import redis_connection

    try:
        return Worker.count(connection=redis_connection()) > 0
    except RedisError:
        return False


# --- amendments -----------------------------------------------------------


@click.group("amendments")
def amendments_group():
    """Amendments collected outside Consult."""


@amendments_group.command("import")
@click.argument("plan_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def amendments_import(plan_id, file):
    """Import amendments collected offline from a CSV file.

    Columns: target,operation,text,justification,author,coalition,status.
    """
    from .amendments.offline_import import import_amendments

    plan = _plan_by_id(plan_id)
    report = import_amendments(None, plan, file.read_bytes())
    db.session.commit()
    if report.error:
        click.echo(f"error: {report.error}")
    for row in report.rows:
        if not row.ok:
            click.echo(f"line {row.line}: {row.message}")
    click.echo(f"imported={report.imported} rejected={report.rejected}")
    if report.error and not report.rows:
        raise SystemExit(1)


# --- polls --------------------------------------------------------------


@click.group("polls")
def polls_group():
    """Votes."""


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
def polls_tally(
    method,
    ballots_file,
    rule,
    electorate,
    quorum_count,
    quorum_share,
    abstentions_count,
    candidates,
):
    """Count BALLOTS_FILE (a JSON list of ballots) and print the result as JSON.

    A ranking is a list of names, best first; a yes/no ballot is "yes", "no" or
    "abstain"; {"ranking": [...], "weight": 2} or {"choice": "yes", "weight": 2}
    give a weight. The web app counts with the same code.
    """
    import json

    from .errors import ServiceError
    from .votes.tally import tally

    try:
        ballots = json.load(ballots_file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{ballots_file.name} is not valid JSON: {error}") from None
    quorum = None
    if quorum_count is not None:
        quorum = {"count": quorum_count}
    elif quorum_share is not None:
        quorum = {"share": quorum_share}
    settings = {
        "rule": rule,
        "electorate_weight": electorate,
        "quorum": quorum,
        "abstentions_count": abstentions_count,
        "candidates": list(candidates) or None,
    }
    try:
        result = tally(method, ballots, **settings)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@polls_group.command("verify")
@click.argument("poll_id", type=int)
@with_appcontext
def polls_verify(poll_id):
    """Recount closed poll POLL_ID from its ballots and compare with the frozen
    result and checksum. Prints JSON; exits with status 1 on any difference."""
    import json

    from .errors import ServiceError
    from .votes import services as votes
    from .votes.models import Poll

    poll = db.session.get(Poll, poll_id)
    if poll is None:
        _fail(f"no poll with id {poll_id}")
    try:
        report = votes.verify(poll)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if not report["ok"]:
        sys.exit(1)


# --- jobs ---------------------------------------------------------------


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(burst):
    """Run an RQ worker for Consult's queues."""
    from rq import Worker

    from .jobs import QUEUES, redis_connection
    from .mail.services import relay_pending

    if not current_app.config["REDIS_URL"]:
        _fail("REDIS_URL is not set")
    relayed = relay_pending()
    db.session.remove()
    click.echo(f"worker: {relayed} pending email(s) re-enqueued")
    from workers import _own_pool

    _own_pool(current_app._get_current_object())  # the parent owns this pool
    if not burst:
        start_scheduler_thread(current_app._get_current_object())
    worker = Worker(list(QUEUES), connection=redis_connection())
    worker.work(burst=burst, with_scheduler=True)


SCHEDULER_INTERVAL = 30


def run_scheduler_once() -> dict:
    """Open and close the phases and polls that are due, remind members of what
    closes within a day, send the digests that are due and hand out again the
    notifications and emails whose job was lost (safe to run from several places).
    Phases first, so a poll that ends with its phase sees it closed."""
    from .consultations.services import advance_due, remind_closing_phases
    from .mail.services import relay_stalled
    from .notifications.emails import relay_unemailed, send_due_digests
    from .votes.services import advance_polls, remind_closing_polls

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


def start_scheduler_thread(app) -> None:
    """The scheduler loop that goes with a worker: no cron needed on the host."""
    import threading
    import time

    def loop():
        while True:
            with app.app_context():
                try:
                    run_scheduler_once()
                except Exception:
                    app.logger.exception("Scheduler run failed; trying again shortly")
            time.sleep(SCHEDULER_INTERVAL)

    threading.Thread(target=loop, name="consult-scheduler", daemon=True).start()


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run once and stop.")
@with_appcontext
def scheduler_command(once):
    """Open and close consultation phases and polls at their dates, send
    reminders and digests."""
    import time

    while True:
        changes = run_scheduler_once()
        click.echo(" ".join(f"{key}={value}" for key, value in changes.items()))
        if once:
            return
        time.sleep(SCHEDULER_INTERVAL)


@click.group("mail")
def mail_group():
    """The outgoing mail queue."""


@mail_group.command("relay")
@with_appcontext
def mail_relay():
    """Enqueue every email still pending (after Redis was down)."""
    from .mail.services import relay_pending

    click.echo(f"relayed={relay_pending()}")


# --- development server -------------------------------------------------


@click.command("dev")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def dev_command(host, port):
    """Migrate, load the demo, start Redis (if needed), a worker and the web server."""
    from .redis_runtime import reachable, start_embedded

    app = current_app
    instance = Path(app.config["INSTANCE_DIR"])
    env = dict(os.environ)
    redis_process = None
    redis_url = app.config["REDIS_URL"]
    if redis_url and reachable(redis_url):
        mode = f"Redis at {redis_url}"
    else:
        started = start_embedded(instance / "redis")
        if started:
            redis_url, redis_process = started
            mode = f"embedded Redis at {redis_url}"
        else:
            redis_url = ""
            env["JOBS_MODE"] = "inline"
            mode = "no Redis could be started: jobs run inline in the web process"
    env["REDIS_URL"] = redis_url
    consult = [sys.executable, "-m", "consult"]
    subprocess.run([*consult, "db", "upgrade"], env=env, check=True)  # noqa: S603
    subprocess.run([*consult, "demo"], env=env, check=True)  # noqa: S603
    worker = None
    if redis_url:
        worker = subprocess.Popen([*consult, "worker"], env=env)  # noqa: S603
    else:
        worker = subprocess.Popen([*consult, "scheduler"], env=env)  # noqa: S603
    click.echo("")
    click.echo(f"  Consult is running at http://{host}:{port}/")
    click.echo(f"  Background jobs: {mode}")
    click.echo("  Demo sign-ins (password: consult-demo):")
    from .demo.loader import DEMO_LOGINS

    for email, role in DEMO_LOGINS:
        click.echo(f"    {email:<32} {role}")
    click.echo("")
    try:
        subprocess.run(  # noqa: S603
            [*consult, "run", "--host", host, "--port", str(port), "--no-reload"],
            env=env,
            check=False,
        )
    except KeyboardInterrupt:
        pass
    finally:
        for process in (worker, redis_process):
            if process is not None:
                process.terminate()
