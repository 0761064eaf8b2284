"""Fan-out of one event to many members, measured (never asserted).

    .venv/bin/python bench/notifications.py [MEMBERS]

Runs against DATABASE_URL when set, otherwise a throw-away SQLite file. Three
steps, each reported as time and cost per member: the notifications written
(``notify_many``, one INSERT), the emails rendered in each member's language
and added to the outbox (the batch jobs' first half, run here in-process), and
their delivery to a local SMTP server (aiosmtpd) over one connection per batch.
"""

import os
import socket
import sys
import tempfile
import time
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


def bench_fanout(members: int = 10_000, url: str | None = None) -> dict:
    """The three steps' times; see the module docstring."""
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    from aiosmtpd.controller import Controller
    from sqlalchemy import insert, select

    from consult import create_app
    from consult.accounts.models import User
    from consult.extensions import db
    from consult.forums.services import create_forum
    from consult.mail.services import deliver_many, pending_ids
    from consult.notifications import emails
    from consult.notifications.models import Notification
    from consult.notifications.services import notify_many
    from consult.plans import services as plans

    counter = _Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "JOBS_MODE": "inline",
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": controller.port,
            "BASE_URL": "https://consult.example",
        }
    )
    size = app.config["MAIL_BATCH_SIZE"]
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            forum = create_forum(None, "bench", "Bench")
            plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
            locales = ("es", "en", "pt")
            db.session.execute(
                insert(User),
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

            started = time.perf_counter()
            notify_many(user_ids, "plan_approved", plan, forum=forum, title=plan.title)
            db.session.info.pop(emails._PENDING, None)  # the jobs run below, one by one
            db.session.commit()
            written = time.perf_counter() - started

            ids = list(db.session.scalars(select(Notification.id).order_by(Notification.id)))
            batches = [ids[i : i + size] for i in range(0, len(ids), size)]
            started = time.perf_counter()
            for batch in batches:
                emails.prepare_emails(batch)
                db.session.commit()
            rendered = time.perf_counter() - started

            started = time.perf_counter()
            for batch in batches:
                deliver_many(pending_ids([f"notification:{i}" for i in batch]))
            sent = time.perf_counter() - started
    finally:
        controller.stop()

    return {
        "database": url.split(":", 1)[0],
        "members": members,
        "batch_size": size,
        "jobs": len(batches),
        "written_seconds": round(written, 3),
        "rendered_seconds": round(rendered, 3),
        "sent_seconds": round(sent, 3),
        "smtp_connections": len(counter.connections),
        "messages_received": counter.messages,
    }


def markdown(result: dict) -> str:
    members = result["members"]

    def row(name, seconds):
        return f"| {name} | {seconds:.2f} | {seconds / members * 1000:.3f} |"

    return "\n".join(
        [
            f"Fan-out of one event to {members:,} members ({result['database']}, "
            f"batches of {result['batch_size']}):",
            "",
            "| step | seconds | ms per member |",
            "| --- | ---: | ---: |",
            row("notifications written (one INSERT)", result["written_seconds"]),
            row(
                f"emails rendered into the outbox ({result['jobs']} jobs)",
                result["rendered_seconds"],
            ),
            row(
                f"sent over SMTP ({result['smtp_connections']} connections)", result["sent_seconds"]
            ),
            f"\nThe SMTP server received {result['messages_received']:,} messages.",
        ]
    )


def main(members: int = 10_000) -> None:
    print(markdown(bench_fanout(members)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
