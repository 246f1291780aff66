"""The dashboard's callbacks on a big store: each page's data callback timed as Dash runs it (in
the app's request context), on the report benchmark's store of M results, with the clock set to
that store's end. Target: under 300 ms per callback at 10M results."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard.app import create_app
from line.config import load_plant

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
END = datetime(2026, 11, 1, tzinfo=UTC)  # the report benchmark's data ends here


def _timed(fn: Callable[[], Any], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _a_serial(db: Path) -> str:
    import sqlite3

    with sqlite3.connect(db) as c:
        row = c.execute(
            "SELECT serial FROM results WHERE rid = (SELECT max(rid) / 2 FROM results)"
        ).fetchone()
    return str(row[0]) if row else "none"


def bench_dashboard(db: Path) -> None:
    plant = load_plant(PLANT)
    app = create_app(plant, f"sqlite:///{db}", now=lambda: END)
    serial = _a_serial(db)
    page = {
        name: sys.modules[f"pages.{name}"] for name in ("yield_page", "qa_page", "overview_page", "line_page")
    }
    checks: dict[str, Callable[[], Any]] = {
        "yield: last 7 days": lambda: page["yield_page"].update("7d", None, None),
        "yield: last 30 days": lambda: page["yield_page"].update("30d", None, None),
        "qa: Pareto 30 days": lambda: page["qa_page"].update_pareto("30d", "", "code"),
        "qa: p-chart 30 days": lambda: page["qa_page"].update_pchart("30d", "", "FCT"),
        "qa: serial history": lambda: page["qa_page"].search(1, None, serial),
        "overview: refresh": lambda: page["overview_page"].refresh(1),
        "line: today": lambda: page["line_page"].update("SMT1", "today", 1),
    }
    with app.server.test_request_context():
        from store.sqlite import SqliteStore

        n = SqliteStore(db).result_count()
        for name, fn in checks.items():
            ms = _timed(fn) * 1000
            print(f"dashboard [{n:,} results] {name:22s} {ms:7.1f} ms (target < 300 ms)")
