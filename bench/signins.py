"""Sign-ins in a burst against a live server: the start of the assembly, when
every delegate signs in within two minutes.

Each sign-in is what a browser does: GET the sign-in page (a session cookie and
its CSRF token), then POST the credentials; it succeeds when the answer is a
redirect away from the sign-in page with a session cookie. ``concurrency``
threads share the sign-ins, each request on a new connection to this machine
(see loadgen.request: only loopback addresses are accepted).

    python bench/signins.py http://127.0.0.1:8000 --count 300 \
        --email 'delegate{n}@example.org' --password '...' --concurrency 16
"""

import argparse
import json
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from loadgen import percentile, request

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SESSION_COOKIE = "consult_session"


def _cookies(headers, jar: dict[str, str]) -> None:
    for header in headers.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].partition("=")
        jar[name.strip()] = value


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def sign_in(base_url: str, email: str, password: str) -> dict:
    """One sign-in: its outcome, its total time and the POST's alone."""
    jar: dict[str, str] = {}
    started = time.perf_counter()
    status, _seconds, headers, body = request(base_url, "GET", "/sign-in")
    _cookies(headers, jar)
    match = CSRF.search(body.decode("utf-8", "replace"))
    if status != 200 or not match:
        return {"ok": False, "seconds": time.perf_counter() - started, "status": f"GET {status}"}
    form = urlencode({"csrf_token": match.group(1), "email": email, "password": password})
    status, post_seconds, headers, _body = request(
        base_url, "POST", "/sign-in", form, _cookie_header(jar)
    )
    _cookies(headers, jar)
    location = headers.get("Location") or ""
    ok = status == 302 and "/sign-in" not in location and bool(jar.get(SESSION_COOKIE))
    return {
        "ok": ok,
        "seconds": time.perf_counter() - started,
        "post_seconds": post_seconds,
        "status": str(status),
    }


def run(base_url: str, emails: list[str], password: str, concurrency: int) -> dict:
    """Sign each of ``emails`` in once, ``concurrency`` at a time, all started at
    once; latencies are of whole sign-ins (page and post), in milliseconds."""
    if not emails:
        raise ValueError("no emails to sign in")
    lock = threading.Lock()
    outcomes: list[dict] = []

    def one(email: str) -> None:
        try:
            outcome = sign_in(base_url, email, password)
        except OSError as error:  # refused, reset or timed out: a failure, not a crash
            outcome = {"ok": False, "seconds": None, "status": type(error).__name__}
        with lock:
            outcomes.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        list(pool.map(one, emails))
    total = time.perf_counter() - started

    timed = [o["seconds"] for o in outcomes if o["seconds"] is not None]
    posts = [o["post_seconds"] for o in outcomes if o.get("post_seconds") is not None]
    statuses: dict[str, int] = {}
    for outcome in outcomes:
        statuses[outcome["status"]] = statuses.get(outcome["status"], 0) + 1

    def ms(value: float | None) -> float | None:
        return round(value * 1000, 1) if value is not None else None

    return {
        "sign_ins": len(emails),
        "concurrency": concurrency,
        "total_seconds": round(total, 2),
        "sign_ins_per_second": round(len(emails) / total, 2) if total else None,
        "p50_ms": ms(statistics.median(timed)) if timed else None,
        "p95_ms": ms(percentile(timed, 0.95)) if timed else None,
        "max_ms": ms(max(timed)) if timed else None,
        "post_p95_ms": ms(percentile(posts, 0.95)) if posts else None,
        "failures": sum(1 for o in outcomes if not o["ok"]),
        "statuses": dict(sorted(statuses.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--email", default="delegate{n}@example.org", help="with {n} from 1")
    parser.add_argument("--password", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    emails = [options.email.format(n=n) for n in range(1, options.count + 1)]
    print(json.dumps(run(options.base_url, emails, options.password, options.concurrency)))


if __name__ == "__main__":
    main()
