"""Fan-out of one event to many members, measured (never asserted).

    .venv/bin/python bench/notifications.py [MEMBERS]

Runs on a throw-away SQLite file (bench/run.py gives it a database of its own). Three
steps, each reported as time and cost per member: the notifications written
(``notify_many``, one INSERT), the emails rendered in each member's language
and added to the outbox (the batch jobs' first half, run here in-process), and
their delivery to a local SMTP server (aiosmtpd, in a process of its own as a
real server is) over one connection per batch. Each step also gives its CPU
time in this process (our own time, without the server's) and the number of
SQL statements it ran.
"""

import multiprocessing
import os
import socket
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Counter:
    def __init__(self):
        self.messages = 0
        self.connections = set()

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        self.connections.add(session.peer)
        return "250 Message accepted"


def _serve(port: int, ready, stop, results) -> None:
    """The SMTP server's process: counts messages and connections until told to stop."""
    import logging

    from aiosmtpd.controller import Controller

    # aiosmtpd logs every command at INFO: eight lines a message written to the
    # bench's output would be the server's cost, measured as ours.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    results.put((counter.messages, len(counter.connections)))


class _Server:
    def __init__(self):
        # fork: the child only serves SMTP (no database, no app), and callers need no
        # `if __name__ == "__main__"` guard as spawn would.
        context = multiprocessing.get_context("fork")
        self.port = _free_port()
        self.ready, self.stop, self.results = context.Event(), context.Event(), context.Queue()
        self.process = context.Process(
            target=_serve, args=(self.port, self.ready, self.stop, self.results), daemon=True
        )

    def __enter__(self):
        self.process.start()
        if not self.ready.wait(60):
            raise RuntimeError("the SMTP server did not start")
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        self.counts = self.results.get(timeout=60)
        self.process.join(60)


@contextmanager
def _measured(engine, into: dict, name: str):
    """Wall time, this process's CPU time and the SQL statements of one step."""
    from sqlalchemy import event

    statements = {"n": 0}

    def count(*_args, **_kwargs):
        statements["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        into[f"{name}_seconds"] = round(time.perf_counter() - wall, 3)
        into[f"{name}_cpu_seconds"] = round(time.process_time() - cpu, 3)
        into[f"{name}_statements"] = statements["n"]
        event.remove(engine, "before_cursor_execute", count)


def bench_fanout(members: int = 10_000, url: str | None = None) -> dict:
    """The three steps' times; see the module docstring."""
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    # It empties the database it is given: a throw-away one unless told (never DATABASE_URL).
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    from sqlalchemy import insert, select

    from consult import create_app
    from consult.accounts.models import User
    from consult.extensions import db
    from consult.forums.services import create_forum
    from consult.mail.delivery import deliver_many
    from consult.mail.services import pending_ids
    from consult.notification_delivery import emails
    from consult.notifications.models import Notification
    from consult.notifications.services import notify_many
    from consult.plans import services as plans

    measured: dict = {}
    with _Server() as server:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "JOBS_MODE": "inline",
                "MAIL_BACKEND": "smtp",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": server.port,
                "BASE_URL": "https://consult.example",
            }
        )
        size = app.config["MAIL_BATCH_SIZE"]
        with app.app_context():
            db.drop_all()
            db.create_all()
            engine = db.engine
            forum = create_forum(None, "bench", "Bench")
            plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
            locales = ("es", "en", "pt")
            db.session.execute(
                insert(User.__table__),
                [
                    {
                        "email": f"m{i}@bench.example",
                        "display_name": f"Miembro {i}",
                        "locale": locales[i % 3],
                    }
                    for i in range(members)
                ],
            )
            db.session.commit()
            user_ids = list(db.session.scalars(select(User.id)))

            with _measured(engine, measured, "written"):
                notify_many(user_ids, "plan_approved", plan, forum=forum, title=plan.title)
                db.session.info.pop(emails._PENDING, None)  # the jobs run below, one by one
                db.session.commit()

            ids = list(db.session.scalars(select(Notification.id).order_by(Notification.id)))
            batches = [ids[i : i + size] for i in range(0, len(ids), size)]
            with _measured(engine, measured, "rendered"):
                for batch in batches:
                    emails.prepare_emails(batch)
                    db.session.commit()

            with _measured(engine, measured, "sent"):
                for batch in batches:
                    deliver_many(pending_ids([f"notification:{i}" for i in batch]))
    messages, connections = server.counts

    return {
        "database": url.split(":", 1)[0],
        "members": members,
        "batch_size": size,
        "jobs": len(batches),
        **measured,
        "smtp_connections": connections,
        "messages_received": messages,
    }


def markdown(result: dict) -> str:
    members = result["members"]

    def row(name, step):
        seconds = result[f"{step}_seconds"]
        cpu = result.get(f"{step}_cpu_seconds")
        statements = result.get(f"{step}_statements", "")
        cpu_ms = f"{cpu / members * 1000:.3f}" if cpu is not None else ""
        return (
            f"| {name} | {seconds:.2f} | {seconds / members * 1000:.3f} | {cpu_ms} | {statements} |"
        )

    return "\n".join(
        [
            f"Fan-out of one event to {members:,} members ({result['database']}, "
            f"batches of {result['batch_size']}):",
            "",
            "| step | seconds | ms per member | CPU ms per member | SQL statements |",
            "| --- | ---: | ---: | ---: | ---: |",
            row("notifications written (one INSERT)", "written"),
            row(f"emails rendered into the outbox ({result['jobs']} jobs)", "rendered"),
            row(f"sent over SMTP ({result['smtp_connections']} connections)", "sent"),
            f"\nThe SMTP server (a process of its own) received "
            f"{result['messages_received']:,} messages.",
        ]
    )


def main(members: int = 10_000) -> None:
    print(markdown(bench_fanout(members)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
