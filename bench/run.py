"""`make bench`: measures, never asserts.

    python bench/run.py               # every part
    python bench/run.py load pdf      # only the parts named
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/postgres python bench/run.py

Each part runs on SQLite (a file in a temporary folder) and, when
BENCH_DATABASE_URL names a PostgreSQL server, again on PostgreSQL: in a new
database ``consult_bench_<random>`` created on that server and dropped at the
end. The database the URL names is only connected to, never written to or
dropped, and DATABASE_URL is not read at all. Parts that do not depend on the
database (tally, pdf) run once, on SQLite.

The last figures of every part on every database are kept in bench/results.json
and bench/results.md (both committed). A run prints its figures beside those
they replace, with the change in per cent; "(worse)" marks a change of more
than 10 % in the wrong direction, so that a slowdown is seen in review. The
load average of the machine is printed with each part: on a shared machine,
compare CPU seconds (the pdf part gives them) rather than wall time.

Adding a part (e.g. a sign-in burst with bench/signins.py, or a vote burst) is
a function ``part(bench: Bench) -> Result`` and one line in PARTS. A part can
use the bench's forum and app (``bench.app``, ``bench.client()``), the large
forum generated once per database (``bench.large_forum()``: 5,000 members whose
password is large_forum.PASSWORD), a gunicorn serving the bench's database
(``with bench.server(workers=4) as base_url:``), or a database of its own
(``with bench.own_database("assembly") as url:``). For example:

    def part_signins(bench):
        large = bench.large_forum()
        emails = [f"large{n}@bench.example" for n in range(300)]
        with bench.server(workers=4) as base:
            burst = signins.run(base, emails, large_forum.PASSWORD, concurrency=16)
        return Result([
            Measure("300 sign-ins: p95", burst["p95_ms"], "ms"),
            Measure("300 sign-ins: total", burst["total_seconds"], "s"),
            Measure("300 sign-ins: failures", burst["failures"], "failures"),
        ])

    PARTS.append(Part("signins", part_signins, title="Sign-in burst"))

The assembly part (part_assembly, with bench/assembly.py) is built this way.
"""

import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import large_forum  # noqa: E402

RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
SAMPLE_113 = ROOT / "tests" / "data" / "plan-113-items.es.txt"
PASSWORD = large_forum.PASSWORD  # every account of the bench has it
WORSE = 10.0  # per cent: a change beyond this, in the wrong direction, is flagged


def synthetic_plan(items: int) -> str:
    lines = ["PLAN SINTÉTICO DE REFERENCIA", "", "Preámbulo del plan de acción.", ""]
    per_section = 20
    for section in range(1, items // per_section + 1):
        lines += [f"SECCIÓN TEMÁTICA {section}", "", "Párrafo introductorio de la sección.", ""]
        for n in range(1, per_section + 1):
            lines.append(
                f"{n}. Promover la cooperación regional en la acción {n} de la sección {section}, "
                "con la participación de las coaliciones nacionales y de la sociedad civil."
            )
        lines.append("")
    return "\n".join(lines)


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def bench_dashboard(app, client, members=5000, amendments=2000, comments=20000) -> dict:
    """A large consultation, written with bulk inserts, then its dashboard measured."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from consult.accounts.models import User
    from consult.amendments.models import Amendment
    from consult.comments.models import Comment
    from consult.consultations.services import PhaseInput, create_consultation
    from consult.extensions import db
    from consult.forums.models import Coalition, Forum, Membership
    from consult.plans import services as plans

    with app.app_context():
        forum = db.session.scalar(db.select(Forum).where(Forum.slug == "bench"))
        plan = plans.import_plan(None, forum, synthetic_plan(200))
        nodes = [n for n in plans.version_nodes(plan.current_version) if n.kind == "item"]
        now = datetime.now(UTC)
        create_consultation(
            None,
            plan,
            title="Bench",
            phases=[PhaseInput("amendments", now - timedelta(days=1), now + timedelta(days=30))],
        )
        coalition_ids = []
        for index in range(30):
            coalition = Coalition(
                forum_id=forum.id,
                name=f"Coalición {index}",
                country=["CO", "BR", "MX", "AR", "CL", "TT"][index % 6],
            )
            db.session.add(coalition)
            db.session.flush()
            coalition_ids.append(coalition.id)
        user_rows = [
            {
                "email": f"m{i}@bench.example",
                "display_name": f"Miembro {i}",
                "locale": "es",
                "notification_preference": "never",
                "active": True,
                "is_admin": False,
                "created_at": now,
            }
            for i in range(members)
        ]
        db.session.execute(insert(User.__table__), user_rows)
        user_ids = db.session.scalars(
            db.select(User.id).where(User.email.like("%@bench.example")).order_by(User.id)
        ).all()
        db.session.execute(
            insert(Membership),
            [
                {
                    "forum_id": forum.id,
                    "user_id": uid,
                    "role": "member",
                    "is_delegate": False,
                    "vote_weight": 1,
                    "coalition_id": coalition_ids[i % 30],
                    "created_at": now,
                }
                for i, uid in enumerate(user_ids)
            ],
        )
        db.session.execute(
            insert(Amendment),
            [
                {
                    "forum_id": forum.id,
                    "plan_id": plan.id,
                    "number": i + 1,
                    "base_version_id": plan.current_version_id,
                    "target_key": nodes[i % len(nodes)].key,
                    "target_ref": nodes[i % len(nodes)].ref,
                    "operation": "replace",
                    "original_text": "a",
                    "proposed_text": "b",
                    "justification": "",
                    "language": "es",
                    "status": ["submitted", "admitted", "accepted", "rejected"][i % 4],
                    "origin": "web",
                    "author_id": user_ids[i % members],
                    "author_name": "",
                    "is_compromise": False,
                    "created_at": now,
                    "lock_version": 1,
                }
                for i in range(amendments)
            ],
        )
        db.session.execute(
            insert(Comment),
            [
                {
                    "forum_id": forum.id,
                    "plan_id": plan.id,
                    "target_type": "node",
                    "target_key": nodes[i % len(nodes)].key,
                    "depth": 0,
                    "author_id": user_ids[(i * 7) % members],
                    "body": "Comentario.",
                    "alignment": ["in_favour", "against", "neutral"][i % 3],
                    "language": "es",
                    "created_at": now,
                    "flag_count": 0,
                }
                for i in range(comments)
            ],
        )
        db.session.commit()
        consultation_id = db.session.scalar(db.text("select max(id) from consultations"))
        engine = db.engine
    path = f"/forums/bench/consultations/{consultation_id}/dashboard"
    admin = app.test_client()
    admin.post(
        "/sign-in", data={"email": "bench-admin@example.org", "password": "bench password 123"}
    )
    statements = {"n": 0}

    def count(*_args, **_kwargs):
        statements["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    first = admin.get(path)
    event.remove(engine, "before_cursor_execute", count)
    samples = timed(lambda: admin.get(path), repeat=3)
    return {
        "status": first.status_code,
        "members": members,
        "amendments": amendments,
        "comments": comments,
        "statements_per_page": statements["n"],
        "page_median_seconds": round(statistics.median(samples), 4),
    }


def bench_consolidation(app, items=2000, accepted=3000, seed=7) -> dict:
    """A consolidated draft of a 2,000-item plan with 3,000 accepted amendments:
    replacements of words in random items (so several hit the same item, some of
    them on the same words), deletions and insertions, run as the job runs."""
    import random
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from consult.amendments.models import Amendment
    from consult.consolidation import job as consolidation_job
    from consult.consolidation.models import Consolidation
    from consult.extensions import db
    from consult.forums.models import Forum
    from consult.plans import services as plans

    rng = random.Random(seed)
    with app.app_context():
        forum = db.session.scalar(db.select(Forum).where(Forum.slug == "bench"))
        plan = plans.import_plan(None, forum, synthetic_plan(items))
        version = plan.current_version
        nodes = [n for n in plans.version_nodes(version) if n.kind == "item"]
        rows = []
        for number in range(1, accepted + 1):
            node = rng.choice(nodes)
            words = node.text.split(" ")
            operation = rng.choices(["replace", "delete", "insert_after"], [90, 3, 7])[0]
            proposed = ""
            if operation == "replace":
                at = rng.randrange(len(words))
                proposed = " ".join([*words[:at], f"palabra{number}", *words[at + 1 :]])
            elif operation == "insert_after":
                proposed = f"Nueva acción propuesta número {number}."
            rows.append(
                {
                    "forum_id": forum.id,
                    "plan_id": plan.id,
                    "number": number,
                    "base_version_id": version.id,
                    "target_key": node.key,
                    "target_ref": node.ref,
                    "operation": operation,
                    "original_text": node.text,
                    "proposed_text": proposed,
                    "justification": "",
                    "language": "es",
                    "status": "accepted",
                    "origin": "web",
                    "author_name": "Bench",
                    "is_compromise": False,
                    "lock_version": 1,
                    "created_at": datetime.now(UTC),
                }
            )
        db.session.execute(insert(Amendment), rows)
        db.session.commit()
        # The request as services.request writes it, without enqueueing: the
        # job is run (and timed) below, in this process.
        request = Consolidation(plan_id=plan.id, active_plan_id=plan.id, report={})
        db.session.add(request)
        db.session.commit()
        request_id = request.id
    with app.app_context():
        started = time.perf_counter()
        done = consolidation_job.run(request_id)
        seconds = time.perf_counter() - started
        return {
            "items": items,
            "accepted_amendments": accepted,
            "seconds": round(seconds, 3),
            "seconds_per_amendment": round(seconds / accepted, 6),
            "applied": done.applied_count,
            "conflicts": done.conflict_count,
            "version": done.version.number if done.version else None,
        }


def bench_tally(ballots=100_000, candidates=10, seed=2026) -> dict:
    """Counting alone: 100,000 yes/no ballots, and 100,000 rankings of 10 candidates
    (random lengths and orders, so few are identical: the hard case) counted with
    our instant-runoff and Schulze, and with pyrankvote's instant-runoff on the same
    ballots (pyrankvote has no Schulze)."""
    import random

    from consult.votes import tally

    rng = random.Random(seed)
    names = [f"E{n}" for n in range(1, candidates + 1)]
    yes_no = [tally.Ballot(rng.choice(("yes", "yes", "no", "abstain"))) for _ in range(ballots)]
    rankings = []
    for _ in range(ballots):
        order = names[:]
        rng.shuffle(order)
        rankings.append(order[: rng.randint(1, candidates)])
    ranked = [tally.Ballot(ranking) for ranking in rankings]

    def measure(function) -> float:
        return round(statistics.median(timed(function, repeat=3)), 3)

    result = {
        "ballots": ballots,
        "candidates": candidates,
        "yesno_seconds": measure(lambda: tally.tally("yesno", yes_no)),
        "irv_seconds": measure(lambda: tally.tally("irv", ranked)),
        "schulze_seconds": measure(lambda: tally.tally("schulze", ranked)),
    }
    ours = tally.tally("irv", ranked)["winner"]
    try:
        import pyrankvote
    except ImportError:  # a dev extra; the bench still runs without it
        result["pyrankvote_irv_seconds"] = None
        return result
    people = {name: pyrankvote.Candidate(name) for name in names}
    peer_ballots = [
        pyrankvote.Ballot(ranked_candidates=[people[name] for name in ranking])
        for ranking in rankings
    ]
    started = time.perf_counter()
    theirs = pyrankvote.instant_runoff_voting(list(people.values()), peer_ballots)
    result["pyrankvote_irv_seconds"] = round(time.perf_counter() - started, 3)
    result["same_irv_winner"] = theirs.get_winners()[0].name == ours
    return result


# --- what a part reports ---------------------------------------------------------

LOWER_IS_BETTER = {"s", "ms", "statements", "bytes"}
HIGHER_IS_BETTER = {"req/s", "ratio"}


@dataclass
class Measure:
    label: str  # unique within its part: the figures of two runs are matched by it
    value: float | int | None
    unit: str  # s, ms, req/s, ratio, statements, bytes, or a count (pages, items …)


@dataclass
class Result:
    measures: list[Measure]
    notes: list[str] = field(default_factory=list)


# --- one database's run ----------------------------------------------------------


@contextlib.contextmanager
def own_database(kind: str, label: str) -> Iterator[str]:
    """A new, empty database that this run creates and drops: a SQLite file in a
    temporary folder, or ``consult_bench_<random>`` on BENCH_DATABASE_URL's
    server (that URL's own database is only connected to)."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"consult-bench-{label}-")
        try:
            yield f"sqlite:///{folder}/{label}.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server_url = os.environ["BENCH_DATABASE_URL"]
    name = f"consult_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Bench:
    """The app on a database of its own, with a forum ("bench"), a member
    (bench@example.org) and a facilitator (bench-admin@example.org)."""

    def __init__(self, kind: str, url: str):
        from consult import create_app
        from consult.accounts.services import create_user
        from consult.extensions import db
        from consult.forums.services import add_member, create_forum

        self.kind, self.url = kind, url
        self.app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "JOBS_MODE": "inline"}
        )
        self._large = None
        with self.app.app_context():
            db.create_all()
            forum = create_forum(None, "bench", "Bench")
            add_member(None, forum, create_user("bench@example.org", "Bench", PASSWORD))
            facilitator = create_user("bench-admin@example.org", "Bench admin", PASSWORD)
            add_member(None, forum, facilitator, role="facilitator")
            db.session.commit()

    def client(self):
        """A test client signed in as the forum's member."""
        client = self.app.test_client()
        client.post("/sign-in", data={"email": "bench@example.org", "password": PASSWORD})
        return client

    def large_forum(self):
        """The large forum (bench/large_forum.py), generated on the first call."""
        if self._large is None:
            started = time.perf_counter()
            self._large = large_forum.generate(self.app, synthetic_plan)
            self._large.seconds["total"] = round(time.perf_counter() - started, 1)
        return self._large

    @contextlib.contextmanager
    def server(self, workers: int = 2, static_dir: Path | None = None) -> Iterator[str]:
        """gunicorn serving this database (and ``static_dir`` at /bench-static/);
        yields its base URL."""
        from load import gunicorn

        from consult.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()  # the server's workers write to the same database
        static_dir = static_dir or Path(tempfile.mkdtemp(prefix="consult-bench-static-"))
        with gunicorn(self.url, static_dir, workers) as base:
            yield base

    def own_database(self, label: str):
        return own_database(self.kind, label)


# --- the parts --------------------------------------------------------------------


def part_plans(bench: Bench) -> Result:
    """Import of a 20- and a 2,000-item plan, and their page read by a member."""
    from consult.extensions import db
    from consult.forums.models import Forum
    from consult.plans import services

    measures = []
    client = bench.client()
    with bench.app.app_context():
        engine = db.engine
        forum = db.session.scalar(db.select(Forum).where(Forum.slug == "bench"))
        plan_ids = {}
        for size in (20, 2000):
            started = time.perf_counter()
            plan = services.import_plan(None, forum, synthetic_plan(size))
            db.session.commit()
            measures.append(Measure(f"{size}-item plan: import", seconds_since(started), "s"))
            plan_ids[size] = plan.id
    for size, plan_id in plan_ids.items():
        path = f"/forums/bench/plans/{plan_id}/"
        statements = {"n": 0}

        def count(*_args, _statements=statements, **_kwargs):
            _statements["n"] += 1

        event.listen(engine, "before_cursor_execute", count)
        status = client.get(path).status_code
        event.remove(engine, "before_cursor_execute", count)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
        median = statistics.median(timed(lambda path=path: client.get(path), repeat=5))
        measures += [
            Measure(f"{size}-item plan: page, median of 5", round(median, 4), "s"),
            Measure(f"{size}-item plan: page, per item", round(median / size * 1000, 4), "ms"),
            Measure(f"{size}-item plan: SQL statements per page", statements["n"], "statements"),
        ]
    return Result(measures)


def part_plan_pages(bench: Bench) -> Result:
    """The plan page of the 113-item sample and of a 2,000-item plan, read by a
    member through gunicorn (2 workers), against a static file of each page's
    size (issue 14's goal: at least half the file's throughput)."""
    from load import pages_against_static

    from consult.extensions import db
    from consult.forums.models import Forum
    from consult.plans import services

    with bench.app.app_context():
        forum = db.session.scalar(db.select(Forum).where(Forum.slug == "bench"))
        sample = services.import_plan(
            None, forum, SAMPLE_113.read_text(encoding="utf-8"), language="es"
        )
        large = services.import_plan(None, forum, synthetic_plan(2000))
        db.session.commit()
        pages = {
            "113-item sample": f"/forums/bench/plans/{sample.id}/",
            "2,000-item plan": f"/forums/bench/plans/{large.id}/",
        }
    static_dir = Path(tempfile.mkdtemp(prefix="consult-bench-static-"))
    with bench.server(workers=2, static_dir=static_dir) as base:
        rows = pages_against_static(base, static_dir, pages, "bench@example.org", workers=2)
    measures = []
    for name, row in rows.items():
        measures += [
            Measure(f"{name}: page p50", row["p50_ms"], "ms"),
            Measure(f"{name}: page p95", row["p95_ms"], "ms"),
            Measure(f"{name}: page throughput", row["requests_per_second"], "req/s"),
            Measure(f"{name}: static file throughput", row["static_requests_per_second"], "req/s"),
            Measure(f"{name}: ratio to the static file", row["ratio_to_static"], "ratio"),
        ]
    notes = [
        ", ".join(f"{name} {row['bytes']:,} bytes" for name, row in rows.items())
        + " (each static file the same size); gunicorn, 2 workers, 4 client threads."
    ]
    return Result(measures, notes)


def part_dashboard(bench: Bench) -> Result:
    board = bench_dashboard(bench.app, bench.client())
    return Result(
        [
            Measure("dashboard: page, median of 3", board["page_median_seconds"], "s"),
            Measure(
                "dashboard: SQL statements per page", board["statements_per_page"], "statements"
            ),
        ],
        [
            f"A consultation with {board['members']:,} members, {board['amendments']:,} "
            f"amendments and {board['comments']:,} comments (status {board['status']})."
        ],
    )


def part_tally(_bench: Bench) -> Result:
    counts = bench_tally()
    measures = [
        Measure("yes/no", counts["yesno_seconds"], "s"),
        Measure("instant-runoff", counts["irv_seconds"], "s"),
        Measure("Schulze", counts["schulze_seconds"], "s"),
        Measure("pyrankvote instant-runoff (peer)", counts["pyrankvote_irv_seconds"], "s"),
    ]
    notes = [
        f"Counting {counts['ballots']:,} ballots ({counts['candidates']} candidates when ranked); "
        f"same instant-runoff winner as pyrankvote: {counts.get('same_irv_winner', 'n/a')}."
    ]
    return Result(measures, notes)


def part_consolidation(bench: Bench) -> Result:
    draft = bench_consolidation(bench.app)
    return Result(
        [
            Measure("consolidated draft", draft["seconds"], "s"),
            Measure("per amendment", round(draft["seconds_per_amendment"] * 1000, 3), "ms"),
        ],
        [
            f"{draft['items']:,} items, {draft['accepted_amendments']:,} accepted amendments: "
            f"{draft['applied']:,} applied, {draft['conflicts']:,} conflicts."
        ],
    )


def part_pdf(bench: Bench) -> Result:
    """The PDF of the 113-item plan (tests/data) as a member downloads it (in
    the request), and of a 2,000-item plan as the export job renders it."""
    from flask_babel import force_locale

    from consult.extensions import db
    from consult.forums.models import Forum
    from consult.plans import documents, layout, services
    from consult.plans.models import Plan

    with bench.app.app_context():
        forum = db.session.scalar(db.select(Forum).where(Forum.slug == "bench"))
        sample = services.import_plan(
            None, forum, SAMPLE_113.read_text(encoding="utf-8"), language="es"
        )
        big = services.import_plan(None, forum, synthetic_plan(2000), language="es")
        db.session.commit()
        sample_id, big_id = sample.id, big.id
    client = bench.client()
    path = f"/forums/bench/plans/{sample_id}/export/pdf"
    started = time.perf_counter()
    first = client.get(path)  # the first in this process: WeasyPrint is imported
    first_seconds = seconds_since(started)
    if first.status_code != 200 or first.mimetype != "application/pdf":
        raise RuntimeError(f"{path}: {first.status_code} {first.mimetype}, not a PDF")
    requests = timed(lambda: client.get(path), repeat=3)

    measures = [
        Measure("113-item plan: PDF download, first of the process", first_seconds, "s"),
        Measure(
            "113-item plan: PDF download, median of 3", round(statistics.median(requests), 3), "s"
        ),
    ]
    for label, plan_id, repeat in (("113-item plan", sample_id, 3), ("2,000-item plan", big_id, 1)):
        walls, cpus = [], []
        for _ in range(repeat):
            with bench.app.app_context(), bench.app.test_request_context(), force_locale("es"):
                plan = db.session.get(Plan, plan_id)
                nodes = services.version_nodes(plan.current_version)
                started, cpu = time.perf_counter(), time.process_time()
                document = documents.pdf_layout(plan, plan.current_version, nodes)
                content = document.write_pdf()
                walls.append(time.perf_counter() - started)
                cpus.append(time.process_time() - cpu)
        lines = sum(len(entry.lines) for entry in layout.number_lines(nodes))
        of = f", median of {repeat}" if repeat > 1 else ""
        measures += [
            Measure(
                f"{label}: PDF rendered as the job does{of}",
                round(statistics.median(walls), 3),
                "s",
            ),
            Measure(f"{label}: PDF rendered, CPU time{of}", round(statistics.median(cpus), 3), "s"),
            Measure(f"{label}: PDF pages", len(document.pages), "pages"),
            Measure(f"{label}: PDF numbered lines", lines, "lines"),
            Measure(f"{label}: PDF size", len(content), "bytes"),
        ]
    return Result(measures)


def part_fanout(bench: Bench) -> Result:
    from notifications import bench_fanout

    with bench.own_database("fanout") as url:  # it empties the database it is given
        result = bench_fanout(10_000, url)
    members = result["members"]
    measures = []
    for step, label in (
        ("written", "notifications written"),
        ("rendered", "emails rendered into the outbox"),
        ("sent", "emails sent over SMTP"),
    ):
        measures += [
            Measure(label, round(result[f"{step}_seconds"], 3), "s"),
            Measure(
                f"{label}: CPU per member",
                round(result[f"{step}_cpu_seconds"] / members * 1000, 3),
                "ms",
            ),
            Measure(f"{label}: SQL statements", result[f"{step}_statements"], "statements"),
        ]
    return Result(
        measures,
        [
            f"One event to {members:,} members in batches of {result['batch_size']}; the SMTP "
            f"server received {result['messages_received']:,} messages over "
            f"{result['smtp_connections']} connections."
        ],
    )


def part_load(bench: Bench) -> Result:
    from load import bench_load

    large = bench.large_forum()
    load = bench_load(bench.app, bench.url, large, workers=(2, 4))
    measures = []
    for workers, run in load["runs"].items():
        for name, row in run["pages"].items():
            prefix = f"{name}, {workers} workers"
            measures.append(Measure(f"{prefix}: throughput", row["requests_per_second"], "req/s"))
            if name in ("healthz", "static"):
                continue
            measures += [
                Measure(f"{prefix}: p50", row["p50_ms"], "ms"),
                Measure(f"{prefix}: p95", row["p95_ms"], "ms"),
                Measure(f"{prefix}: ratio to the static file", row["ratio_to_static"], "ratio"),
                Measure(f"{prefix}: SQL statements", row.get("sql_statements"), "statements"),
            ]
            if row["unexpected"]:
                measures.append(
                    Measure(f"{prefix}: unexpected answers", row["unexpected"], "answers")
                )
    measures += [
        Measure(
            "tally of a stored 5,000-ballot vote", load["tally_5000_stored_ballots_seconds"], "s"
        ),
        Measure(
            "phase change notifying every member twice", load["phase_change_fan_out_seconds"], "s"
        ),
    ]
    data = load["data"]
    run = next(iter(load["runs"].values()))
    notes = [
        f"Large forum: {data['members']:,} members, {data['plan_items']:,}-item plan, "
        f"{data['amendments']:,} amendments, {data['comments']:,} comments "
        f"({data['thread_comments']:,} in the thread), {data['ballots']:,} ballots; generated in "
        f"{large.seconds.get('total')} s. Plan page {run['plan_page_bytes']:,} bytes (the static "
        "file is the same size). Two client threads per gunicorn worker."
    ]
    return Result(measures, notes)


def part_assembly(bench: Bench) -> Result:
    """The assembly's load (bench/assembly.py): 300 delegates sign in at once,
    then all post a ballot at the same moment, against 4 gunicorn workers."""
    import assembly

    with bench.own_database("assembly") as url:
        result = assembly.run(url, workers=4)
    signins, votes = result["sign_in_burst"], result["vote_burst"]
    n = result["delegates"]
    return Result(
        [
            Measure(f"{n} sign-ins at once: p50", signins["p50_ms"], "ms"),
            Measure(f"{n} sign-ins at once: p95", signins["p95_ms"], "ms"),
            Measure(f"{n} sign-ins at once: total", signins["total_seconds"], "s"),
            Measure(f"{n} sign-ins at once: failures", signins["failures"], "failures"),
            Measure(f"{n} ballots at once: p50", votes["p50_ms"], "ms"),
            Measure(f"{n} ballots at once: p95", votes["p95_ms"], "ms"),
            Measure(f"{n} ballots at once: max", votes["max_ms"], "ms"),
            Measure(f"{n} ballots at once: total", votes["total_seconds"], "s"),
            Measure(f"{n} ballots at once: counted", votes["ballots_in_database"], "ballots"),
            Measure(
                f"{n} ballots at once: unexpected answers", votes["unexpected_answers"], "answers"
            ),
        ],
        [f"{result['server']}; passwords hashed with the application's Argon2id parameters."],
    )


def part_live(bench: Bench) -> Result:
    """The live layer (bench/live.py): 300 delegates' event streams open while
    the chair acts, then while their 300 ballots are cast; the server's memory."""
    import live

    with bench.own_database("live") as url:
        result = live.run(url, workers=4)
    n, idle, busy = result["streams_open"], result["idle"], result["during_ballots"]
    memory, votes = result["memory_with_streams"], result["vote_burst"]
    before = result["memory_before_streams"]
    return Result(
        [
            Measure("streams open", n, "streams"),
            Measure("chair's action to a stream: p50", idle["p50_ms"], "ms"),
            Measure("chair's action to a stream: p95", idle["p95_ms"], "ms"),
            Measure("chair's click to the last stream: p50", idle["last_client_p50_ms"], "ms"),
            Measure("chair's click to the last stream: p95", idle["last_client_p95_ms"], "ms"),
            Measure("chair's click to the last stream: max", idle["last_client_max_ms"], "ms"),
            Measure("chair's actions timed during the ballots", busy["actions"], "actions"),
            Measure("during the ballots, to a stream: p50", busy["p50_ms"], "ms"),
            Measure("during the ballots, to a stream: p95", busy["p95_ms"], "ms"),
            Measure(
                "during the ballots, click to the last stream: p50",
                busy["last_client_p50_ms"],
                "ms",
            ),
            Measure(
                "during the ballots, click to the last stream: p95",
                busy["last_client_p95_ms"],
                "ms",
            ),
            Measure(
                "during the ballots, click to the last stream: max",
                busy["last_client_max_ms"],
                "ms",
            ),
            Measure("events missed", idle["missed"] + busy["missed"], "events"),
            Measure("ballots: p95", votes["p95_ms"], "ms"),
            Measure("ballots: unexpected answers", votes["unexpected_answers"], "answers"),
            Measure("workers' RSS with the streams", memory.get("workers_mb"), "MB"),
            Measure(
                "workers' RSS for the streams",
                round(memory.get("workers_mb", 0) - before.get("workers_mb", 0), 1),
                "MB",
            ),
        ],
        [f"{result['server']}; streams read by one asyncio loop, ballots by another process."],
    )


@dataclass(frozen=True)
class Part:
    name: str
    run: Callable[[Bench], Result]
    per_database: bool = True  # False: run once, on SQLite
    title: str = ""


PARTS = [
    Part("plans", part_plans, title="Plans: import and page"),
    Part("dashboard", part_dashboard, title="Consultation dashboard"),
    Part("tally", part_tally, per_database=False, title="Counting 100,000 ballots"),
    Part("consolidation", part_consolidation, title="Consolidated draft"),
    Part("pdf", part_pdf, per_database=False, title="PDF export"),
    Part("fanout", part_fanout, title="Fan-out of one event to 10,000 members"),
    Part("load", part_load, title="Large forum under load (gunicorn)"),
    Part("plan_pages", part_plan_pages, title="Plan pages against a static file of their size"),
    Part("assembly", part_assembly, title="The assembly: sign-ins and ballots at once"),
    Part("live", part_live, title="The assembly live: 300 streams, the chair's actions"),
]


# --- results ----------------------------------------------------------------------


def seconds_since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def change(value, before, unit: str) -> str:
    if not isinstance(value, int | float) or not isinstance(before, int | float) or not before:
        return ""
    percent = (value - before) / abs(before) * 100
    worse = (unit in LOWER_IS_BETTER and percent > WORSE) or (
        unit in HIGHER_IS_BETTER and percent < -WORSE
    )
    return f"{percent:+.1f} %" + (" (worse)" if worse else "")


def figure(value, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:,}" if unit in ("ratio", "statements") else f"{value:,} {unit}"


def compare(result: Result, previous: dict | None, seconds: float = 0.0) -> dict:
    """The part's entry in results.json: its figures with those they replace."""
    before = {row["label"]: row["value"] for row in (previous or {}).get("measures", [])}
    return {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "part_seconds": round(seconds),
        "load_average": [round(n, 2) for n in os.getloadavg()],
        "previous_measured_at": (previous or {}).get("measured_at"),
        "measures": [
            {
                "label": m.label,
                "value": m.value,
                "unit": m.unit,
                "before": before.get(m.label),
                "change": change(m.value, before.get(m.label), m.unit),
            }
            for m in result.measures
        ],
        "notes": result.notes,
    }


def part_markdown(part: Part, database: str, entry: dict) -> list[str]:
    load = ", ".join(map(str, entry["load_average"]))
    lines = [
        f"### {part.title or part.name} — {database}",
        "",
        f"Measured {entry['measured_at']} in {entry.get('part_seconds', '?')} s (load average "
        f"{load} on {os.cpu_count()} CPUs); before: {entry['previous_measured_at'] or 'none'}.",
        "",
        "| measure | now | before | change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in entry["measures"]:
        lines.append(
            f"| {row['label']} | {figure(row['value'], row['unit'])} | "
            f"{figure(row['before'], row['unit']) if row['before'] is not None else ''} | "
            f"{row['change']} |"
        )
    for note in entry["notes"]:
        lines += ["", note]
    return [*lines, ""]


def results_markdown(results: dict) -> str:
    lines = [
        "# `make bench`: the last figures",
        "",
        "Written by bench/run.py (see its docstring); each part keeps the figures of its",
        "last run, beside those of the run before.",
        "",
    ]
    for database in ("sqlite", "postgresql"):
        parts = results.get(database, {})
        if not parts:
            continue
        lines += [f"## {'SQLite' if database == 'sqlite' else 'PostgreSQL'}", ""]
        for part in PARTS:
            if part.name in parts:
                lines += part_markdown(part, database, parts[part.name])
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    names = sys.argv[1:] or [part.name for part in PARTS]
    known = {part.name: part for part in PARTS}
    unknown = sorted(set(names) - set(known))
    if unknown:
        sys.exit(f"unknown part(s) {unknown}; choose among {', '.join(known)}")
    chosen = [part for part in PARTS if part.name in names]
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    # The mail log backend would print every notification email of the run, and
    # WeasyPrint asks for HarfBuzz-Subset at every PDF (see the README).
    logging.getLogger("consult.mail").setLevel(logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("BENCH_DATABASE_URL") else [])
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    printed = []
    for kind in kinds:
        parts = [part for part in chosen if part.per_database or kind == "sqlite"]
        if not parts:
            continue
        with own_database(kind, "bench") as url:
            bench = Bench(kind, url)
            for part in parts:
                print(f"[{kind}] {part.name} …", file=sys.stderr, flush=True)
                started = time.perf_counter()
                result = part.run(bench)
                previous = results.get(kind, {}).get(part.name)
                entry = compare(result, previous, time.perf_counter() - started)
                results.setdefault(kind, {})[part.name] = entry
                printed += part_markdown(part, kind, entry)
                # Written after every part: an interrupted run keeps what it measured.
                RESULTS_JSON.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
                RESULTS_MD.write_text(results_markdown(results))
            from consult.extensions import db

            with bench.app.app_context():
                db.session.remove()
                db.engine.dispose()  # before the database is dropped
    print("\n".join(printed))
    print(f"written to {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
