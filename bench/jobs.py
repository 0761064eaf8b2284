"""The background work of issue 19's "jobs at their natural speed", measured
alone (never asserted):

    .venv/bin/python bench/jobs.py [consolidation] [phase] [fanout]

- consolidation: the consolidated draft of a 2,000-item plan with 3,000
  accepted amendments (``run.bench_consolidation``, as `make bench` runs it),
  with the SQL statements of the job;
- rebase: a consolidated draft that also moves 2,000 open amendments onto
  the new version (carried over, or handed back to their authors);
- phase: a facilitator's phase change in a forum of 5,000 members who get no
  email (as bench/load.py's large forum), every member notified twice, with
  the email jobs run inline as a single-process deployment runs them; the
  statements of the change itself and of the jobs;
- fanout: bench/notifications.py's fan-out to 10,000 members.

Runs against DATABASE_URL when set (emptied first: give it a database of its
own), otherwise throw-away SQLite files.
"""

import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PARTS = ("consolidation", "rebase", "phase", "fanout")


def _app(url: str):
    from consult import create_app
    from consult.extensions import db
    from consult.forums.services import create_forum

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "JOBS_MODE": "inline"}
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        create_forum(None, "bench", "Bench")
        db.session.commit()
    return app


class _Statements:
    def __init__(self, engine):
        self.engine, self.n = engine, 0

    def _count(self, *_args, **_kwargs):
        self.n += 1

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)


def bench_consolidation(url: str) -> dict:
    import run

    from consult.extensions import db

    app = _app(url)
    with app.app_context():
        engine = db.engine
    with _Statements(engine) as counted:
        result = run.bench_consolidation(app)
    # (The count includes writing the 3,000 amendments, one multi-row INSERT.)
    return {**result, "statements_with_setup": counted.n}


def bench_rebase(url: str, items=2000, accepted=1000, still_open=2000, seed=11) -> dict:
    """A consolidated draft that carries open amendments over: ``accepted``
    replacements applied, then ``still_open`` amendments (by 200 authors) on
    random items moved onto the new version, carried over or handed back."""
    import random

    import run
    from sqlalchemy import insert, select

    from consult.accounts.models import User
    from consult.amendments.models import Amendment
    from consult.consolidation import job as consolidation_job
    from consult.consolidation.models import Consolidation
    from consult.extensions import db
    from consult.forums.models import Forum
    from consult.plans import services as plans

    rng = random.Random(seed)
    app = _app(url)
    with app.app_context():
        engine = db.engine
        forum = db.session.scalar(select(Forum).where(Forum.slug == "bench"))
        db.session.execute(
            insert(User.__table__),
            [{"email": f"a{i}@bench.example", "display_name": f"Autora {i}"} for i in range(200)],
        )
        authors = db.session.scalars(select(User.id)).all()
        plan = plans.import_plan(None, forum, run.synthetic_plan(items))
        version = plan.current_version
        nodes = [n for n in plans.version_nodes(version) if n.kind == "item"]
        rows = []
        for number in range(1, accepted + still_open + 1):
            node = rng.choice(nodes)
            words = node.text.split(" ")
            at = rng.randrange(len(words))
            rows.append(
                {
                    "forum_id": forum.id,
                    "plan_id": plan.id,
                    "number": number,
                    "base_version_id": version.id,
                    "target_key": node.key,
                    "target_ref": node.ref,
                    "operation": "replace",
                    "original_text": node.text,
                    "proposed_text": " ".join([*words[:at], f"palabra{number}", *words[at + 1 :]]),
                    "justification": "",
                    "language": "es",
                    "status": "accepted" if number <= accepted else "submitted",
                    "origin": "web",
                    "author_id": rng.choice(authors),
                    "author_name": "",
                    "is_compromise": False,
                    "lock_version": 1,
                    "created_at": datetime.now(UTC),
                }
            )
        db.session.execute(insert(Amendment), rows)
        request = Consolidation(plan_id=plan.id, active_plan_id=plan.id, report={})
        db.session.add(request)
        db.session.commit()
        request_id = request.id
    from consult.notification_delivery import emails

    held = []  # the authors' email jobs: measured in the fan-out, not here
    real_enqueue = emails.enqueue_batches
    emails.enqueue_batches = lambda ids, **_: held.append(ids) or 1
    try:
        with app.app_context():
            started = time.perf_counter()
            with _Statements(engine) as counted:
                done = consolidation_job.run(request_id)
            seconds = time.perf_counter() - started
    finally:
        emails.enqueue_batches = real_enqueue
    with app.app_context():
        done = db.session.get(Consolidation, request_id)
        moved = done.rebased_count + done.revise_count
        return {
            "items": items,
            "accepted": accepted,
            "open": still_open,
            "applied": done.applied_count,
            "carried_over": done.rebased_count,
            "handed_back": done.revise_count,
            "seconds": round(seconds, 3),
            "ms_per_amendment": round(seconds / (accepted + still_open) * 1000, 3),
            "statements": counted.n,
            "moved": moved,
        }


def bench_phase_change(url: str, members: int = 5_000) -> dict:
    from sqlalchemy import func, insert, select

    from consult.accounts.models import User
    from consult.accounts.services import create_user
    from consult.consultations import scheduler as phase_scheduler
    from consult.consultations import services as consultations
    from consult.consultations.services import PhaseInput
    from consult.extensions import db
    from consult.forums.models import Forum, Membership
    from consult.forums.services import add_member
    from consult.notification_delivery import emails
    from consult.notifications.models import Notification
    from consult.plans import services as plans

    app = _app(url)
    now = datetime.now(UTC)
    with app.app_context():
        engine = db.engine
        forum = db.session.scalar(select(Forum).where(Forum.slug == "bench"))
        db.session.execute(
            insert(User.__table__),
            [
                {
                    "email": f"m{i}@bench.example",
                    "display_name": f"Miembro {i}",
                    "locale": ("es", "en", "pt")[i % 3],
                    "notification_preference": "never",
                }
                for i in range(members)
            ],
        )
        user_ids = db.session.scalars(select(User.id)).all()
        db.session.execute(
            insert(Membership),
            [{"forum_id": forum.id, "user_id": uid, "role": "member"} for uid in user_ids],
        )
        facilitator = create_user("facilitator@bench.example", "Facilitator", "bench password 123")
        add_member(None, forum, facilitator, role="facilitator")
        plan = plans.import_plan(None, forum, "Plan\n\n1. Punto.\n")
        consultation = consultations.create_consultation(
            facilitator,
            plan,
            title="Bench",
            phases=[
                PhaseInput("amendments", now - timedelta(days=1), now + timedelta(days=30)),
                PhaseInput("review", now + timedelta(days=30), now + timedelta(days=60)),
            ],
        )
        db.session.commit()
        phase_scheduler.advance_due(now)  # the first phase opens (and its jobs run)
        db.session.commit()
        before = db.session.scalar(select(func.max(Notification.id)))

        # The change itself, its jobs held back and counted apart.
        held = []
        real_enqueue = emails.enqueue_batches
        emails.enqueue_batches = lambda ids, **_: held.append(ids) or 1
        try:
            started = time.perf_counter()
            with _Statements(engine) as change:
                phase_scheduler.advance(facilitator, consultation)
                db.session.commit()
            change_seconds = time.perf_counter() - started
        finally:
            emails.enqueue_batches = real_enqueue
        started = time.perf_counter()
        with _Statements(engine) as jobs:
            for batch in held:
                for start in range(0, len(batch), app.config["MAIL_BATCH_SIZE"]):
                    emails.email_notifications(batch[start : start + app.config["MAIL_BATCH_SIZE"]])
                    db.session.commit()
        jobs_seconds = time.perf_counter() - started
        written = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.id > before)
        )
    return {
        "database": url.split(":", 1)[0],
        "members": members,
        "notifications_written": written,
        "change_seconds": round(change_seconds, 3),
        "change_statements": change.n,
        "jobs": sum(-(-len(b) // app.config["MAIL_BATCH_SIZE"]) for b in held),
        "jobs_seconds": round(jobs_seconds, 3),
        "jobs_statements": jobs.n,
        "total_seconds": round(change_seconds + jobs_seconds, 3),
    }


def markdown(results: dict) -> str:
    lines = []
    if "consolidation" in results:
        c = results["consolidation"]
        lines.append(
            f"Consolidated draft of {c['items']} items with {c['accepted_amendments']} accepted "
            f"amendments: {c['seconds']} s ({c['seconds_per_amendment'] * 1000:.3f} ms per "
            f"amendment), {c['applied']} applied, {c['conflicts']} conflicts."
        )
    if "rebase" in results:
        r = results["rebase"]
        lines.append(
            f"Consolidated draft of {r['items']} items applying {r['applied']} of {r['accepted']} "
            f"accepted amendments and moving {r['open']} open ones onto it "
            f"({r['carried_over']} carried over, {r['handed_back']} handed back): "
            f"{r['seconds']} s ({r['ms_per_amendment']} ms per amendment) in "
            f"{r['statements']} statements."
        )
    if "phase" in results:
        p = results["phase"]
        lines.append(
            f"Phase change in a forum of {p['members']:,} members ({p['database']}), "
            f"{p['notifications_written']:,} notifications: the change {p['change_seconds']} s in "
            f"{p['change_statements']} statements; its {p['jobs']} email jobs "
            f"{p['jobs_seconds']} s in {p['jobs_statements']} statements; "
            f"{p['total_seconds']} s in all."
        )
    if "fanout" in results:
        from notifications import markdown as fanout_markdown

        lines.append(fanout_markdown(results["fanout"]))
    return "\n\n".join(lines)


def main() -> None:
    parts = set(sys.argv[1:]) or set(PARTS)
    if parts - set(PARTS):
        sys.exit(f"unknown part(s) {sorted(parts - set(PARTS))}; choose among {', '.join(PARTS)}")
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    logging.getLogger("consult.mail").setLevel(logging.WARNING)
    given = os.environ.get("DATABASE_URL")
    folder = tempfile.mkdtemp()

    def url(name: str) -> str:
        return given or f"sqlite:///{folder}/{name}.db"

    results = {}
    if "consolidation" in parts:
        results["consolidation"] = bench_consolidation(url("consolidation"))
    if "rebase" in parts:
        results["rebase"] = bench_rebase(url("rebase"))
    if "phase" in parts:
        results["phase"] = bench_phase_change(url("phase"))
    if "fanout" in parts:
        from notifications import bench_fanout

        results["fanout"] = bench_fanout(10_000, url("fanout"))
    print(markdown(results))


if __name__ == "__main__":
    main()
