"""The live layer under an assembly's load (issue 18): 300 delegates' phones
follow the session by Server-Sent Events on loopback, the chair acts, and each
phone's stream is timed from the click to the event's arrival; then again
while the 300 ballots are cast (bench/assembly.py's delegates, sign-ins and
ballots); and the server's memory (RSS of gunicorn's master and workers).

Served by gunicorn with consult/gunicorn_conf.py (4 workers, threads) and Redis
(BENCH_REDIS_URL, else redis://127.0.0.1:6379/4, else a private one started
for the run). The chair's action is a real one: the chair, signed in, moves a
point of the session's agenda from the console (a POST with its CSRF token,
one audited change and one live event at commit, as every chair action). The
streams are read by one asyncio loop over raw sockets (HTTP/1.0, so not
chunked); the ballots come from a second process.

    python bench/live.py            # a fresh SQLite database
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test python bench/live.py
"""

import asyncio
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import assembly  # noqa: E402
from load import gunicorn  # noqa: E402
from loadgen import percentile, request  # noqa: E402

DELEGATES = 300
ACTIONS = 10  # chair's actions timed with the streams idle
# During the ballots: one action every BUSY_PAUSE seconds while they are cast
# (at least BUSY_ACTIONS[0], at most BUSY_ACTIONS[1]).
BUSY_ACTIONS = (3, 12)
BUSY_PAUSE = 0.4
CHAIR_EMAIL = "chair@assembly.example"
WAIT_SECONDS = 15  # for every stream to receive an action
# What the live layer sends besides the session's own events.
CONTROL_EVENTS = (b"live-ready", b"live-kinds")


def seed_session(database_url: str) -> dict:
    """An assembly session called for the seeded forum's plan (a consultation
    whose open phase is the assembly's, so the seeded vote stays open), with
    two points on its agenda for the chair to move."""
    from datetime import timedelta

    from consult import create_app
    from consult.accounts.models import User
    from consult.assembly import agenda, sessions
    from consult.consultations import scheduler as phase_scheduler
    from consult.consultations import services as consultations
    from consult.database import utcnow
    from consult.extensions import db
    from consult.plans.models import Plan

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "JOBS_MODE": "inline",
            "MAIL_BACKEND": "log",
            "REDIS_URL": "",
            "SECRET_KEY": "assembly-bench",
        }
    )
    with app.app_context():
        chair = db.session.scalar(db.select(User).where(User.email == CHAIR_EMAIL))
        plan = db.session.scalar(db.select(Plan))
        now = utcnow()
        phase = consultations.PhaseInput(
            "assembly", now - timedelta(hours=1), now + timedelta(days=1)
        )
        consultation = consultations.create_consultation(
            chair, plan, title="Asamblea", phases=[phase]
        )
        phase_scheduler.advance_due(now)
        session = sessions.create_session(
            chair, consultation, sessions.SessionInput(title="Asamblea", starts_at=now)
        )
        points = [agenda.add_point(chair, session, title) for title in ("Informe", "Varios")]
        db.session.commit()
        seeded = {
            "path": f"/forums/{plan.forum.slug}/assembly/{session.id}",
            "channel": f"assembly:{session.id}",
            "point_id": points[-1].id,
        }
        db.session.remove()
        db.engine.dispose()
    return seeded


def redis_url() -> tuple[str, object]:
    from consult.redis_runtime import reachable, start_embedded

    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    if reachable(url):
        return url, None
    started = start_embedded(Path(tempfile.mkdtemp(prefix="consult-bench-redis-")))
    if started is None:
        raise RuntimeError(f"no Redis at {url} and none could be started")
    return started


# --- the server's memory ---------------------------------------------------------------


def _status(pid: str) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def server_memory(port: int) -> dict:
    """RSS of the gunicorn listening on ``port``: master and workers, in MB."""
    bind = f"127.0.0.1:{port}"
    processes = {}  # pid: (parent pid, RSS in kB, started with this bind)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ours = bind in (entry / "cmdline").read_bytes().decode(errors="replace")
            status = _status(entry.name)
        except OSError:
            continue
        rss = int(status.get("VmRSS", "0 kB").split()[0])
        processes[entry.name] = (status.get("PPid"), rss, ours)
    ours = {pid for pid, (_ppid, _rss, mine) in processes.items() if mine}
    master = next((pid for pid in ours if processes[pid][0] not in ours), None)
    if master is None:
        return {}
    workers = [rss for _pid, (ppid, rss, _mine) in processes.items() if ppid == master]
    return {
        "master_mb": round(processes[master][1] / 1024, 1),
        "workers": len(workers),
        "workers_mb": round(sum(workers) / 1024, 1),
        "largest_worker_mb": round(max(workers, default=0) / 1024, 1),
    }


# --- the phones' streams -----------------------------------------------------------------


class Phones:
    """``n`` event streams read by one asyncio loop; arrivals[seq] lists the
    moments (perf_counter) each stream received the session's ``seq``-th event
    (each chair action publishes exactly one; tests/test_assembly_sessions.py)."""

    def __init__(self, port: int, path: str):
        self.port, self.path = port, path
        self.ready = 0
        self.refused: dict[str, int] = {}
        self.arrivals: dict[int, list[float]] = {}

    async def follow(self, cookie: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            (
                f"GET {self.path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                f"Cookie: {cookie}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status = (await reader.readline()).split(b" ")[1].decode()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if status != "200":
            self.refused[status] = self.refused.get(status, 0) + 1
            writer.close()
            return
        fields: dict[bytes, bytes] = {}
        received = [0]
        try:
            while line := await reader.readline():
                line = line.rstrip(b"\r\n")
                if line:
                    name, _, value = line.partition(b": ")
                    fields[name] = value
                    continue
                self._dispatch(fields, received)
                fields = {}
        finally:
            writer.close()

    def _dispatch(self, fields: dict[bytes, bytes], received: list[int]) -> None:
        event = fields.get(b"event")
        if event == b"live-ready":
            self.ready += 1
        elif event is not None and event not in CONTROL_EVENTS and b"data" in fields:
            received[0] += 1
            self.arrivals.setdefault(received[0], []).append(time.perf_counter())


async def _act(base: str, chair: dict, seq: int) -> float:
    """The chair's click (moving a point up, then down again): returns its
    moment (perf_counter, before sending)."""
    loop = asyncio.get_running_loop()
    body = urlencode({"csrf_token": chair["token"], "direction": "up" if seq % 2 else "down"})
    path = f"{chair['path']}/points/{chair['point_id']}/move"
    clicked = time.perf_counter()
    status, *_ = await loop.run_in_executor(
        None, request, base, "POST", path, body, chair["cookie"]
    )
    if status != 302:
        raise RuntimeError(f"the chair's action answered {status}")
    return clicked


async def _delivered(phones: Phones, seq: int, streams: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(phones.arrivals.get(seq, ())) < streams and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def _ballots(base: str, sessions, poll_path: str, results) -> None:
    """In a process of its own: its 300 threads must not share the GIL with
    the loop that timestamps the streams."""
    results.put("ready")
    results.put(assembly.vote_burst(base, sessions, poll_path))


def _ms(values: list[float], share: float) -> float | None:
    return round(percentile(values, share) * 1000, 1) if values else None


def summary(phones: Phones, clicks: dict[int, float], streams: int) -> dict:
    """Each stream's delay (``p50_ms``...), and for each action the delay of
    the last stream to receive it (``last_client_*``: the issue's figure)."""
    delays, last = [], []
    for seq, clicked in clicks.items():
        moments = [moment - clicked for moment in phones.arrivals.get(seq, ())]
        delays += moments
        if moments:
            last.append(max(moments))
    return {
        "actions": len(clicks),
        "p50_ms": _ms(delays, 0.5),
        "p95_ms": _ms(delays, 0.95),
        "max_ms": _ms(delays, 1.0),
        "last_client_p50_ms": _ms(last, 0.5),
        "last_client_p95_ms": _ms(last, 0.95),
        "last_client_max_ms": _ms(last, 1.0),
        "missed": streams * len(clicks) - len(delays),
    }


async def session(base: str, sessions, poll_path: str, chair: dict) -> dict:
    port = urlsplit(base).port
    phones = Phones(port, f"/live/{chair['channel']}/events")
    readers = [asyncio.create_task(phones.follow(cookie)) for cookie, _token in sessions]
    deadline = time.monotonic() + 60
    while phones.ready + sum(phones.refused.values()) < len(sessions):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    streams = phones.ready
    memory = server_memory(port)
    idle: dict[int, float] = {}
    for seq in range(1, ACTIONS + 1):
        idle[seq] = await _act(base, chair, seq)
        await _delivered(phones, seq, streams)
        await asyncio.sleep(0.3)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    voters = spawn.Process(target=_ballots, args=(base, sessions, poll_path, results))
    voters.start()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, results.get)  # "ready"
    await asyncio.sleep(0.3)  # the ballots are on their way
    busy: dict[int, float] = {}
    fewest, most = BUSY_ACTIONS
    while len(busy) < most and (len(busy) < fewest or voters.is_alive()):
        seq = ACTIONS + len(busy) + 1
        busy[seq] = await _act(base, chair, seq)
        await asyncio.sleep(BUSY_PAUSE)
    for seq in busy:
        await _delivered(phones, seq, streams)
    votes = await loop.run_in_executor(None, results.get)
    voters.join()
    memory_after = server_memory(port)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return {
        "streams_open": streams,
        "streams_refused": phones.refused,
        "idle": summary(phones, idle, streams),
        "during_ballots": summary(phones, busy, streams),
        "memory_with_streams": memory,
        "memory_after_ballots": memory_after,
        "vote_burst": votes,
    }


def run(database_url: str, *, workers: int = 4, delegates: int = DELEGATES) -> dict:
    seeded = assembly.seed(database_url, delegates)
    chair = seed_session(database_url)
    url, embedded = redis_url()
    static_dir = Path(tempfile.mkdtemp(prefix="consult-bench-live-static-"))
    env = {"REDIS_URL": url}
    try:
        with gunicorn(database_url, static_dir, workers, env=env) as base:
            with ThreadPoolExecutor(16) as pool:
                sessions = list(
                    pool.map(
                        lambda e: assembly._session(base, e, seeded["poll_path"]),
                        seeded["emails"],
                    )
                )
            cookie, token = assembly._session(base, CHAIR_EMAIL, chair["path"] + "/console")
            chair.update(cookie=cookie, token=token)
            memory_before = server_memory(urlsplit(base).port)  # signed in, no stream yet
            result = asyncio.run(session(base, sessions, seeded["poll_path"], chair))
    finally:
        if embedded is not None:
            embedded.terminate()
    result["vote_burst"]["ballots_in_database"] = assembly.ballots_counted(
        database_url, seeded["poll_id"]
    )
    result["memory_before_streams"] = memory_before
    result["server"] = f"gunicorn, {workers} gthread workers (consult/gunicorn_conf.py), Redis"
    result["delegates"] = delegates
    return result


def main() -> None:
    from run import own_database  # the bench's rule: only databases of its own

    logging.getLogger("consult.mail").setLevel(logging.WARNING)
    kind = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    workers = int(os.environ.get("BENCH_WORKERS", "4"))
    delegates = int(os.environ.get("BENCH_DELEGATES", str(DELEGATES)))
    with own_database(kind, "live") as url:
        result = run(url, workers=workers, delegates=delegates)
    result["database"] = kind
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
