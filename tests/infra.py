"""Real parts for the tests: the private mosquitto broker (linemon.broker), linemon processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from linemon.broker import Broker, wait_for

__all__ = ["Broker", "linemon_proc", "wait_for"]


def linemon_proc(*args: str, log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """A linemon command as its own process (for kill tests), output into `log`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "linemon", *args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
        )


def sigterm_exit_code(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> int | None:
    """SIGTERM a process and return its exit code; None if it did not stop in time, after
    killing it (a failing test must not leave an ingest running on the machine)."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
