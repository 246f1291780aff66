"""The dashboard's callbacks on a big store: each page's data callback timed as Dash runs it (in
the app's request context), on the report benchmark's store of M results plus a year of station
state changes (about a million, added once) and a year of weekly work orders, with the clock set to a Friday afternoon near the
store's end, on SQLite and PostgreSQL. Target: under 300 ms per callback at 10M results. The floor of each figure is one
full scan of the table it reads, printed beside it."""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.app import create_app
from line.calendar import merge, scheduled_intervals
from line.config import Plant, load_plant
from line.records import StateRecord
from sim.continuous import rolling_plan
from sim.plan import load_plan
from store.base import open_store

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
END = datetime(2026, 11, 1, tzinfo=UTC)  # the report benchmark's data ends here
NOW = datetime(2026, 10, 30, 7, 0, tzinfo=UTC)  # Friday 16:00 in Seoul: a working day's andon
STATES_PER_YEAR = 1_000_000


def _timed(fn: Callable[[], Any], n: int = 5) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _a_value(store: Any, column: str, fraction: int) -> str:
    """A serial or work order from the middle of the store (something to search for)."""
    row = store._conn().execute(
        f"SELECT {column} FROM results WHERE rid = (SELECT max(rid) / {fraction} FROM results)"
    ).fetchone()
    return str(row[0]) if row else "none"


def ensure_states(url: str, plant: Plant, seed: int = 5) -> int:
    """A year of state changes up to END for every machine of the plant (once per store): during
    worked time each machine changes state every few minutes (running mostly, starved, blocked,
    setups, breakdowns); at the end of each worked interval it reports "not scheduled"."""
    store: Any = open_store(url)
    have = store._conn().execute("SELECT count(*) FROM states").fetchone()[0]
    if have >= STATES_PER_YEAR // 2:
        return int(have)
    rng = random.Random(seed)
    machines = [(sid, f"{sid}-{i:02d}", st.line) for sid, st in plant.spec.stations.items()
                for i in range(1, st.machines + 1)]  # fmt: skip
    worked = merge(scheduled_intervals(plant.spec.calendar, plant.tz, END - timedelta(days=365), END))
    worked_s = sum((b - a).total_seconds() for a, b in worked)
    gap_s = worked_s * len(machines) / STATES_PER_YEAR
    choices = [("PRD", None)] * 6 + [
        ("SBY", "starved"),
        ("SBY", "blocked"),
        ("SDT", "setup"),
        ("UDT", "breakdown"),
    ]
    batch: list[StateRecord] = []
    n = 0
    for a, b in worked:
        for sid, eq, line in machines:
            t = a
            while t < b:
                state, reason = rng.choice(choices)
                batch.append(_state(t, line, sid, eq, state, reason, n))
                n += 1
                t += timedelta(seconds=rng.expovariate(1 / gap_s))
            batch.append(_state(b, line, sid, eq, "NST", None, n))
            n += 1
        if len(batch) > 50_000:
            store.write(batch)
            batch = []
    store.write(batch)
    store.refresh_statistics()  # as `linemon import` does after a bulk load
    return n + int(have)


def _state(ts: datetime, line: str, sid: str, eq: str, state: str, reason: str | None, i: int) -> StateRecord:
    """Generated values are valid by construction: skip validation (a million of them)."""
    return StateRecord.model_construct(
        record_schema="linemon.state/1", id=f"bs-{i}", ts=ts, line=line, station=sid, equipment=eq,
        state=state, reason=reason,
    )  # fmt: skip


def bench_dashboard(work: Path, m: int, kinds: list[str], lines: Any) -> None:
    """Every page's data callback on the report store of each kind (built when missing)."""
    from benchmarks.stores import database, pg_server, report_store

    server = pg_server(work) if "postgresql" in kinds else None
    try:
        for kind in kinds:
            url = f"sqlite:///{work / 'report.db'}" if kind == "sqlite" else database(server, "report", False)  # type: ignore[arg-type]
            report_store(url, m, lines).close()
            _bench_pages(url, kind)
    finally:
        if server is not None:
            server.stop()


def _bench_pages(url: str, kind: str) -> None:
    plant = load_plant(PLANT)
    t0 = time.perf_counter()
    states = ensure_states(url, plant)
    plan = load_plan(PLANT.parent / "plans" / "jincheon-week.toml")  # a year of weekly orders: output vs plan
    open_store(url).put_work_orders(rolling_plan(plant, plan, END - timedelta(days=364), 53).orders)
    print(f"dashboard: store holds {states:,} state changes (ready in {time.perf_counter() - t0:.0f} s)")
    app = create_app(plant, url, now=lambda: NOW)
    store: Any = open_store(url)
    serial = _a_value(store, "serial", 2)
    page = {
        name: sys.modules[f"pages.{name}"] for name in ("yield_page", "qa_page", "overview_page", "line_page")
    }
    checks: dict[str, Callable[[], Any]] = {
        "yield: last 7 days": lambda: page["yield_page"].update("7d", None, None),
        "yield: last 30 days": lambda: page["yield_page"].update("30d", None, None),
        "yield: trend 30 d by day": lambda: page["yield_page"].update_trend("30d", None, None, "", "day"),
        "yield: trend 30 d by shift": lambda: page["yield_page"].update_trend("30d", None, None, "", "shift"),
        "yield: one work order": lambda: page["yield_page"].update(
            "7d", None, None, "", _a_value(store, "work_order", 3)
        ),
        "qa: weekly failures": lambda: page["qa_page"].update_weekly(1, ""),
        "qa: Pareto 30 days": lambda: page["qa_page"].update_pareto(1, "30d", "", "code"),
        "qa: p-chart 30 days": lambda: page["qa_page"].update_pchart(1, "30d", "", "FCT"),
        "qa: serial history": lambda: page["qa_page"].search(1, None, serial),
        "qa: measurement SPC 30 days": lambda: page["qa_page"].update_spc(1, "30d", "FF-50", "FCT", None),
        # its computation itself: refresh() computes once per 5 s tick and shares it among screens
        "overview: refresh": lambda: page["overview_page"]._andon(plant, store, NOW, "en", False),
        "line: today": lambda: page["line_page"].update("SMT1", "today", 1),
        "line: last 7 days": lambda: page["line_page"].update("SMT1", "7d", 1),
        "line: assembly 7 days": lambda: page["line_page"].update("ASSY1", "7d", 1),
    }
    with app.server.test_request_context():
        n = store.result_count()
        scans = _scans(store)
        for name, fn in checks.items():
            ms = _timed(fn) * 1000
            print(f"dashboard [{kind}, {n:,} results] {name:28s} {ms:7.1f} ms (target < 300 ms)")
        print("  one full scan: " + ", ".join(f"{t} {ms:.0f} ms" for t, ms in scans.items()))


def _scans(store: Any) -> dict[str, float]:
    """The physical floor a query without indexes would pay: one pass over each big table."""
    out = {}
    for table in ("results", "states"):
        t0 = time.perf_counter()
        store._conn().execute(f"SELECT count(*), max(ts) FROM {table}").fetchone()
        out[table] = (time.perf_counter() - t0) * 1000
    return out
