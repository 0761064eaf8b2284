"""`make bench`: measures, never asserts. Writes bench/results.json and
bench/results.md, and prints the tables.

Runs against DATABASE_URL when set, otherwise a throw-away SQLite file.
`python bench/run.py load` (or any of plans, dashboard, tally, consolidation,
load) runs only the parts named.
"""

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
        db.session.execute(insert(User), user_rows)
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
    from consult.consolidation import services as consolidation
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
        done = consolidation.run(request_id)
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


PARTS = ("plans", "dashboard", "tally", "consolidation", "fanout", "load")


def main() -> None:
    parts = set(sys.argv[1:]) or set(PARTS)
    unknown = parts - set(PARTS)
    if unknown:
        sys.exit(f"unknown part(s) {sorted(unknown)}; choose among {', '.join(PARTS)}")
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    # The mail log backend would print every notification email of the run.
    logging.getLogger("consult.mail").setLevel(logging.WARNING)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    from consult import create_app
    from consult.accounts.services import create_user
    from consult.extensions import db
    from consult.forums.services import add_member, create_forum
    from consult.plans import services

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "JOBS_MODE": "inline"}
    )
    results = {"database": url.split(":", 1)[0], "plans": {}}
    with app.app_context():
        db.drop_all()
        db.create_all()
        forum = create_forum(None, "bench", "Bench")
        user = create_user("bench@example.org", "Bench", "bench password 123")
        add_member(None, forum, user)
        facilitator = create_user("bench-admin@example.org", "Bench admin", "bench password 123")
        add_member(None, forum, facilitator, role="facilitator")
        db.session.commit()
        plans = {}
        for size in (20, 2000):
            text = synthetic_plan(size)
            started = time.perf_counter()
            plan = services.import_plan(None, forum, text)
            db.session.commit()
            results["plans"][size] = {"import_seconds": round(time.perf_counter() - started, 4)}
            plans[size] = plan.id

    client = app.test_client()
    client.post("/sign-in", data={"email": "bench@example.org", "password": "bench password 123"})
    with app.app_context():
        engine = db.engine
    for size, plan_id in plans.items() if "plans" in parts else ():
        path = f"/forums/bench/plans/{plan_id}/"
        statements = {"n": 0}

        def count(*_args, _statements=statements, **_kwargs):
            _statements["n"] += 1

        event.listen(engine, "before_cursor_execute", count)
        client.get(path)
        event.remove(engine, "before_cursor_execute", count)
        samples = timed(lambda path=path: client.get(path), repeat=5)
        results["plans"][size].update(
            statements_per_page=statements["n"],
            page_median_seconds=round(statistics.median(samples), 4),
            items=size,
        )
        results["plans"][size]["seconds_per_item"] = round(
            results["plans"][size]["page_median_seconds"] / size, 6
        )

    if "dashboard" in parts:
        results["dashboard"] = bench_dashboard(app, client)
    if "tally" in parts:
        results["tally"] = bench_tally()
    if "consolidation" in parts:
        results["consolidation"] = bench_consolidation(app)
    if "load" in parts:
        from load import bench_load

        results["load"] = bench_load(app, url, synthetic_plan)
    if "fanout" in parts:
        from notifications import bench_fanout

        # Last, since it empties the database when DATABASE_URL is set; on SQLite
        # it uses a file of its own next to this run's.
        fanout_url = os.environ.get("DATABASE_URL") or url.replace("bench.db", "fanout.db")
        results["fanout"] = bench_fanout(10_000, fanout_url)
    if "plans" not in parts:
        results["plans"] = {}

    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2))
    report = report_markdown(results)
    (ROOT / "bench" / "results.md").write_text(report + "\n")
    print(report)
    print(f"\nwritten to {out.relative_to(ROOT)} and bench/results.md")


def report_markdown(results: dict) -> str:
    """The tables of a run, as Markdown."""
    lines = [f"Database: {results['database']}"]
    if "load" in results:
        from load import markdown

        lines += ["", markdown(results["load"])]
    if results["plans"]:
        lines += [
            "",
            "| plan items | import (s) | page median (s) | s per item | SQL statements per page |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for size, row in results["plans"].items():
            lines.append(
                f"| {size} | {row['import_seconds']} | {row['page_median_seconds']} | "
                f"{row['seconds_per_item']} | {row['statements_per_page']} |"
            )
    if "dashboard" in results:
        board = results["dashboard"]
        lines.append(
            f"\nConsultation dashboard with {board['members']} members, {board['amendments']} "
            f"amendments and {board['comments']} comments: {board['page_median_seconds']} s "
            f"median, {board['statements_per_page']} SQL statements"
        )
    if "tally" in results:
        counts = results["tally"]
        lines += [
            f"\nCounting {counts['ballots']:,} ballots ({counts['candidates']} candidates when "
            "ranked), seconds:",
            "",
            "| yes/no | instant-runoff | Schulze | pyrankvote instant-runoff | same winner |",
            "| ---: | ---: | ---: | ---: | :---: |",
            f"| {counts['yesno_seconds']} | {counts['irv_seconds']} | {counts['schulze_seconds']} "
            f"| {counts['pyrankvote_irv_seconds']} | {counts.get('same_irv_winner', 'n/a')} |",
        ]
    if "consolidation" in results:
        draft = results["consolidation"]
        lines.append(
            f"\nConsolidated draft of {draft['items']} items with "
            f"{draft['accepted_amendments']} accepted amendments: {draft['seconds']} s "
            f"({draft['seconds_per_amendment']} s per amendment), {draft['applied']} applied, "
            f"{draft['conflicts']} conflicts"
        )
    if "fanout" in results:
        from notifications import markdown as fanout_markdown

        lines += ["", fanout_markdown(results["fanout"])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
