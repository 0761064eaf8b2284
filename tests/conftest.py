"""Fixtures: one app per database backend (SQLite, and PostgreSQL when reachable;
required when CI=true), a schema created once, and a rollback after every test."""

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
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


@pytest.fixture
def make(session):
    from tests import factories

    return factories.Factory(session)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Argon2id at 1 MiB and one pass, so that users and sign-ins cost next to
    nothing; tests of hashing itself ask for ``production_password_hashing``."""
    from argon2 import PasswordHasher

    from consult.accounts import services as accounts

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def production_password_hashing(monkeypatch, cheap_password_hashing):
    from argon2 import PasswordHasher

    from consult.accounts import services as accounts

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(**accounts.PASSWORD_HASH_PARAMETERS))
