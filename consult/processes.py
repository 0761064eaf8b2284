"""Child processes that stop with their parent (``consult dev``).

Each child gets a session (and so a process group) of its own: a Ctrl-C in the
terminal reaches only the parent, which stops the children in order, each with
its whole group (an RQ worker's scheduler process, for example). On Linux a
child also receives SIGTERM if the parent dies without stopping it (kill -9),
and the parent itself (``consult dev``) when what started it ends (``make``,
killed).
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def _prctl():
    """Linux's prctl, loaded in the parent: the child, between fork and exec,
    only calls it (no import, no lock another thread might have held)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def stop_with_parent() -> None:
    """Ask for SIGTERM when the parent process ends: GNU make, killed, does
    not pass the signal on to ``make run``'s command, which would keep running."""
    if prctl := _prctl():
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str], **options) -> subprocess.Popen:
    """Start ``argv`` in a process group of its own (Popen's ``options`` otherwise),
    on Linux sent SIGTERM if this process dies without stopping it."""
    prctl = _prctl()
    preexec = (lambda: prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)) if prctl else None
    return subprocess.Popen(  # noqa: S603 (our own commands, no shell)
        argv, start_new_session=True, preexec_fn=preexec, **options
    )


def descendants(pid: int) -> list[int]:
    """The processes under ``pid`` (Linux's /proc; elsewhere none are known)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name may hold spaces and parentheses: read after the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _wait(process: subprocess.Popen, seconds: float) -> bool:
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(seconds)
    return process.poll() is not None


class StopRequest:
    """Set by SIGINT, SIGTERM or SIGHUP. A flag polled by the main loop: a
    signal handler must not take locks (an Event's), the main thread may hold them."""

    def __init__(self) -> None:
        self.signal: int | None = None
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.signal is None:
            self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None

    def sleep(self, seconds: float) -> bool:
        """Sleep unless (or until) a stop is asked for; whether it was."""
        deadline = time.monotonic() + seconds
        while not self and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))
        return bool(self)


@dataclass
class Children:
    """The processes a parent started, stopped in the reverse order."""

    grace: float = 10.0
    running: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], **options) -> subprocess.Popen:
        process = spawn(argv, **options)
        self.adopt(name, process)
        return process

    def adopt(self, name: str, process: subprocess.Popen) -> None:
        self.running.append((name, process))

    def exited(self) -> tuple[str, int] | None:
        """The first child that ended by itself, with its exit status."""
        for name, process in self.running:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self) -> None:
        while self.running:
            _name, process = self.running.pop()
            stop(process, self.grace)


def stop(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM to the child's group, then (an RQ worker's cold shutdown) once
    more, then SIGKILL to the group and to anything it started elsewhere."""
    if process.poll() is not None:
        _signal_group(process, signal.SIGTERM)  # what it left behind, if anything
        return
    started = descendants(process.pid)
    _signal_group(process, signal.SIGTERM)
    if not _wait(process, grace):
        _signal_group(process, signal.SIGTERM)
        _wait(process, 2)
        # Those that left the group (an RQ work horse has its own).
        for pid in started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    _signal_group(process, signal.SIGKILL)  # the group's stragglers
    _wait(process, 2)
