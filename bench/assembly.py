"""The assembly's load (issue 20): 300 delegates sign in within a minute or
two, then all of them vote at once when the chair opens the final approval.

Served by gunicorn as bench/load.py starts it (consult/gunicorn_conf.py, 4 sync
workers unless told otherwise) on the database given; every delegate's password is hashed with the
application's own Argon2id parameters, so a sign-in costs what it costs in
production. Reports the sign-in burst (p50/p95/max, total) and the vote burst
(p50/p95/max, total, ballots counted in the database, unexpected answers).

    python bench/assembly.py            # a fresh SQLite database
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test python bench/assembly.py
"""

import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import signins  # noqa: E402
from load import gunicorn  # noqa: E402
from loadgen import percentile, request  # noqa: E402

DELEGATES = 300
PASSWORD = "assembly-bench-password"  # noqa: S105  # nosec B105: bench data
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PLAN_TEXT = "PLAN DE ACCIÓN\n\nSECCIÓN UNO\n\n1. Primer punto.\n2. Segundo punto.\n"


def seed(database_url: str, delegates: int) -> dict:
    """A forum with ``delegates`` delegates and an open, secret assembly vote
    on approving its plan."""
    from consult import create_app
    from consult.accounts import services as accounts
    from consult.accounts.models import User
    from consult.database import utcnow
    from consult.extensions import db
    from consult.forums import services as forums
    from consult.forums.models import Membership
    from consult.plans import services as plans
    from consult.votes import lifecycle as votes_lifecycle
    from consult.votes import setup as votes_setup

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "JOBS_MODE": "inline",
            "MAIL_BACKEND": "log",
            "REDIS_URL": "",
            "SECRET_KEY": "assembly-bench",
        }
    )
    with app.app_context():
        db.create_all()
        chair = accounts.create_user("chair@assembly.example", "Chair", PASSWORD, is_admin=True)
        forum = forums.create_forum(None, "asamblea", "Asamblea")
        forums.add_member(None, forum, chair, role="facilitator")
        # One real hash with the application's parameters, shared: each
        # sign-in still verifies it at full cost.
        password_hash = chair.password_hash
        emails = [f"delegate{n}@assembly.example" for n in range(delegates)]
        db.session.execute(
            User.__table__.insert(),
            [
                {
                    "email": email,
                    "display_name": f"Delegado {n}",
                    "password_hash": password_hash,
                    "locale": "es",
                }
                for n, email in enumerate(emails)
            ],
        )
        ids = db.session.scalars(db.select(User.id).where(User.email.in_(emails))).all()
        db.session.execute(
            Membership.__table__.insert(),
            [
                {
                    "forum_id": forum.id,
                    "user_id": user_id,
                    "role": "member",
                    "is_delegate": True,
                    "vote_weight": 1,
                }
                for user_id in ids
            ],
        )
        plan = plans.import_plan(chair, forum, PLAN_TEXT)
        now = utcnow()
        poll = votes_setup.create_poll(
            chair,
            plan,
            subject="plan",
            scope="assembly",
            opens_at=now,
            closes_at=now + timedelta(days=1),
            settings=votes_setup.PollSettings(title="Aprobación del plan"),
        )
        votes_lifecycle.open_poll(chair, poll)
        db.session.commit()
        seeded = {"emails": emails, "poll_path": f"/forums/{forum.slug}/polls/{poll.id}"}
        seeded["poll_id"] = poll.id
        db.session.remove()
        db.engine.dispose()
    return seeded


def _session(base: str, email: str, poll_path: str) -> tuple[str, str]:
    """A signed-in delegate's cookie and the vote form's CSRF token."""
    jar: dict[str, str] = {}

    def send(method, path, form=None):
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        status, _seconds, headers, body = request(
            base, method, path, urlencode(form) if form else "", cookie
        )
        for header in headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            jar[name.strip()] = value
        return status, body.decode("utf-8", "replace")

    _status, html = send("GET", "/sign-in")
    token = CSRF.search(html).group(1)
    form = {"csrf_token": token, "email": email, "password": PASSWORD}
    status, _ = send("POST", "/sign-in", form)
    if status != 302:
        raise RuntimeError(f"sign-in of {email}: {status}")
    status, html = send("GET", poll_path)
    match = CSRF.search(html)
    if status != 200 or not match:
        raise RuntimeError(f"{poll_path}: {status}, no vote form")
    return "; ".join(f"{k}={v}" for k, v in jar.items()), match.group(1)


def vote_burst(base: str, sessions: list[tuple[str, str]], poll_path: str) -> dict:
    """Every delegate posts a ballot at the same moment (one thread each)."""
    start = threading.Barrier(len(sessions))
    outcomes: list[tuple[int | None, float]] = []
    lock = threading.Lock()

    def cast(session):
        cookie, token = session
        body = urlencode({"csrf_token": token, "choice": "yes"})
        start.wait()
        try:
            status, seconds, _headers, _body = request(
                base, "POST", f"{poll_path}/vote", body, cookie
            )
        except OSError:
            status, seconds = None, None
        with lock:
            outcomes.append((status, seconds))

    started = time.perf_counter()
    threads = [threading.Thread(target=cast, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    latencies = [seconds for status, seconds in outcomes if seconds is not None]
    statuses: dict[str, int] = {}
    for status, _seconds in outcomes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "ballots_sent": len(sessions),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "total_seconds": round(total, 2),
        "statuses": statuses,
        # A ballot is answered with the page that shows its receipt code (200).
        "unexpected_answers": sum(n for s, n in statuses.items() if s != "200"),
    }


def ballots_counted(database_url: str, poll_id: int) -> int:
    from sqlalchemy import create_engine, func, select

    from consult.votes.models import Ballot

    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id)
        )
    engine.dispose()
    return count


def run(database_url: str, *, workers: int = 4, delegates: int = DELEGATES) -> dict:
    seeded = seed(database_url, delegates)
    static_dir = Path(tempfile.mkdtemp(prefix="consult-bench-assembly-static-"))
    with gunicorn(database_url, static_dir, workers=workers) as base:
        sign_in_burst = signins.run(base, seeded["emails"], PASSWORD, concurrency=delegates)
        with ThreadPoolExecutor(16) as pool:
            sessions = list(
                pool.map(lambda e: _session(base, e, seeded["poll_path"]), seeded["emails"])
            )
        votes = vote_burst(base, sessions, seeded["poll_path"])
    votes["ballots_in_database"] = ballots_counted(database_url, seeded["poll_id"])
    return {
        "server": f"gunicorn, {workers} workers of consult/gunicorn_conf.py (gthread)",
        "delegates": delegates,
        "sign_in_burst": sign_in_burst,
        "vote_burst": votes,
    }


def main() -> None:
    from run import own_database  # the bench's rule: only databases of its own

    logging.getLogger("consult.mail").setLevel(logging.WARNING)  # the opening's emails
    kind = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    with own_database(kind, "assembly") as url:
        result = run(url, workers=workers)
    result["database"] = kind
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
