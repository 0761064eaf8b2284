"""`make bench` works on databases of its own: it never writes to, empties or
drops a database it did not create, and it compares each figure with the one
it replaces (the timings themselves are never tested)."""

import ast
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, postgres_available, require_service

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def bench_run():
    saved = list(sys.path)  # run.py puts bench/ first on the path
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path[:] = saved


def databases(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(text("SELECT datname FROM pg_database")))


def test_on_postgresql_the_bench_creates_its_own_database_and_drops_only_that(
    bench_run, monkeypatch
):
    require_service(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    monkeypatch.setenv("BENCH_DATABASE_URL", POSTGRES_URL)
    named = make_url(POSTGRES_URL).database
    server = create_engine(POSTGRES_URL)
    before = databases(server)
    with bench_run.own_database("postgresql", "bench") as url:
        own = make_url(url).database
        assert own.startswith("consult_bench_") and own != named
        assert databases(server) == before | {own}
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id integer)"))
        engine.dispose()
    after = databases(server)
    server.dispose()
    assert own not in after and named in after
    assert after == before


def test_on_sqlite_the_bench_uses_a_file_of_its_own_and_removes_it(bench_run, tmp_path):
    with bench_run.own_database("sqlite", "bench") as url:
        path = Path(make_url(url).database)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id integer)"))
        assert inspect(engine).get_table_names() == ["t"]
        engine.dispose()
        assert path.exists()
    assert not path.exists() and not path.parent.exists()


def test_each_figure_is_shown_beside_the_one_it_replaces(bench_run):
    Measure, Result = bench_run.Measure, bench_run.Result
    previous = {
        "measured_at": "2026-12-01 10:00 UTC",
        "measures": [
            {"label": "page", "value": 0.2, "unit": "s"},
            {"label": "throughput", "value": 100, "unit": "req/s"},
            {"label": "gone", "value": 1, "unit": "s"},
        ],
    }
    result = Result(
        [
            Measure("page", 0.3, "s"),  # slower: worse
            Measure("throughput", 120, "req/s"),  # more: better
            Measure("new", 5, "s"),
        ]
    )
    entry = bench_run.compare(result, previous)
    rows = {row["label"]: row for row in entry["measures"]}
    assert rows["page"]["before"] == 0.2 and rows["page"]["change"] == "+50.0 % (worse)"
    assert rows["throughput"]["change"] == "+20.0 %"
    assert rows["new"]["before"] is None and rows["new"]["change"] == ""
    assert "gone" not in rows
    assert entry["previous_measured_at"] == "2026-12-01 10:00 UTC"
    fewer = bench_run.compare(Result([Measure("throughput", 80, "req/s")]), previous)
    assert fewer["measures"][0]["change"] == "-20.0 % (worse)"
    table = "\n".join(bench_run.part_markdown(bench_run.PARTS[0], "sqlite", entry))
    assert "| page | 0.3 s | 0.2 s | +50.0 % (worse) |" in table


def test_parts_are_chosen_by_name_and_an_unknown_one_is_refused(bench_run, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["run.py", "pdf", "nonsense"])
    with pytest.raises(SystemExit, match="unknown part"):
        bench_run.main()


def test_a_part_can_serve_the_bench_database_with_gunicorn(bench_run, monkeypatch, tmp_path):
    """The hook a sign-in or vote burst uses: gunicorn on the bench's database,
    where the bench's member signs in and reads the bench's forum."""
    from load import Browser

    monkeypatch.setenv("CONSULT_INSTANCE", str(tmp_path))
    with bench_run.own_database("sqlite", "bench") as url:
        bench = bench_run.Bench("sqlite", url)
        with bench.server(workers=1) as base:
            member = Browser(base).sign_in("bench@example.org")  # raises unless signed in
            status, html = member.send("GET", "/forums/bench/")
    assert status == 200 and "Bench" in html


def test_the_large_forum_is_generated_with_the_services_of_today(bench_run, monkeypatch):
    """The bench builds its large forum through the app's services and models;
    a service renamed or moved breaks it here, not on the next `make bench`."""
    sizes = {
        "MEMBERS": 60,
        "COALITIONS": 3,
        "GROUPS": 2,
        "ITEMS": 20,
        "AMENDMENTS": 40,
        "COMMENTS": 80,
        "THREAD": 20,
        "THREAD_REPLIES": 5,
        "BALLOTS": 120,
        "CLOSED_POLLS": 2,
    }
    for name, value in sizes.items():
        monkeypatch.setattr(bench_run.large_forum, name, value)
    with bench_run.own_database("sqlite", "large") as url:
        bench = bench_run.Bench("sqlite", url)
        large = bench.large_forum()
        client = bench.app.test_client()
        client.post("/sign-in", data={"email": large.member, "password": bench_run.PASSWORD})
        page = client.get(f"/forums/{large.slug}/plans/{large.plan_id}/")
        assert page.status_code == 200
        with bench.app.app_context():
            from consult.extensions import db

            db.engine.dispose()


def _submodule(module: str, name: str) -> bool:
    package = importlib.import_module(module)
    return hasattr(package, "__path__") and importlib.util.find_spec(f"{module}.{name}") is not None


def _consult_names_used(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) for each ``from consult… import name`` in ``path``
    and each ``module.name`` read from a module imported that way."""
    tree = ast.parse(path.read_text())
    modules: dict[str, str] = {}
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("consult"):
            for alias in node.names:
                used.append((node.lineno, node.module, alias.name))
                if _submodule(node.module, alias.name):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = modules.get(node.value.id)
            if module is not None:
                used.append((node.lineno, module, node.attr))
    return used


def test_everything_the_bench_uses_of_the_application_still_exists():
    """The bench is run by hand, not by the tests: a module moved or a name
    renamed in consult/ would otherwise break it unseen until the next run."""
    missing = []
    for path in sorted(BENCH.glob("*.py")):
        for line, module, name in _consult_names_used(path):
            imported = importlib.import_module(module)
            if not hasattr(imported, name) and not _submodule(module, name):
                missing.append(f"bench/{path.name}:{line}: {module}.{name}")
    assert not missing, "\n".join(missing)
