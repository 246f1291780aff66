"""A private PostgreSQL server for the tests and the benchmarks (never for the plant, which runs
its own): a cluster initialised into a temporary folder, on a free port, stopped at the end.

Debian's `postgresql` package keeps the server programs under /usr/lib/postgresql/<major>/bin,
off PATH; `initdb` and `postgres` refuse to run as root, so as root they run as the package's
`postgres` user in a folder it owns (reference/test-infrastructure.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from line.errors import LinemonError
from linemon.broker import free_port

USER = "linemon"


def server_bin(name: str) -> str | None:
    """`initdb`, `pg_ctl`, ... on PATH, else in the newest /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


class PgServer:
    """`PgServer(folder)` starts a cluster with one database `linemon` (trust login for user
    linemon on 127.0.0.1 only), or the cluster an earlier one left in `folder`; `.url` is its
    store URL, `.stop()` ends it."""

    def __init__(self, workdir: Path) -> None:
        initdb, self._pg_ctl = server_bin("initdb"), server_bin("pg_ctl")
        if initdb is None or self._pg_ctl is None:
            raise LinemonError("PostgreSQL is not installed (Debian: apt install postgresql)")
        self.dir, self.port = workdir, free_port()
        self.data = workdir / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(workdir, "postgres")
        made = (self.data / "PG_VERSION").exists()  # a cluster kept from an earlier run (benchmarks)
        if not made:
            self._run([initdb, "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C.UTF-8"])
        self.start()
        if not made:
            self._run([self._psql(), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres",
                       "-qc", f"CREATE DATABASE {USER}"])  # fmt: skip
        self.url = f"postgresql://{USER}@127.0.0.1:{self.port}/{USER}"

    def _psql(self) -> str:
        exe = server_bin("psql")
        if exe is None:
            raise LinemonError("psql is not installed (Debian: apt install postgresql-client)")
        return exe

    def _run(self, argv: list[str]) -> None:
        """Run a server program, as the `postgres` user when we are root; its output on failure."""
        if self._as_root:
            argv = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in argv)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir)
        if done.returncode != 0:
            raise LinemonError(f"{argv[-1][:200]} failed: {done.stdout[-800:]}{done.stderr[-800:]}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        assert self._pg_ctl is not None
        self._run([self._pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"])

    def stop(self) -> None:
        assert self._pg_ctl is not None
        self._run([self._pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"])
