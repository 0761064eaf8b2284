"""Fixtures: one app per database backend (SQLite, and PostgreSQL when reachable;
required when CI=true), a schema created once, and a rollback after every test;
then the test kit every module shares: ``make`` (tests/factories.py), cheap
password hashing, ``english``, ``count_statements``, a ``forum`` with its
``facilitator`` and ``member``, a ``plan``, and ``redis_url``."""

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# Never touch the developer's instance/ folder, database or Redis from the tests.
os.environ["CONSULT_INSTANCE"] = tempfile.mkdtemp(prefix="consult-test-instance-")
for name in ("DATABASE_URL", "REDIS_URL", "JOBS_MODE", "MAIL_BACKEND", "SECRET_KEY", "BASE_URL"):
    os.environ.pop(name, None)

from consult import create_app  # noqa: E402
from consult.extensions import db  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BASE_URL = "http://consult.test"


def require_service(available: bool, what: str) -> None:
    """Fail in CI (the service must be there), skip elsewhere with the reason."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true but is not reachable")
    pytest.skip(f"{what} is not reachable; these tests run in CI")


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError:
        return False
    return True


@contextmanager
def fresh_database(backend: str, folder: Path):
    """An empty database of ``backend``, dropped afterwards; yields its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}"
        return
    require_service(postgres_available(), f"PostgreSQL at {POSTGRES_URL}")
    name = f"consult_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: Flask would
    otherwise reuse the test's context, and with it ``g`` (the signed-in user)
    and the database session, across requests."""

    def run_wsgi_app(self, environ, buffered=False):
        with self.application.app_context():
            return super().run_wsgi_app(environ, buffered=buffered)


def make_app(database_url: str, **overrides):
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "JOBS_MODE": "inline",
        "MAIL_BACKEND": "log",
        "SECRET_KEY": "test-secret-key",
        "BASE_URL": BASE_URL,
        "REDIS_URL": "",
    }
    settings.update(overrides)
    application = create_app(settings)
    application.test_client_class = IsolatedClient
    return application


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory.mktemp("db")) as url:
        application = make_app(url)
        with application.app_context():
            db.create_all()
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def session(app):
    """The database session of a test: everything it writes, even through
    commits in views, is rolled back at the end (commits become savepoints)."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        db.session.remove()
        db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture(autouse=True)
def cold_page_cache():
    """Each test starts with this process's page cache empty, as a new process
    would: its rows were rolled back, and ids are reused after a rollback (and
    from one database to the other), so a kept copy could belong to another test."""
    from consult import pagecache

    pagecache.clear_memory()


@pytest.fixture
def make(session):
    from tests import factories

    return factories.Factory(session)


# --- cheap password hashing --------------------------------------------------------

_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP_DUMMY_HASH = _CHEAP_HASHER.hash("not a real password, only for timing")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2id at 1 MiB and one pass, so that users and sign-ins cost next to
    nothing (the hash checked for an unknown email too); tests of hashing itself
    ask for ``production_password_hashing``."""
    from consult.accounts import services as accounts

    monkeypatch.setattr(accounts, "_hasher", _CHEAP_HASHER)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", _CHEAP_DUMMY_HASH)


@pytest.fixture
def production_password_hashing(monkeypatch, cheap_password_hashing):
    from consult.accounts import services as accounts

    production = PasswordHasher(**accounts.PASSWORD_HASH_PARAMETERS)
    monkeypatch.setattr(accounts, "_hasher", production)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", production.hash("not a real password"))


# --- the language of pages and messages ---------------------------------------------


@pytest.fixture
def english(client, session):
    """Pages (the test client's Accept-Language) and the services' messages in
    English, the source language. A module asks for it with
    ``pytestmark = pytest.mark.usefixtures("english")``."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield


# --- counting SQL statements --------------------------------------------------------


@pytest.fixture
def count_statements(app):
    """``with count_statements() as seen:`` records the SQL of every statement the
    app's engine runs in the block (``len(seen)`` is their number)."""

    @contextmanager
    def recording():
        seen = []

        def record(_connection, _cursor, statement, *_args):
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return recording


@pytest.fixture
def pages_built_each_time(app):
    """Pages built for every request, none kept for their reader
    (``consult.whole_pages``): what building a page costs, measured."""
    app.config["WHOLE_PAGES"] = False
    yield
    app.config["WHOLE_PAGES"] = True


# --- a forum, its people and a plan -------------------------------------------------


@pytest.fixture
def forum(make):
    """A private forum (a module overrides it for a public one)."""
    return make.forum()


@pytest.fixture
def facilitator(make, forum):
    """The forum's facilitator, who reads English."""
    return make.facilitator(forum, locale="en")


@pytest.fixture
def member(make, forum):
    """An ordinary member of the forum, who reads English."""
    return make.member(forum, locale="en").user


@pytest.fixture
def plan_text():
    """The text the ``plan`` fixture imports; a module overrides it to read another."""
    from tests.factories import STRUCTURED

    return STRUCTURED


@pytest.fixture
def plan(make, forum, plan_text):
    """A plan of the forum imported from ``plan_text``, open for input."""
    return make.plan(forum, plan_text)


# --- Redis ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis server for the tests that need a real one: TEST_REDIS_URL when it
    answers, else an embedded server (outside CI)."""
    from consult.redis_runtime import reachable, start_embedded

    if reachable(REDIS_URL):
        yield REDIS_URL
        return
    require_service(not IN_CI, f"Redis at {REDIS_URL}")
    started = start_embedded(tmp_path_factory.mktemp("redis"))
    require_service(started is not None, "Redis (no server reachable and none could be started)")
    url, process = started
    yield url
    process.terminate()
