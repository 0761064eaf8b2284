"""`make bench`: measures, never asserts. Writes bench/results.json and prints a table.

Runs against DATABASE_URL when set, otherwise a throw-away SQLite file.
"""

import json
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


def main() -> None:
    os.environ.setdefault("CONSULT_INSTANCE", tempfile.mkdtemp(prefix="consult-bench-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    from consult import create_app
    from consult.accounts.services import create_user
    from consult.extensions import db
    from consult.forums.services import add_member, create_forum
    from consult.plans import services

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "JOBS_MODE": "inline"})
    results = {"database": url.split(":", 1)[0], "plans": {}}
    with app.app_context():
        db.drop_all()
        db.create_all()
        forum = create_forum(None, "bench", "Bench")
        user = create_user("bench@example.org", "Bench", "bench password 123")
        add_member(None, forum, user)
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
    for size, plan_id in plans.items():
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

    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"Database: {results['database']}")
    print("| plan items | import (s) | page median (s) | s per item | SQL statements per page |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size, row in results["plans"].items():
        print(f"| {size} | {row['import_seconds']} | {row['page_median_seconds']} | "
              f"{row['seconds_per_item']} | {row['statements_per_page']} |")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
