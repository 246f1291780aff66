"""Import and report benchmarks of the foundation (issue 2).

- import: `linemon import` of N records (JSON lines) into a fresh SQLite store, next to the raw
  rate of SQLite on this machine (executemany into a bare table, no indexes, same rows).
- report: `linemon report yield` for a 30-day window over a store holding M records (spread over
  a year), next to the time of one full scan of the results table (what it would cost without
  roll-ups).
- simulation: see benchmarks/simulation.py (raw SimPy rate, tandem line, a simulated plant year).
- dashboard: every page's data callback on the report store (benchmarks/dashboard.py; run after report).
- ingest: see benchmarks/ingest.py (MQTT QoS 1 end to end vs a raw paho subscriber, live and draining a backlog; memory soak).
- writer: the ingest writer's CPU instructions per message (benchmarks/writer.py; needs valgrind).
- files: SPI report files through a file binding (boards/s, pads/s) and the QA page's measurement
  SPC on a year of SPI data (benchmarks/files.py).
Usage: python -m benchmarks [--only import|report|simulation|ingest|writer|dashboard|load|files] [--soak-minutes M] [--import-records N] [--report-records M]
       [--workdir DIR]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.dashboard import bench_dashboard
from benchmarks.ingest import bench_ingest
from benchmarks.simulation import bench_simulation
from benchmarks.writer import bench_writer
from line.config import load_plant
from line.records import parse_record
from linemon.importer import import_file
from linemon.report import yield_figures
from store.sqlite import SqliteStore, _result_row

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
STATIONS = [
    ("SMT1", "SPI"),
    ("SMT1", "VI1"),
    ("SMT1", "FCT"),
    ("SMT1", "VI2"),
    ("ASSY1", "AGING"),
    ("ASSY1", "FT"),
    ("ASSY1", "OQA"),
]
PRODUCTS = ["FF-50", "MR-1200", "AIS-300", "GPS-70", "VDR-900"]


def lines(n: int, end: datetime, span: timedelta, seed: int) -> Iterator[bytes]:
    """Realistic JSON lines: units walk the 7 inspection stations, ~4 % fail and are retested."""
    rng = random.Random(seed)
    step = span / (n / 7.3)
    t = end - span
    i = unit = 0
    while i < n:
        unit += 1
        product = PRODUCTS[unit % 5]
        for k, (line, station) in enumerate(STATIONS):
            for _attempt in range(3):
                ok = rng.random() > 0.04
                rec = {
                    "schema": "linemon.result/1",
                    "id": f"b{seed}-{i}",
                    "ts": (t + timedelta(minutes=k * 7)).isoformat(),
                    "line": line,
                    "station": station,
                    "serial": f"{product}-{unit:08d}",
                    "product": product,
                    "work_order": f"WO-{unit // 40:05d}",
                    "result": "PASS" if ok else "FAIL",
                    "defects": [] if ok else [{"code": "bridge", "refdes": f"U{rng.randint(1, 60)}"}],
                }
                yield orjson.dumps(rec)
                i += 1
                if ok or i >= n:
                    break
            if i >= n:
                break
        t += step


def raw_sqlite_rate(rows: list[tuple], path: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE t (rid INTEGER PRIMARY KEY, id, ts, line, station, equipment, serial, product, wo, result, pass, d, f, detail)"
    )
    t0 = time.perf_counter()
    for i in range(0, len(rows), 20_000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows[i : i + 20_000])
        conn.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - t0)
    conn.close()
    return rate


def bench_import(n: int, work: Path) -> None:
    plant = load_plant(PLANT)
    src = work / "import.jsonl"
    with open(src, "wb") as fh:
        for line in lines(n, datetime(2026, 11, 1, tzinfo=UTC), timedelta(days=60), seed=1):
            fh.write(line + b"\n")
    store = SqliteStore(work / "import.db")
    t0 = time.perf_counter()
    res = import_file(src, store, plant)
    dt = time.perf_counter() - t0
    store.close()
    sample = [
        _result_row(parse_record(raw))
        for raw in list(lines(min(n, 200_000), datetime(2026, 1, 1, tzinfo=UTC), timedelta(days=9), 2))
    ]  # type: ignore[arg-type]
    raw = raw_sqlite_rate(sample, work / "raw.db")
    rate = res.counts.stored / dt
    print(
        f"import: {res.counts.stored:,} records in {dt:.1f} s = {rate:,.0f} records/s (target >= 50,000); "
        f"raw SQLite insert limit {raw:,.0f} rows/s -> ratio {rate / raw:.2f}"
    )


def bench_report(m: int, work: Path) -> None:
    plant = load_plant(PLANT)
    db = work / "report.db"
    store = SqliteStore(db)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    if store.result_count() < m:
        t0 = time.perf_counter()
        batch = []
        for raw in lines(m, end, timedelta(days=365), seed=3):
            batch.append(parse_record(raw))
            if len(batch) == 50_000:
                store.write(batch)
                batch = []
        store.write(batch)
        print(
            f"report: built a store of {store.result_count():,} records in {time.perf_counter() - t0:.0f} s"
        )
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        figs = yield_figures(store, plant, end - timedelta(days=30, minutes=17), end - timedelta(minutes=17))
        times.append(time.perf_counter() - t0)
    units = sum(f.units for f in figs.values())
    conn = sqlite3.connect(db)
    t0 = time.perf_counter()
    conn.execute("SELECT count(*), sum(pass) FROM results").fetchone()
    scan = time.perf_counter() - t0
    best = min(times)
    print(
        f"report: 30-day yield report over {store.result_count():,} stored records ({units:,} units in window): "
        f"best {best * 1000:.1f} ms, median {sorted(times)[2] * 1000:.1f} ms (target <= 500 ms); "
        f"one full scan of results {scan * 1000:.0f} ms -> report takes {best / scan:.3f} of a scan"
    )


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--import-records", type=int, default=1_000_000)
    ap.add_argument("--report-records", type=int, default=10_000_000)
    ap.add_argument(
        "--only",
        choices=("import", "report", "simulation", "ingest", "writer", "dashboard", "load", "files"),
        help="run one benchmark",
    )
    ap.add_argument("--ingest-messages", type=int, default=100_000)
    ap.add_argument("--soak-minutes", type=float, default=10.0, help="ingest memory soak (0: skip)")
    ap.add_argument("--workdir", help="keep the generated stores here (default: a temporary directory)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.only in (None, "simulation"):
            bench_simulation()
        if args.only in (None, "ingest"):
            bench_ingest(args.ingest_messages, args.soak_minutes)
        if args.only in (None, "writer"):
            bench_writer()
        if args.only in (None, "import"):
            bench_import(args.import_records, work)
        if args.only in (None, "files"):
            from benchmarks.files import bench_file_ingest, bench_spc_year

            bench_file_ingest(work)
            bench_spc_year(work)
        if args.only in (None, "load"):
            from benchmarks.dashboard_load import bench_dashboard_load

            bench_dashboard_load(work)
        if args.only in (None, "report", "dashboard"):
            if args.only != "dashboard":
                bench_report(args.report_records, work)
            bench_dashboard(work / "report.db")


if __name__ == "__main__":
    main()
