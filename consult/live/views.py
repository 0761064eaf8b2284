"""The live endpoints of a channel (``/live/<prefix>:<key>/…``):

* ``events``: a Server-Sent Events stream. It starts after ``Last-Event-ID``
  (the browser's reconnection) or ``?last_id=`` (the page's first connection,
  from ``live.last_id``), sends what was missed, then each event as it comes,
  a comment every ``LIVE_HEARTBEAT_SECONDS``, and ends after
  ``LIVE_MAX_SECONDS`` so that workers recycle; the browser reconnects.
* ``since``: the same events as JSON, for a browser that cannot stream.

Authorisation is asked once, when the request comes in; the stream then holds
no database session (only a Redis connection, or none without Redis).
"""

import json
import logging
import time

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from redis.exceptions import RedisError

from ..database import read_only
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from . import STOPPING, authorizer, parse_id, store
from .store import PAGE

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__, url_prefix="/live")

WAIT_SLICE = 1.0  # seconds
READY = "live-ready"  # reserved kinds: the stream's own messages
KINDS = "live-kinds"


def _settings() -> dict:
    config = current_app.config
    return {
        "max_seconds": float(config.get("LIVE_MAX_SECONDS", 300)),
        "heartbeat": float(config.get("LIVE_HEARTBEAT_SECONDS", 15)),
        "retry_ms": int(config.get("LIVE_RETRY_MS", 2000)),
    }


def _authorize(channel: str) -> None:
    found = authorizer(channel)
    if found is None:
        raise NotFound()
    authorize, key = found
    if not authorize(current_user, key):
        raise PermissionDenied()


def _requested_id() -> str | None:
    value = request.headers.get("Last-Event-ID") or request.args.get("last_id")
    return value if parse_id(value) else None


def _unavailable(error: Exception) -> Response:
    log.warning("Live channel unavailable (%s)", error)
    response = jsonify(events=[], last_id="", error="unavailable")
    response.status_code = 503
    response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    return response


def message(event: dict, kind: str | None = None) -> str:
    """One event in the text/event-stream format."""
    data = json.dumps(event.get("data") or {}, separators=(",", ":"))
    lines = [f"id: {event['id']}"] if event.get("id") else []
    lines.append(f"event: {kind or event['kind']}")
    lines.append(f"data: {data}")
    return "\n".join(lines) + "\n\n"


@bp.get("/<channel>/events")
@read_only
def events(channel: str):
    _authorize(channel)
    settings = _settings()
    log_ = store()
    last_id = _requested_id()
    db.session.remove()  # nothing below reads the database
    try:
        doorbell = log_.listen(channel)  # before reading: nothing falls in between
        if last_id is None:
            last_id = log_.tail(channel)
    except (RedisError, OSError) as error:
        return _unavailable(error)
    body = stream(log_, doorbell, channel, last_id, settings)
    response = Response(body, mimetype="text/event-stream")
    response.call_on_close(doorbell.close)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def stream(log_, doorbell, channel: str, last_id: str, settings: dict):
    """The body of an event stream: catch-up, then live events, heartbeats."""
    announced: set[str] = set()
    deadline = time.monotonic() + settings["max_seconds"]
    try:
        yield f"retry: {settings['retry_ms']}\n\n"
        yield message({"id": last_id, "data": {}}, READY)
        while True:
            for event in _after(log_, channel, last_id):
                if event["kind"] not in announced:
                    announced.add(event["kind"])
                    yield message({"data": {"kinds": sorted(announced)}}, KINDS)
                yield message(event)
                last_id = event["id"]
            if not (yield from _wait(doorbell, deadline, settings["heartbeat"])):
                return
    except (RedisError, OSError) as error:
        log.info("Live stream of %s ends (%s); the browser reconnects", channel, error)
    finally:
        doorbell.close()


def _wait(doorbell, deadline: float, heartbeat: float):
    """Wait for the doorbell, sending a comment every ``heartbeat`` seconds;
    True when it rang, False when the stream is to end (its time is up, or the
    worker stops). Waits in slices, so that a stopping worker's streams end
    within a second."""
    quiet = 0.0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or STOPPING.is_set():
            return False
        if doorbell.wait(min(WAIT_SLICE, remaining)):
            return True
        quiet += min(WAIT_SLICE, remaining)
        if quiet >= heartbeat:
            yield ": keep-alive\n\n"
            quiet = 0.0


def _after(log_, channel: str, last_id: str):
    while True:
        found = log_.after(channel, last_id)
        yield from found
        if len(found) < PAGE:
            return
        last_id = found[-1]["id"]


@bp.get("/<channel>/since")
@read_only
def since(channel: str):
    _authorize(channel)
    last_id = _requested_id()
    try:
        log_ = store()
        if last_id is None:
            found, last_id = [], log_.tail(channel)
        else:
            found = log_.after(channel, last_id)
    except (RedisError, OSError) as error:
        return _unavailable(error)
    response = jsonify(events=found, last_id=found[-1]["id"] if found else last_id)
    response.headers["Cache-Control"] = "no-store"
    return response
