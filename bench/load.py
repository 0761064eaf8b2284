"""Pages under load: the large forum (bench/large_forum.py) served by gunicorn
with 2 workers, then with 4, measured by bench/loadgen.py from a second process
(two client threads per worker).

Each page's throughput is also given as a ratio to two baselines measured in
the same run on the same server: a trivial route (/healthz) and a static file
of the plan page's size. Machines are noisy; the ratios are what to compare.
"""

import contextlib
import json
import os
import re
import socket
import subprocess  # nosec B404: starts gunicorn and the load generator
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import large_forum
from loadgen import request
from sqlalchemy import event

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
THREADS_PER_WORKER = 2
VOTES = 200  # ballots submitted under load by each server, one per voter (of 500)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    database_url: str, static_dir: Path, workers: int = 2, app: str = "wsgi:app", env=None
):
    port = free_port()
    instance = tempfile.mkdtemp(prefix="consult-bench-server-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key",
        "CONSULT_INSTANCE": instance,
        "JOBS_MODE": "inline",
        "MAIL_BACKEND": "log",
        "REDIS_URL": "",
        "BENCH_STATIC_DIR": str(static_dir),
        **(env or {}),
    }
    log = Path(instance) / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(  # noqa: S603  # nosec B603: fixed arguments
            [
                str(BIN / "gunicorn"),
                # The production settings (timeouts, worker heartbeat on tmpfs).
                "--config",
                "python:consult.gunicorn_conf",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--pythonpath",
                str(HERE),
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(base, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


class Browser:
    """Cookies and CSRF tokens of one signed-in person, over plain requests."""

    def __init__(self, base: str):
        self.base = base
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def send(self, method: str, path: str, form: dict | None = None):
        status, _seconds, headers, body = request(
            self.base, method, path, urlencode(form) if form else "", self.cookie
        )
        for header in headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return status, body.decode("utf-8", "replace")

    def token(self, path: str) -> str:
        status, html = self.send("GET", path)
        match = CSRF.search(html)
        if status != 200 or not match:
            raise RuntimeError(f"{path}: {status}, no CSRF token")
        return match.group(1)

    def sign_in(self, email: str) -> "Browser":
        token = self.token("/sign-in")
        form = {"csrf_token": token, "email": email, "password": large_forum.PASSWORD}
        status, _ = self.send("POST", "/sign-in", form)
        if status != 302:
            raise RuntimeError(f"sign-in of {email}: {status}")
        return self


def count_statements(app, paths: dict[str, str], member: str, vote_path: str, voter: str):
    """SQL statements of one request to each page (and of one vote), in process."""
    from consult.extensions import db

    with app.app_context():
        engine = db.engine
    counts = {}
    reader, balloter = app.test_client(), app.test_client()
    reader.post("/sign-in", data={"email": member, "password": large_forum.PASSWORD})
    balloter.post("/sign-in", data={"email": voter, "password": large_forum.PASSWORD})
    requests = {name: (reader.get, path, {}) for name, path in paths.items()}
    requests["ballot"] = (balloter.post, vote_path, {"data": {"choice": "yes"}})
    for name, (send, path, options) in requests.items():
        seen = {"n": 0}

        def count(*_args, _seen=seen, **_kwargs):
            _seen["n"] += 1

        event.listen(engine, "before_cursor_execute", count)
        response = send(path, **options)
        event.remove(engine, "before_cursor_execute", count)
        counts[name] = {"statements": seen["n"], "status": response.status_code}
    return counts


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return round(time.perf_counter() - started, 3)


def server_side_work(app, large) -> dict:
    """What the large forum costs outside requests: a stored 5,000-ballot tally
    recomputed, and a phase change that notifies all 5,000 members twice."""
    from consult.accounts.models import User
    from consult.consultations import scheduler as phase_scheduler
    from consult.consultations import services as consultations
    from consult.extensions import db
    from consult.votes import integrity as votes_integrity
    from consult.votes.models import Poll

    with app.app_context():
        poll = db.session.get(Poll, large.closed_poll_id)
        tally = timed(lambda: votes_integrity.compute_result(poll))
        facilitator = db.session.scalar(db.select(User).where(User.email == large.facilitator))
        consultation = consultations.get_consultation(
            facilitator, large.slug, large.consultation_id
        )

        def advance():
            phase_scheduler.advance(facilitator, consultation)
            db.session.commit()

        fan_out = timed(advance)
    return {
        "tally_5000_stored_ballots_seconds": tally,
        "phase_change_fan_out_seconds": fan_out,
        "notifications_written": 2 * large_forum.MEMBERS,
    }


def bench_load(app, database_url: str, large, workers=(2, 4)) -> dict:
    """The pages of ``large`` (a generated large_forum.LargeForum) under load,
    served by gunicorn with each number of ``workers`` in turn."""
    forum_path = f"/forums/{large.slug}"
    pages = {
        "plan": f"{forum_path}/plans/{large.plan_id}/",
        "amendments": f"{forum_path}/plans/{large.plan_id}/amendments/",
        "thread": (
            f"{forum_path}/comments/thread?target_type=node&plan_id={large.plan_id}"
            f"&target_key={large.thread_key}"
        ),
    }
    poll_path = f"{forum_path}/polls/{large.poll_id}"
    pages["vote page"] = poll_path
    statements = count_statements(app, pages, large.member, f"{poll_path}/vote", large.voters[-1])
    from consult.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # gunicorn's workers write to the same database

    runs = {}
    for index, count in enumerate(workers):
        voters = large.voters[index * VOTES : (index + 1) * VOTES]  # each votes once
        runs[str(count)] = _serve(database_url, large, pages, poll_path, voters, count)
        for name, row in runs[str(count)]["pages"].items():
            if name in statements:
                row["sql_statements"] = statements[name]["statements"]
    return {
        "data": {
            "members": large_forum.MEMBERS,
            "coalitions": large_forum.COALITIONS,
            "working_groups": large_forum.GROUPS,
            "plan_items": large_forum.ITEMS,
            "amendments": large_forum.AMENDMENTS,
            "comments": large_forum.COMMENTS,
            "thread_comments": large_forum.THREAD,
            "ballots": large_forum.BALLOTS,
        },
        "runs": runs,
        "statement_check_status": {name: row["status"] for name, row in statements.items()},
        **server_side_work(app, large),
    }


def _serve(database_url: str, large, pages: dict, poll_path: str, voters, workers: int) -> dict:
    """One gunicorn with ``workers`` workers, each page loaded in turn."""
    threads = THREADS_PER_WORKER * workers
    static_dir = Path(tempfile.mkdtemp(prefix="consult-bench-static-"))
    with gunicorn(database_url, static_dir, workers) as base:
        member = Browser(base).sign_in(large.member)
        status, html = member.send("GET", pages["plan"])
        if status != 200:
            raise RuntimeError(f"plan page: {status}")
        plan_bytes = len(html.encode())
        (static_dir / "plan-sized.html").write_bytes(os.urandom(plan_bytes // 2).hex().encode())

        def voter_session(email: str) -> tuple[str, str]:
            person = Browser(base).sign_in(email)
            return person.token(poll_path), person.cookie

        with ThreadPoolExecutor(threads) as pool:
            ballots = list(pool.map(voter_session, voters))
        vote_requests = [
            ("POST", f"{poll_path}/vote", urlencode({"csrf_token": t, "choice": "yes"}), c)
            for t, c in ballots
        ]

        # As many requests for each page as for the static file it is compared
        # with (each within its time limit): with 400, each worker's first build
        # of a reader's page (kept a minute, in each process) weighed seven
        # times more than in the static file's figure, and more with more workers.
        def get(path: str, cookie: str = "", n: int = 3000) -> list:
            return [("GET", path, "", cookie)] * n

        plan = {
            "base": base,
            "threads": threads,
            "targets": [
                {"name": "healthz", "requests": get("/healthz"), "seconds": 10},
                {
                    "name": "static",
                    "requests": get("/bench-static/plan-sized.html"),
                    "seconds": 10,
                },
                {"name": "plan", "requests": get(pages["plan"], member.cookie), "seconds": 20},
                {
                    "name": "amendments",
                    "requests": get(pages["amendments"], member.cookie),
                    "seconds": 15,
                },
                {"name": "thread", "requests": get(pages["thread"], member.cookie), "seconds": 15},
                {
                    "name": "vote page",
                    "requests": get(pages["vote page"], member.cookie),
                    "seconds": 15,
                },
                # Ballots cast (POST), one per voter: a write, never kept.
                {"name": "ballot", "requests": vote_requests, "seconds": 30, "warmup": 0},
            ],
        }
        loadgen = subprocess.run(  # noqa: S603  # nosec B603: our own script
            [sys.executable, str(HERE / "loadgen.py")],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(loadgen.stdout)

    baseline = {name: measured[name]["requests_per_second"] for name in ("healthz", "static")}
    for row in measured.values():
        rate = row["requests_per_second"] or 0
        row["ratio_to_healthz"] = round(rate / baseline["healthz"], 4)
        row["ratio_to_static"] = round(rate / baseline["static"], 4)
    return {
        "server": f"gunicorn, {workers} sync workers",
        "load_generator_threads": threads,
        "plan_page_bytes": plan_bytes,
        "pages": measured,
    }


def pages_against_static(base: str, static_dir: Path, pages: dict, email: str, workers: int):
    """Each page read by a signed-in member, against a static file of its own
    size served by the same gunicorn: requests per second of both, the page's
    p50 and p95, and the ratio (1.0: as fast as the file)."""
    member = Browser(base).sign_in(email)
    targets, sizes = [], {}
    for name, path in pages.items():
        status, html = member.send("GET", path)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
        sizes[name] = len(html.encode())
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        (static_dir / f"{slug}.html").write_bytes(os.urandom(sizes[name] // 2).hex().encode())
        static = [("GET", f"/bench-static/{slug}.html", "", "")] * 3000
        targets += [
            {"name": f"{name} (static)", "requests": static, "seconds": 10},
            {"name": name, "requests": [("GET", path, "", member.cookie)] * 3000, "seconds": 15},
        ]
    plan = {"base": base, "threads": THREADS_PER_WORKER * workers, "targets": targets}
    loadgen = subprocess.run(  # noqa: S603  # nosec B603: our own script
        [sys.executable, str(HERE / "loadgen.py")],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(loadgen.stdout)
    rows = {}
    for name in pages:
        page, static = measured[name], measured[f"{name} (static)"]
        rows[name] = {
            **page,
            "bytes": sizes[name],
            "static_requests_per_second": static["requests_per_second"],
            "ratio_to_static": round(
                (page["requests_per_second"] or 0) / static["requests_per_second"], 4
            ),
        }
    return rows
