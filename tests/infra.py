"""Real parts for the tests: the private mosquitto broker (linemon.broker), linemon processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linemon.broker import Broker, wait_for

__all__ = ["Broker", "linemon_proc", "served_app", "wait_for"]


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


@contextmanager
def served_app(app: Any) -> Iterator[str]:
    """A Dash app served by werkzeug on a free loopback port, in a thread; yields its base URL
    (ending in "/")."""
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app.server, threaded=True)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}/"
    finally:
        srv.shutdown()
        th.join(5)
