"""The load generator of `make bench`, run as a second process so that it does
not share an interpreter (or a GIL) with anything it measures.

Reads a JSON plan from stdin and writes the measurements as JSON to stdout:
for each target, a fixed number of requests (or until its time is up) sent by
a few threads, each request on a new connection to 127.0.0.1 (gunicorn's sync
workers close every connection). Only loopback addresses are accepted.
"""

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit


def request(base: str, method: str, path: str, body: str = "", cookie: str = ""):
    """One request: (status, seconds, response headers, body bytes)."""
    parts = urlsplit(base)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the bench only loads this machine, not {parts.hostname}")
    headers = {"Accept-Language": "es", "Connection": "close"}
    if cookie:
        headers["Cookie"] = cookie
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=body.encode() if body else None, headers=headers)
        response = connection.getresponse()
        content = response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started, response.headers, content


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load(base: str, target: dict, threads: int) -> dict:
    """Send a target's requests from ``threads`` threads; each request is
    (method, path, body, cookie), used once, in order."""
    jobs = [tuple(job) for job in target["requests"]]
    deadline = time.perf_counter() + target.get("seconds", 30)
    warmup = target.get("warmup", 2)
    for job in jobs[:warmup]:
        request(base, *job)
    jobs = jobs[warmup:]
    lock = threading.Lock()
    latencies, statuses = [], {}
    position = {"next": 0}

    def worker():
        while time.perf_counter() < deadline:
            with lock:
                if position["next"] >= len(jobs):
                    return
                job = jobs[position["next"]]
                position["next"] += 1
            status, seconds, _headers, _body = request(base, *job)
            with lock:
                latencies.append(seconds)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    expected = set(target.get("expect", [200]))
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 2) if elapsed else None,
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
        "unexpected": sum(n for code, n in statuses.items() if code not in expected),
    }


def main() -> None:
    plan = json.load(sys.stdin)
    results = {
        target["name"]: load(plan["base"], target, plan.get("threads", 4))
        for target in plan["targets"]
    }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
