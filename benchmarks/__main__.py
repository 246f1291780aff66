"""The benchmarks, one command (`python -m benchmarks`, or `--only NAME`).

- import: `linemon import` of N records (JSON lines) into a fresh SQLite store and a fresh
  PostgreSQL database, each next to its raw insert rate on this machine (benchmarks/stores.py).
- report: `linemon report yield` (the command, and the report call alone) for 7 days, 30 days and
  a year over a store of M records spread over a year, SQLite and PostgreSQL side by side, next to
  one full scan of the results table (what it would cost without roll-ups).
- simulation: see benchmarks/simulation.py (raw SimPy rate, tandem line, a simulated plant year).
- dashboard: every page's data callback on the report store (benchmarks/dashboard.py; run after report).
- ingest: see benchmarks/ingest.py (MQTT QoS 1 end to end vs a raw paho subscriber, live and draining a backlog; memory soak).
- writer: the ingest writer's CPU instructions per message (benchmarks/writer.py; needs valgrind).
- files: SPI report files through a file binding (boards/s, pads/s) and the QA page's measurement
  SPC on a year of SPI data (benchmarks/files.py).
Usage: python -m benchmarks [--only import|report|simulation|ingest|writer|dashboard|load|files] [--soak-minutes M] [--import-records N] [--report-records M]
       [--stores sqlite,postgresql] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.dashboard import bench_dashboard
from benchmarks.ingest import bench_ingest
from benchmarks.simulation import bench_simulation
from benchmarks.stores import bench_import_stores, bench_report_stores
from benchmarks.writer import bench_writer

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
    """Realistic JSON lines: units walk the 7 inspection stations, ~4 % fail and are retested
    after a repair of 10 minutes to 6 hours (so repair loops cross hours, shifts and days)."""
    rng = random.Random(seed)
    step = span / (n / 7.3)
    t = end - span
    i = unit = 0
    while i < n:
        unit += 1
        product = PRODUCTS[unit % 5]
        for k, (line, station) in enumerate(STATIONS):
            at = t + timedelta(minutes=k * 7)
            for _attempt in range(3):
                ok = rng.random() > 0.04
                rec = {
                    "schema": "linemon.result/1",
                    "id": f"b{seed}-{i}",
                    "ts": at.isoformat(),
                    "line": line,
                    "station": station,
                    "serial": f"{product}-{unit:08d}",
                    "product": product,
                    "work_order": f"WO-{unit // 40:05d}",
                    "result": "PASS" if ok else "FAIL",
                    "defects": [] if ok else [{"code": "bridge", "refdes": f"U{rng.randint(1, 60)}"}],
                }
                yield orjson.dumps(rec)
                at += timedelta(minutes=rng.uniform(10, 360))  # the repair before a retest
                i += 1
                if ok or i >= n:
                    break
            if i >= n:
                break
        t += step


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
    ap.add_argument("--stores", default="sqlite,postgresql", help="stores of the import and report benchmarks")
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
        kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
        if args.only in (None, "import"):
            bench_import_stores(args.import_records, work, kinds, lines)
        if args.only in (None, "files"):
            from benchmarks.files import bench_file_ingest, bench_spc_year

            bench_file_ingest(work)
            bench_spc_year(work)
        if args.only in (None, "load"):
            from benchmarks.dashboard_load import bench_dashboard_load

            bench_dashboard_load(work)
        if args.only in (None, "report"):
            bench_report_stores(args.report_records, work, kinds, lines)
        if args.only in (None, "dashboard"):
            bench_dashboard(work, args.report_records, kinds, lines)


if __name__ == "__main__":
    main()
