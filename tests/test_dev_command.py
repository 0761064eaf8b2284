"""`consult dev` (`make run`) for real: started in a subprocess, stopped with
SIGTERM or SIGINT, it leaves no process behind, and its banner's demo
sign-ins are the last thing it printed while running."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from consult.demo.loader import DEMO_LOGINS

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads the process tree in /proc"
)

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 240  # a loaded machine; about 10 s otherwise
CLEAN_ENV = ("DATABASE_URL", "REDIS_URL", "JOBS_MODE", "MAIL_BACKEND", "SECRET_KEY", "BASE_URL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process under pid (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        from consult.processes import descendants as from_proc

        return set(from_proc(pid))
    with contextlib.suppress(psutil.NoSuchProcess):
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    return set()


def alive(pid: int) -> bool:
    """Running (a zombie left for init to reap has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


class DevRun:
    def __init__(self, instance: Path):
        self.port = free_port()
        env = {key: value for key, value in os.environ.items() if key not in CLEAN_ENV}
        env["CONSULT_INSTANCE"] = str(instance)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "consult", "dev", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # our signals, not the test run's
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def answers(self) -> bool:
        url = f"http://127.0.0.1:{self.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_for_banner(self):
        last_login = DEMO_LOGINS[-1][0]
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not any(last_login in line for line in self.lines):
            assert self.process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.2)
        assert self.answers()

    def stop(self, sig) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(30)
        finally:
            self.process.kill()
            self.reader.join(5)


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """One instance for the module: the second run finds it migrated and loaded."""
    return tmp_path_factory.mktemp("dev-instance")


@pytest.fixture
def runs():
    """Each `consult dev` a test starts, stopped (SIGTERM) if the test failed first."""
    started_runs: list[DevRun] = []
    yield started_runs
    for run in started_runs:
        if run.process.poll() is None:
            run.stop(signal.SIGTERM)


def started(instance, runs) -> tuple[DevRun, set[int]]:
    run = DevRun(instance)
    runs.append(run)
    run.wait_for_banner()
    time.sleep(1)  # anything printed after the banner would show now
    children = descendants(run.process.pid)
    assert len(children) >= 2, children  # at least the web server and the worker or scheduler
    return run, children


def assert_banner_last(lines: list[str]):
    shown = [line.strip() for line in lines if line.strip()]
    emails = [email for email, _role in DEMO_LOGINS]
    assert [line.split()[0] for line in shown[-len(emails) :]] == emails, "\n".join(lines)
    assert shown[-len(emails) - 1].startswith("Demo sign-ins")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_dev_stops_everything_it_started(instance, runs, sig):
    run, children = started(instance, runs)
    assert_banner_last(list(run.lines))

    status = run.stop(sig)

    assert status == 0, "\n".join(run.lines)
    assert not [pid for pid in children if alive(pid)]
    assert not run.answers()
    assert not _redis_answers(instance)


def _redis_answers(instance: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as client:
        try:
            client.connect(str(instance / "redis" / "redis.sock"))
        except OSError:
            return False
    return True


def test_dev_stops_when_the_web_server_ends(instance, runs):
    run, children = started(instance, runs)
    web = next(pid for pid in children if "run" in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(web, signal.SIGKILL)

    status = run.process.wait(30)
    run.reader.join(5)

    assert status == 1
    assert not [pid for pid in children if alive(pid)]
    assert "web process ended" in run.lines[-1]
