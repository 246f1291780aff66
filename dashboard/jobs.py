"""Simulation jobs the page queues for its background worker, each a JSON file named by a random
token in a spool folder of the server's.

The browser holds only the token: the plant file, the plan file and the limits are the server's,
so a crafted request can neither name a file (a plan "/etc/passwd") nor run a job that the
request's role check did not let through (the worker takes only a token the server handed out).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from line.errors import LinemonError

SPOOL = Path(tempfile.gettempdir()) / f"linemon-sim-jobs-{os.getuid() if hasattr(os, 'getuid') else 0}"
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def queue_job(spec: dict[str, Any]) -> str:
    SPOOL.mkdir(mode=0o700, exist_ok=True)
    token = secrets.token_hex(16)
    (SPOOL / f"{token}.json").write_text(json.dumps(spec))
    return token


def take_job(token: Any) -> dict[str, Any]:
    """The job queued under `token`, taken once; a token the server did not hand out is refused."""
    path = SPOOL / f"{token}.json" if isinstance(token, str) and TOKEN.match(token) else None
    if path is None or not path.exists():
        raise LinemonError("no such simulation job (queue one with Run)")
    spec: dict[str, Any] = json.loads(path.read_text())
    path.unlink(missing_ok=True)
    return spec
