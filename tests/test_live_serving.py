"""The live streams as a browser gets them: over a real socket from a threaded
server (not gzipped, not buffered, ended when the worker stops), and the
middleware that lets streams pass while ordinary requests take turns."""

import http.client
import threading
import time

import pytest
from werkzeug.serving import make_server

from consult import live
from consult.live.serving import OrdinaryRequests

live.register_channel("liveopen", lambda _user, _key: True)


@pytest.fixture
def server(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setitem(app.config, "LIVE_MAX_SECONDS", 20)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    live.STOPPING.clear()
    httpd.shutdown()


def read_until(response, text: str, limit: float = 10) -> str:
    seen, deadline = "", time.monotonic() + limit
    while text not in seen and time.monotonic() < deadline:
        line = response.fp.readline().decode()
        if not line:
            break
        seen += line
    return seen


def test_events_arrive_over_a_socket_unbuffered_and_not_gzipped(app, server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request(
        "GET",
        "/live/liveopen:1/events",
        headers={"Accept-Encoding": "gzip", "Last-Event-ID": "0-0"},
    )
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    assert response.getheader("Content-Encoding") is None
    assert response.getheader("ETag") is None
    assert "event: live-ready" in read_until(response, "event: live-ready")
    started = time.monotonic()
    with app.app_context():
        live.publish("liveopen:1", "point_changed", {"point": 2})
    assert 'data: {"point":2}' in read_until(response, '"point":2')
    assert time.monotonic() - started < 2  # within a second of the action, not at the end
    live.STOPPING.set()  # the worker stops: the stream ends within a second
    stopped = time.monotonic()
    while response.fp.readline():
        pass
    assert time.monotonic() - stopped < 3
    connection.close()


def test_streams_pass_while_ordinary_requests_take_turns():
    inside, most, lock = [0], [0], threading.Lock()

    def app(environ, start_response):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        with lock:
            inside[0] -= 1
        start_response("200 OK", [])
        return [b"ok"]

    limited = OrdinaryRequests(app, 1)

    answers = []

    def call(path):
        body = limited({"PATH_INFO": path}, lambda *_: None)
        answers.append(list(body))
        getattr(body, "close", lambda: None)()  # a WSGI server closes what can be

    threads = [threading.Thread(target=call, args=("/forums/x",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == [1]
    most[0] = 0
    threads = [threading.Thread(target=call, args=("/live/a:1/events",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] > 1  # streams do not wait for a slot
    assert answers == [[b"ok"]] * 12


def test_the_chairs_actions_do_not_wait_behind_the_ballots():
    release = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"].endswith("/vote"):
            release.wait(5)  # a long ballot holds the ordinary slot
        start_response("200 OK", [])
        return [b"ok"]

    lanes = OrdinaryRequests(app, 1, r"^POST /forums/[^/]+/assembly/\d+/")
    vote = {"REQUEST_METHOD": "POST", "PATH_INFO": "/forums/red/polls/1/vote"}
    ballot = threading.Thread(target=lambda: list(lanes(vote, lambda *_: None)))
    ballot.start()
    time.sleep(0.1)
    started = time.monotonic()
    chair = {"REQUEST_METHOD": "POST", "PATH_INFO": "/forums/red/assembly/3/vote/close"}
    body = lanes(chair, lambda *_: None)
    assert list(body) == [b"ok"] and time.monotonic() - started < 1
    body.close()
    release.set()
    ballot.join()
