"""Browser journeys: a live Consult server in a thread (fresh SQLite database,
CSRF on, jobs inline), driven by Playwright through the system's Chromium.

Nothing here downloads a browser: Playwright launches /usr/bin/chromium (the
Debian package). Without it, or without axe-core (fetched by `make test` into
tests/browser/vendor/), the journeys skip outside CI and fail with CI=true.
"""

import logging
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from werkzeug.serving import make_server

from consult.accounts import services as accounts
from consult.extensions import db
from tests.conftest import IN_CI, make_app

from .support import ARTIFACTS, AXE_SCRIPT, Journey

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require(available: bool, what: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what}; the browser journeys run in CI")


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url


# Package-scoped: the server and the browser stop once the journeys are done.
@pytest.fixture(scope="package")
def live_server(tmp_path_factory):
    """Consult on a free port of 127.0.0.1, as a user's browser sees it: CSRF
    tokens checked, jobs run at commit (JOBS_MODE=inline), mail to the log."""
    folder = tmp_path_factory.mktemp("browser-db")
    app = make_app(
        f"sqlite:///{folder / 'journeys.db'}",
        TESTING=False,
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    # Argon2 at its production cost makes every sign-in slow; the journeys test
    # the pages, tests/test_accounts.py tests the hashing.
    cheap = PasswordHasher(time_cost=1, memory_cost=1024)
    original, accounts._hasher = accounts._hasher, cheap
    try:
        yield LiveServer(app, url)
    finally:
        accounts._hasher = original
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="package")
def chromium():
    executable = shutil.which("chromium")
    _require(
        executable is not None,
        "Chromium (the Debian package `chromium`, /usr/bin/chromium) is not installed",
    )
    _require(AXE_SCRIPT.is_file(), f"axe-core is not in {AXE_SCRIPT} (`make test` fetches it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "The Python package playwright is not installed (pip install -e '.[dev]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def journey(request, chromium, live_server):
    """Opens browser contexts (one a person) for one journey and, at the end,
    fails with every problem its pages showed (accessibility, English left in
    a Spanish or Portuguese page, script errors)."""
    downloads = Path(tempfile.mkdtemp(prefix="consult-downloads-"))
    trip = Journey(request.node.name, chromium, live_server, downloads)
    try:
        yield trip
    finally:
        trip.close()
        shutil.rmtree(downloads, ignore_errors=True)
    trip.assert_clean()
