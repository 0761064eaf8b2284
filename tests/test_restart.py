"""Issue 20: gunicorn reloaded three times in ten seconds under a burst of
posts loses nothing and leaves no request hanging past its timeout.

A real gunicorn (consult/gunicorn_conf.py, two workers) on PostgreSQL, as in
production; the posts are comments through the API, each with its own
Idempotency-Key, so "nothing lost" can be checked row by row."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from consult.extensions import db
from tests.conftest import fresh_database, make_app

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
POSTS = 48
RELOADS = (1.0, 4.5, 8.0)  # seconds after the burst starts
CLIENT_TIMEOUT = 40  # longer than gunicorn's own timeout (30 s), to see a hang


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(database_url: str) -> dict:
    from consult.api import tokens
    from consult.plans import services as plans
    from tests.factories import Factory

    app = make_app(database_url)
    with app.app_context():
        db.create_all()
        make = Factory(db.session)
        forum = make.forum()
        member = make.member(forum).user
        plan = plans.import_plan(None, forum, "PLAN\n\nSECCIÓN\n\n1. Punto uno.\n")
        plan.open_for_input = True
        key = next(n.key for n in plans.version_nodes(plan.current_version) if n.kind == "item")
        _token, secret = tokens.create_token(member, "restart", "write")
        db.session.commit()
        seeded = {"slug": forum.slug, "plan_id": plan.id, "key": key, "secret": secret}
        db.session.remove()
        db.engine.dispose()
    return seeded


def post_comment(port: int, seeded: dict, number: int) -> tuple[int | None, float, str]:
    body = json.dumps(
        {
            "target_type": "node",
            "target_key": seeded["key"],
            "plan_id": seeded["plan_id"],
            "body": f"restart-{number}",
        }
    )
    headers = {
        "Authorization": f"Bearer {seeded['secret']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"restart-{number}",
    }
    started = time.monotonic()
    # A client retries a connection refused or reset with the same key, as any
    # HTTP client library does for an idempotent request.
    for _attempt in range(3):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
        try:
            connection.request("POST", f"/api/v1/forums/{seeded['slug']}/comments", body, headers)
            response = connection.getresponse()
            response.read()
            return response.status, time.monotonic() - started, ""
        except (ConnectionResetError, ConnectionRefusedError, http.client.RemoteDisconnected):
            time.sleep(0.2)
        except TimeoutError as error:
            return None, time.monotonic() - started, repr(error)
        finally:
            connection.close()
    return None, time.monotonic() - started, "connection failed three times"


@pytest.mark.postgres
def test_reloads_under_a_burst_of_posts_lose_nothing(tmp_path):
    with fresh_database("postgresql", tmp_path) as url:
        seeded = seed(url)
        port = free_port()
        instance = tempfile.mkdtemp(prefix="consult-restart-")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "restart-secret-key",
            "CONSULT_INSTANCE": instance,
            "JOBS_MODE": "inline",
            "MAIL_BACKEND": "log",
            "REDIS_URL": "",
            "WEB_CONCURRENCY": "2",
            "CONSULT_BIND": f"127.0.0.1:{port}",
        }
        log = Path(instance) / "gunicorn.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                [str(GUNICORN), "-c", "python:consult.gunicorn_conf", "consult:create_app()"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                    time.sleep(0.2)

            results: dict[int, tuple] = {}

            def send(numbers):
                for number in numbers:
                    results[number] = post_comment(port, seeded, number)
                    time.sleep(0.6)

            threads = [
                threading.Thread(target=send, args=(range(start, POSTS, 8),)) for start in range(8)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for moment in RELOADS:
                time.sleep(max(0.0, started + moment - time.monotonic()))
                server.send_signal(signal.SIGHUP)
            for thread in threads:
                thread.join(timeout=CLIENT_TIMEOUT * 4)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()

        assert len(results) == POSTS
        hung = {n: r for n, r in results.items() if r[0] is None or r[1] > 30}
        assert not hung, (hung, log.read_text()[-3000:])
        assert {status for status, _s, _e in results.values()} == {201}, results

        app = make_app(url)
        with app.app_context():
            from consult.comments.models import Comment

            bodies = db.session.scalars(select(Comment.body)).all()
            db.session.remove()
            db.engine.dispose()
        assert sorted(bodies) == sorted(f"restart-{n}" for n in range(POSTS)), "each post once"
