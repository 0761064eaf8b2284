"""The live layer on real Redis (and on the in-memory log used without Redis):
one event per publish and none on rollback, a stream that catches up after
Last-Event-ID without duplicates then goes on live, the same events by
polling, the channel's authorisation, and Redis down."""

import json
import time
import uuid

import pytest
from redis import Redis
from sqlalchemy import text

from consult import live
from tests.factories import Factory, sign_in
from tests.test_mail_delivery import redis_url  # noqa: F401 (a fixture)

MEMBERS: set[str] = set()
live.register_channel("livetest", lambda user, key: user.is_authenticated and user.email in MEMBERS)


@pytest.fixture(params=["redis", "memory"])
def backend_url(request, app, monkeypatch):
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "LIVE_MAX_SECONDS", 3)
    monkeypatch.setitem(app.config, "LIVE_HEARTBEAT_SECONDS", 0.5)
    return url


@pytest.fixture
def channel(backend_url):
    name = f"livetest:{uuid.uuid4().hex[:10]}"
    yield name
    if backend_url:
        Redis.from_url(backend_url).delete(f"live:{name}")


@pytest.fixture
def member(session, client):
    user = Factory(session).user(locale="en")
    MEMBERS.add(user.email)
    sign_in(client, user)
    yield user
    MEMBERS.discard(user.email)


def parse(text: str) -> list[dict]:
    """The events of an event stream, as dicts of their fields."""
    events = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        if "event" in fields:
            events.append(fields)
    return events


def own(events: list[dict]) -> list[tuple[str, dict]]:
    """The published events (not the stream's own live-* messages)."""
    return [
        (event["event"], json.loads(event["data"]))
        for event in events
        if not event["event"].startswith("live-")
    ]


def read_events(chunks, count: int) -> list[dict]:
    """Read the stream until ``count`` published events have come."""
    events: list[dict] = []
    text = ""
    while len(own(events)) < count:
        text += next(chunks).decode()
        head, _, text = text.rpartition("\n\n")
        if head:
            events += parse(head + "\n\n")
    return events


def test_one_event_per_publish_after_commit_and_none_on_rollback(
    app, session, channel, backend_url
):
    subscriber = None
    if backend_url:
        subscriber = Redis.from_url(backend_url).pubsub(ignore_subscribe_messages=True)
        subscriber.subscribe(f"live:{channel}")
    session.execute(text("select 1"))  # a transaction is open: events wait for its commit
    live.publish(channel, "point_changed", {"point": 1})
    with session.begin_nested():
        live.publish(channel, "speaker_called", {"speaker": 7})
    assert live.store().after(channel, "0-0") == []  # a savepoint is not a commit
    session.commit()
    session.execute(text("select 1"))
    live.publish(channel, "vote_opened", {"poll": 3})
    session.rollback()
    live.publish(channel, "vote_closed")  # no transaction open: now
    found = live.store().after(channel, "0-0")
    assert [event["kind"] for event in found] == ["point_changed", "speaker_called", "vote_closed"]
    assert found[0]["data"] == {"point": 1}
    assert live.last_id(channel) == found[-1]["id"]
    if subscriber is not None:
        rung, deadline = [], time.monotonic() + 1
        while time.monotonic() < deadline:  # (None also for the subscription's reply)
            if (got := subscriber.get_message(timeout=0.2)) is not None:
                rung.append(got["data"].decode())
        assert rung == [event["id"] for event in found]
        subscriber.close()


def test_a_reconnecting_client_gets_exactly_what_it_missed_then_live_events(
    app, client, member, channel
):
    with app.app_context():
        for n in range(1, 5):
            live.publish(channel, "step", {"n": n})
        ids = [event["id"] for event in live.store().after(channel, "0-0")]
    # The first connection saw events 1 and 2, then dropped.
    response = client.get(
        f"/live/{channel}/events", headers={"Last-Event-ID": ids[1]}, buffered=False
    )
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "ETag" not in response.headers and "Content-Encoding" not in response.headers
    chunks = iter(response.response)
    events = read_events(chunks, 2)
    assert own(events) == [("step", {"n": 3}), ("step", {"n": 4})]
    assert [event["id"] for event in events if event["event"] == "step"] == ids[2:]
    with app.app_context():
        live.publish(channel, "step", {"n": 5})
    events = read_events(chunks, 1)
    assert own(events) == [("step", {"n": 5})]
    rest = b"".join(chunks).decode()  # the stream ends after LIVE_MAX_SECONDS
    assert own(parse(rest)) == []
    response.close()


def test_a_first_connection_starts_after_the_pages_last_id(app, client, member, channel):
    with app.app_context():
        live.publish(channel, "before_the_page")
        page_id = live.last_id(channel)
        live.publish(channel, "after_the_page")
    response = client.get(f"/live/{channel}/events?last_id={page_id}", buffered=False)
    events = read_events(iter(response.response), 1)
    assert own(events) == [("after_the_page", {})]
    response.close()
    # Without any id, the stream starts at the present: nothing old is sent.
    response = client.get(f"/live/{channel}/events", buffered=False)
    chunks = iter(response.response)
    ready = read_until_ready(chunks)
    assert ready["id"] == live_tail(app, channel)
    response.close()


def read_until_ready(chunks) -> dict:
    text = ""
    while "event: live-ready" not in text:
        text += next(chunks).decode()
    return next(event for event in parse(text) if event["event"] == "live-ready")


def live_tail(app, channel):
    with app.app_context():
        return live.last_id(channel)


def test_a_client_that_cannot_stream_gets_the_same_events_by_polling(app, client, member, channel):
    start = client.get(f"/live/{channel}/since").get_json()
    with app.app_context():
        live.publish(channel, "point_changed", {"point": 2})
        live.publish(channel, "speaker_called", {"speaker": 4})
    polled = client.get(f"/live/{channel}/since?last_id={start['last_id']}").get_json()
    assert [(event["kind"], event["data"]) for event in polled["events"]] == [
        ("point_changed", {"point": 2}),
        ("speaker_called", {"speaker": 4}),
    ]
    assert polled["last_id"] == polled["events"][-1]["id"]
    again = client.get(f"/live/{channel}/since?last_id={polled['last_id']}").get_json()
    assert again == {"events": [], "last_id": polled["last_id"]}
    streamed = client.get(f"/live/{channel}/events?last_id={start['last_id']}", buffered=False)
    events = read_events(iter(streamed.response), 2)
    assert [event["id"] for event in events if not event["event"].startswith("live-")] == [
        event["id"] for event in polled["events"]
    ]
    streamed.close()


def test_only_the_channels_members_may_follow_it(app, session, client, channel):
    for path in ("events", "since"):
        assert client.get(f"/live/{channel}/{path}").status_code == 403  # anonymous
    sign_in(client, Factory(session).user(locale="en"))  # not a member
    for path in ("events", "since"):
        assert client.get(f"/live/{channel}/{path}").status_code == 403
        assert client.get(f"/live/unknown:1/{path}").status_code == 404
        assert client.get(f"/live/livetest/{path}").status_code == 404


def test_redis_down_does_not_break_the_action(app, session, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/4")
    session.execute(text("select 1"))
    live.publish("livetest:down", "point_changed", {"point": 1})
    session.commit()  # the event is lost, the transaction is not
    live.publish("livetest:down", "point_changed")  # no transaction: at once
    assert live.last_id("livetest:down") == ""
    MEMBERS.add(member.email)
    for path in ("events", "since"):
        response = client.get(f"/live/livetest:down/{path}")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
