"""Failure pages never need the database: with the database really unreachable a
signed-in member gets a 503 in their language with Retry-After (JSON on the
API), the readiness check names what is down while the liveness check still
answers, and every error handler rolls the failed transaction back, so the
error page renders in full and the next request works."""

from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from consult.errors import Conflict
from consult.extensions import db
from tests.conftest import POSTGRES_URL, fresh_database, make_app
from tests.factories import Factory, sign_in


class Outage:
    """Takes the app's database away for real, and brings it back: SQLite's
    folder disappears; PostgreSQL refuses connections to the database."""

    def __init__(self, app, backend: str, url: str, folder: Path):
        self.app, self.backend, self.url, self.folder = app, backend, url, folder

    def _dispose(self):
        with self.app.app_context():
            db.engine.dispose()

    def _postgres(self, *statements):
        name = make_url(self.url).database
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for statement in statements:
                connection.execute(text(statement.format(name=name)))
        admin.dispose()

    def down(self):
        self._dispose()
        if self.backend == "sqlite":
            self.folder.rename(self.folder.with_name("db-gone"))
        else:
            self._postgres(
                'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            )

    def up(self):
        if self.backend == "sqlite":
            gone = self.folder.with_name("db-gone")
            if gone.exists():
                gone.rename(self.folder)
        else:
            self._postgres('ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def _routes_failing_after_a_statement(app):
    """Two views that go on after a statement failed without rolling back (on
    PostgreSQL the transaction is then aborted: every later statement fails)."""

    def broken_statement():
        db.session.execute(text("INSERT INTO users (id) VALUES (NULL)"))

    @app.get("/test/conflict-after-failed-statement")
    def conflict_after_failed_statement():
        try:
            broken_statement()
        except IntegrityError:
            raise Conflict() from None

    @app.get("/test/error-after-failed-statement")
    def error_after_failed_statement():
        broken_statement()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    with fresh_database(request.param, folder) as url:
        app = make_app(url)
        _routes_failing_after_a_statement(app)
        with app.app_context():
            db.create_all()
            db.session.remove()
        outage = Outage(app, request.param, url, folder)
        try:
            yield outage
        finally:
            outage.up()
            outage._dispose()


@pytest.fixture
def member(outage):
    """A signed-in member who reads Portuguese, in a browser that asks for English."""
    with outage.app.app_context():
        user = Factory(db.session).user(name="Ana Souza", locale="pt")
        db.session.commit()
        email = user.email
    client = outage.app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, email)
    home = client.get("/").get_data(as_text=True)
    assert "Notificações" in home and "Ana Souza" in home
    return client


def test_a_signed_in_member_gets_a_translated_503_while_the_database_is_down(outage, member):
    outage.down()
    response = member.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert '<html lang="pt">' in page and "Temporariamente indisponível" in page
    assert 'class="skip-link"' in page and "Ana Souza" not in page  # the layout, no account
    # A form post too, and a page of a blueprint that needs the signed-in user.
    assert member.post("/language", data={"locale": "es"}).status_code == 503
    assert member.get("/profile").status_code == 503

    api = member.get("/api/v1/forums")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.get_json()["error"]["code"] == "unavailable"

    outage.up()
    back = member.get("/")
    assert back.status_code == 200 and "Ana Souza" in back.get_data(as_text=True)


def test_someone_signed_out_gets_the_503_in_their_browsers_language(outage):
    client = outage.app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR,pt;q=0.9"
    outage.down()
    response = client.get("/")  # the home page lists the forums
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Temporariamente indisponível" in response.get_data(as_text=True)


def test_readiness_names_the_database_while_liveness_still_answers(outage):
    client = outage.app.test_client()
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured"},
        "down": [],
    }
    outage.down()
    ready = client.get("/healthz/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert ready.get_json()["down"] == ["database"]
    assert ready.get_json()["checks"]["database"] == "down"
    live = client.get("/healthz")
    assert live.status_code == 200 and live.get_json() == {"status": "ok"}
    outage.up()
    assert client.get("/healthz/ready").status_code == 200


def test_readiness_names_redis_when_it_is_configured_and_down(app, client, monkeypatch):
    from tests.conftest import REDIS_URL

    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.extensions, "consult_redis", Redis.from_url(REDIS_URL))
    if not Redis.from_url(REDIS_URL).ping():
        pytest.skip("Redis is not reachable")
    ready = client.get("/healthz/ready")
    assert ready.status_code == 200 and ready.get_json()["checks"]["redis"] == "ok"
    closed = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, socket_timeout=1)
    monkeypatch.setitem(app.extensions, "consult_redis", closed)
    ready = client.get("/healthz/ready")
    assert ready.status_code == 503
    assert ready.get_json()["down"] == ["redis"]
    assert ready.get_json()["checks"]["database"] == "ok"


@pytest.mark.parametrize(
    ("path", "status", "title"),
    [
        ("/test/conflict-after-failed-statement", 409, "Conflito"),
        ("/test/error-after-failed-statement", 500, "Algo deu errado"),
    ],
)
def test_an_error_after_a_failed_statement_renders_its_page_and_the_next_request_works(
    outage, member, path, status, title
):
    for _attempt in range(3):  # the attack saw the page itself fail from the second one on
        response = member.get(path)
        assert response.status_code == status
        page = response.get_data(as_text=True)
        assert title in page and 'class="skip-link"' in page  # the full page, not a bare one
        assert '<html lang="pt">' in page
        following = member.get("/profile")
        assert following.status_code == 200 and "Ana Souza" in following.get_data(as_text=True)
