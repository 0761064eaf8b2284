"""``consult dev`` (``make run``): everything a newcomer needs, in one terminal.

It migrates, loads the demo, starts Redis when none answers, a worker (or,
without Redis, the scheduler) and the web server, waits until they are up and
prints the demo sign-ins last. The children's logs go to ``instance/logs/``;
the console shows only their warnings, errors and a line per email sent (the
email itself is in ``instance/mail/``). Ctrl-C, SIGTERM or the web server
ending by itself stops every process it started (consult/processes.py).
"""

import contextlib
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.worker import WorkerStatus

from .background import run_scheduler_once
from .demo.loader import DEMO_LOGINS, DEMO_PASSWORD, PEOPLE, load_demo
from .dev_logging import CHILD_FLAG
from .extensions import db
from .jobs import QUEUES
from .processes import Children, StopRequest, stop_with_parent
from .redis_runtime import reachable, start_embedded

READY_TIMEOUT = 60
LANGUAGES = {"es": "Spanish", "en": "English", "pt": "Portuguese"}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own http URL)
            return response.status == 200
    except (URLError, OSError):
        return False


def _worker_idle(redis_url: str) -> bool:
    """A worker listens and has sent what the demo queued (its emails' lines
    come before the banner, not after)."""
    connection = Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    try:
        workers = Worker.all(connection=connection)
        queues = [Queue(name, connection=connection) for name in QUEUES]
        return (
            bool(workers)
            and all(worker.get_state() != WorkerStatus.BUSY for worker in workers)
            and not any(queue.count or queue.started_job_registry.count for queue in queues)
        )
    except (RedisError, OSError, ValueError):
        return False
    finally:
        connection.close()


def _wait_until_ready(health_url: str, redis_url: str, children: Children, stop) -> bool:
    """Until the web server answers and the worker listens, idle twice in a
    row (their startup chatter done), a child ends, a stop is asked for or
    the time is up."""
    deadline = time.monotonic() + READY_TIMEOUT
    settled = 0
    while time.monotonic() < deadline:
        if stop or children.exited():
            return False
        ready = _answers(health_url) and (not redis_url or _worker_idle(redis_url))
        settled = settled + 1 if ready else 0
        if settled == 2:
            return True
        stop.sleep(0.3)
    click.echo(f"  (still starting after {READY_TIMEOUT} s: see instance/logs/)", err=True)
    return True


def _banner(url: str, mode: str, instance: Path) -> list[str]:
    languages = {email: LANGUAGES[locale] for email, _n, locale, *_rest in PEOPLE}
    lines = [
        "",
        f"  Consult is running at {url}",
        f"  Background jobs: {mode}",
        f"  Emails: a line each on this console, the messages in {_shown(instance / 'mail')}/",
        f"  Logs: {_shown(instance / 'logs')}/    Stop: Ctrl-C",
        f"  Demo sign-ins (password: {DEMO_PASSWORD}), each in the language shown:",
    ]
    for email, role in DEMO_LOGINS:
        role = role.split(" (")[0]
        lines.append(f"    {email:<32} {role:<12} {languages.get(email, '')}".rstrip())
    return lines


def _shown(path: Path) -> str:
    """A path as short as it can be said from here."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _log_file(instance: Path, name: str):
    folder = instance / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return (folder / f"{name}.log").open("w", buffering=1, encoding="utf-8")


@dataclass
class DevRun:
    """One ``consult dev``: its environment for the children and the children."""

    instance: Path
    env: dict
    stop: StopRequest = field(default_factory=StopRequest)
    children: Children = field(default_factory=Children)
    mode: str = ""

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "consult", *args]

    def choose_redis(self, configured: str) -> None:
        """The configured Redis, else an embedded one, else none (jobs inline)."""
        if configured and reachable(configured):
            self.env["REDIS_URL"] = configured
            self.mode = f"Redis at {configured}"
            return
        started = start_embedded(self.instance / "redis")
        if started is None:
            self.env.update(REDIS_URL="", JOBS_MODE="inline")
            self.mode = "no Redis could be started: jobs run inline in the web process"
            return
        self.env["REDIS_URL"], process = started
        self.children.adopt("redis", process)
        self.mode = f"embedded Redis at {self.env['REDIS_URL']}"

    def prepare(self, app) -> None:
        """Migrate and load the demo here (the app is loaded already: two
        interpreters' start saved), jobs going to the Redis chosen for the
        children, or inline without one."""
        app.config["REDIS_URL"] = self.env["REDIS_URL"]
        app.config["JOBS_MODE"] = self.env.get("JOBS_MODE") or (
            "rq" if self.env["REDIS_URL"] else "inline"
        )
        app.extensions.pop("consult_redis", None)  # a connection to the old URL
        # Alembic's logging (set up by migrations/env.py) writes to the stderr of
        # the moment: the setup log, kept open as long as this process runs.
        with contextlib.redirect_stderr(_log_file(self.instance, "setup")):
            upgrade()
        load_demo()
        db.session.commit()
        # What is due now (the demo's phase opening, its emails) is queued before
        # the worker starts, so that it is done before the banner, not after.
        run_scheduler_once()

    def start(self, name: str, *args: str) -> None:
        env = {**self.env, CHILD_FLAG: "1", "PYTHONUNBUFFERED": "1"}
        log = _log_file(self.instance, name)
        self.children.start(name, self.command(*args), env=env, stdout=log)

    def serve(self, host: str, port: int) -> int:
        """Start the worker (or the scheduler) and the web server, print the
        banner once they are up, and run until a stop or a child's end."""
        if self.env["REDIS_URL"]:
            self.start("worker", "worker")
        else:
            self.start("scheduler", "scheduler")
        self.start("web", "run", "--host", host, "--port", str(port), "--no-reload")
        address = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104
        health = f"http://{address}:{port}/healthz"
        if _wait_until_ready(health, self.env["REDIS_URL"], self.children, self.stop):
            click.echo("\n".join(_banner(f"http://{host}:{port}/", self.mode, self.instance)))
        while not self.stop.sleep(0.5):
            if ended := self.children.exited():
                name, status = ended
                click.echo(f"The {name} process ended ({status}): stopping Consult.", err=True)
                return 1
        return 0


@click.command("dev")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def dev_command(host, port):
    """Migrate, load the demo, start Redis (if needed), a worker and the web server."""
    env = {key: value for key, value in os.environ.items() if key != CHILD_FLAG}
    app = current_app._get_current_object()
    run = DevRun(Path(app.config["INSTANCE_DIR"]), env)
    stop_with_parent()  # once run.stop handles SIGTERM
    status = 0
    try:
        run.choose_redis(app.config["REDIS_URL"])
        run.prepare(app)
        if not run.stop:
            status = run.serve(host, port)
    finally:
        run.children.stop_all()
    sys.exit(status)
