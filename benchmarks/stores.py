"""SQLite and PostgreSQL side by side (issue 19): `linemon import` of the same file into each, next
to the raw insert rate of that database on this machine (the physical limit: executemany into a
bare SQLite table, COPY into a bare PostgreSQL table, the same rows), and the yield report over
a 10M-result store of each (built once and kept with --workdir), next to one full scan of it.

PostgreSQL runs as a private server in the work folder (linemon.pgserver), with fsync off as in
the tests: this measures linemon's work, not the disk. A plant server keeps fsync on.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from line.config import load_plant
from line.records import parse_record
from linemon.importer import import_file
from linemon.pgserver import PgServer
from linemon.report import yield_figures
from store.base import Store, open_store
from store.sql_store import result_row

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
END = datetime(2026, 11, 1, tzinfo=UTC)  # the report stores' data ends here
Lines = Callable[[int, datetime, timedelta, int], Any]


def pg_server(work: Path) -> PgServer:
    """The benchmarks' PostgreSQL, kept in work/pg (its `postgres` user must reach the folder)."""
    folder = work / "pg"
    folder.mkdir(parents=True, exist_ok=True)
    for p in (work, *work.parents):
        if p == Path("/"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o011)  # traversable by others (postgres), nothing readable
    return PgServer(folder)


def database(server: PgServer, name: str, fresh: bool) -> str:
    """The URL of database `name` on `server` (created; emptied first when `fresh`)."""
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            c.execute(f"DROP DATABASE {name}")
        if not exists or fresh:
            c.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + "/" + name


def raw_sqlite_rate(rows: list[tuple[Any, ...]], path: Path) -> float:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE t (rid INTEGER PRIMARY KEY, id, ts, line, station, equipment, serial, product, wo, result, "
        "pass, d, f, detail)"
    )
    t0 = time.perf_counter()
    for i in range(0, len(rows), 20_000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows[i : i + 20_000])
        conn.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - t0)
    conn.close()
    return rate


def raw_pg_rate(rows: list[tuple[Any, ...]], url: str) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS raw_t")
        c.execute(
            "CREATE TABLE raw_t (id text, ts bigint, line text, station text, equipment text, serial text, "
            "product text, wo text, result text, pass int, d int, f int, detail text)"
        )
        t0 = time.perf_counter()
        for i in range(0, len(rows), 20_000):
            with c.transaction(), c.cursor().copy("COPY raw_t FROM STDIN") as cp:
                for row in rows[i : i + 20_000]:
                    cp.write_row(row)
        rate = len(rows) / (time.perf_counter() - t0)
        c.execute("DROP TABLE raw_t")
    return rate


def bench_import_stores(n: int, work: Path, kinds: list[str], lines: Lines) -> None:
    plant = load_plant(PLANT)
    src = work / "import.jsonl"
    with open(src, "wb") as fh:
        for line in lines(n, END, timedelta(days=60), 1):
            fh.write(line + b"\n")
    sample = [result_row(parse_record(raw)) for raw in lines(min(n, 200_000), END, timedelta(days=9), 2)]
    server = pg_server(work) if "postgresql" in kinds else None
    try:
        for kind in kinds:
            if kind == "sqlite":
                (work / "import.db").unlink(missing_ok=True)
                url, raw = f"sqlite:///{work / 'import.db'}", raw_sqlite_rate(sample, work / "raw.db")
            else:
                assert server is not None
                url = database(server, "import", fresh=True)
                raw = raw_pg_rate(sample, url)
            store = open_store(url)
            t0 = time.perf_counter()
            res = import_file(src, store, plant)
            dt = time.perf_counter() - t0
            store.close()
            rate = res.counts.stored / dt
            print(
                f"import [{kind}]: {res.counts.stored:,} records in {dt:.1f} s = {rate:,.0f} records/s "
                f"(target >= 50,000); raw insert limit {raw:,.0f} rows/s -> ratio {rate / raw:.2f}"
            )
    finally:
        if server is not None:
            server.stop()


def report_store(url: str, m: int, lines: Lines) -> Store:
    """The store of `url` holding `m` results over a year up to END (written once)."""
    store = open_store(url)
    if store.result_count() < m:
        t0 = time.perf_counter()
        batch = []
        for raw in lines(m, END, timedelta(days=365), 3):
            batch.append(parse_record(raw))
            if len(batch) == 50_000:
                store.write(batch)
                batch = []
        store.write(batch)
        store.refresh_statistics()
        print(f"report: built a store of {store.result_count():,} records in {time.perf_counter() - t0:.0f} s ({url})")
    return store


def _best(fn: Callable[[], Any], n: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), sorted(times)[n // 2]


def bench_report_stores(m: int, work: Path, kinds: list[str], lines: Lines) -> None:
    """`linemon report yield` over 7 days, 30 days and a year on each store, as a command (start-up
    included) and as the report call alone; beside one full scan of the results."""
    import subprocess
    import sys

    plant = load_plant(PLANT)
    server = pg_server(work) if "postgresql" in kinds else None
    try:
        for kind in kinds:
            url = f"sqlite:///{work / 'report.db'}" if kind == "sqlite" else database(server, "report", False)  # type: ignore[arg-type]
            store = report_store(url, m, lines)
            n = store.result_count()
            t0 = time.perf_counter()
            store._conn().execute("SELECT count(*), sum(pass) FROM results").fetchone()  # type: ignore[attr-defined]
            scan = time.perf_counter() - t0
            for days in (7, 30, 365):
                a, b = END - timedelta(days=days, minutes=17), END - timedelta(minutes=17)
                best, median = _best(lambda a=a, b=b, s=store: yield_figures(s, plant, a, b))
                argv = [sys.executable, "-m", "linemon", "report", "yield", "--store", url, "--config", str(PLANT),
                        "--from", a.isoformat(), "--to", b.isoformat()]  # fmt: skip
                cmd = _best(lambda argv=argv: subprocess.run(argv, check=True, capture_output=True), 3)[0]
                print(
                    f"report [{kind}, {n:,} results] {days:3d} days: command {cmd * 1000:6.0f} ms (target <= 500 ms), "
                    f"report call best {best * 1000:6.1f} ms, median {median * 1000:6.1f} ms; "
                    f"one full scan {scan * 1000:.0f} ms -> {best / scan:.3f} of a scan"
                )
            store.close()
    finally:
        if server is not None:
            server.stop()


def temp_work() -> Path:
    return Path(tempfile.mkdtemp(prefix="linemon-bench-"))
