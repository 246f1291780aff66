"""The queries behind "output against plan": the planned work orders, each order's output so
far, and a station's output per hour (from the hourly roll-up, not one query per hour)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from line.kpi import ProductTally, StationTally
from line.plan import PlannedOrder
from line.records import from_ms, ts_ms
from store.base import Tallies
from store.batches import iter_chunks
from store.sql_rollup import HOUR_MS


def work_order_counts(
    conn: Any, start: datetime, end: datetime, stations: Iterable[str]
) -> list[tuple[str, str | None, str, int, int]]:
    """(product, work order, station, units, units finally passed) of the units whose first
    attempt at one of `stations` falls in [start, end)."""
    wanted = list(stations)
    marks = ",".join("?" * len(wanted))
    rows = conn.execute(
        "SELECT product, wo, station, count(*), sum(last_pass) FROM (SELECT us.product, (SELECT r.work_order "
        "FROM results r WHERE r.serial = us.serial AND r.station = us.station LIMIT 1) AS wo, us.station, "
        f"us.last_pass FROM unit_station us WHERE us.first_ts >= ? AND us.first_ts < ? AND us.station IN ({marks})"
        ") x GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3",
        (ts_ms(start), ts_ms(end), *wanted),
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def put_work_orders(conn: Any, orders: Iterable[PlannedOrder]) -> int:
    """Insert or update orders by id (an updated order keeps its place in the plan's sequence)."""
    rows = [(o.id, o.product, o.quantity, ts_ms(o.start), ts_ms(o.due) if o.due else None) for o in orders]
    conn.executemany(
        "INSERT INTO work_orders VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET product = excluded.product, "
        "quantity = excluded.quantity, start = excluded.start, due = excluded.due",
        rows,
    )
    return len(rows)


def planned_orders(conn: Any, start: datetime, end: datetime) -> list[PlannedOrder]:
    """Orders whose window overlaps [start, end) (no due date: open from its start), in plan order."""
    rows = conn.execute(
        "SELECT id, product, quantity, start, due FROM work_orders WHERE start < ? AND (due IS NULL OR due > ?) "
        f"ORDER BY start, {conn.dialect.plan_order}",
        (ts_ms(end), ts_ms(start)),
    )
    return [
        PlannedOrder(r[0], r[1], r[2], from_ms(r[3]), from_ms(r[4]) if r[4] is not None else None)
        for r in rows
    ]


def _order_units(conn: Any, work_orders: list[str]) -> dict[str, set[str]]:
    """The serials of each work order (by the results' work-order index)."""
    out: dict[str, set[str]] = {}
    for chunk in iter_chunks(work_orders, 500):
        for wo, serial in conn.execute(
            f"SELECT DISTINCT work_order, serial FROM results WHERE work_order IN ({','.join('?' * len(chunk))})",
            tuple(chunk),
        ):
            out.setdefault(wo, set()).add(serial)
    return out


def _unit_rows(conn: Any, serials: set[str], sql_tail: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """unit_station rows of these serials (by its key, a chunk of serials at a time): the planner
    is given the serials themselves, not a join it may misjudge (PostgreSQL scanned all 10M
    summaries for 2,600 units when it guessed 32,000)."""
    rows: list[tuple[Any, ...]] = []
    for chunk in iter_chunks(sorted(serials), 500):
        rows += conn.execute(
            f"SELECT serial, station, last_pass FROM unit_station WHERE serial IN ({','.join('?' * len(chunk))}) "
            + sql_tail,
            (*chunk, *args),
        ).fetchall()
    return rows


def work_order_totals(
    conn: Any, work_orders: Iterable[str], stations: Iterable[str]
) -> list[tuple[str, str, int, int]]:
    """(work order, station, units seen there, units whose last attempt there passed), all time."""
    wos, sts = list(work_orders), list(stations)
    if not wos or not sts:
        return []
    units = _order_units(conn, wos)
    marks = ",".join("?" * len(sts))
    at = _unit_rows(conn, set().union(*units.values()) if units else set(), f"AND station IN ({marks})", tuple(sts))
    by_serial: dict[str, list[tuple[str, int]]] = {}
    for serial, station, last_pass in at:
        by_serial.setdefault(serial, []).append((station, int(last_pass)))
    totals: dict[tuple[str, str], list[int]] = {}
    for wo, serials in units.items():
        for serial in serials:
            for station, passed in by_serial.get(serial, ()):
                cell = totals.setdefault((wo, station), [0, 0])
                cell[0] += 1
                cell[1] += passed
    return [(wo, st, n, good) for (wo, st), (n, good) in sorted(totals.items())]


def hourly_station_output(
    conn: Any, start: datetime, end: datetime, station: str
) -> dict[datetime, tuple[int, int]]:
    """(units, units finally passed) at `station` per UTC hour of their first attempt in [start,
    end): whole hours from `station_hourly`, the partial hours at the edges from `unit_station`."""
    a, b = ts_ms(start), ts_ms(end)
    h0, h1 = -(-a // HOUR_MS), b // HOUR_MS
    out: dict[int, list[int]] = {}

    def add(rows: Iterable[tuple[int, int, int]]) -> None:
        for hour, units, good in rows:
            cell = out.setdefault(int(hour), [0, 0])
            cell[0] += int(units)
            cell[1] += int(good or 0)

    edges = [(a, b)] if h0 >= h1 else [(a, h0 * HOUR_MS), (h1 * HOUR_MS, b)]
    for x, y in edges:
        if x < y:
            add(conn.execute(
                "SELECT first_ts / 3600000, count(*), sum(last_pass) FROM unit_station "
                "WHERE first_ts >= ? AND first_ts < ? AND station = ? GROUP BY 1", (x, y, station)
            ))  # fmt: skip
    if h0 < h1:
        add(conn.execute(
            "SELECT hour, sum(units), sum(final_pass) FROM station_hourly "
            "WHERE hour >= ? AND hour < ? AND station = ? GROUP BY 1", (h0, h1, station)
        ))  # fmt: skip
    return {from_ms(h * HOUR_MS): (u, g) for h, (u, g) in sorted(out.items()) if u}


def work_order_tallies(conn: Any, work_order: str) -> Tallies:
    """Station and product tallies of every unit of a work order, whenever it was made."""
    units = "SELECT DISTINCT serial FROM results WHERE work_order = ?"
    stations = {
        (r[0], r[1]): StationTally(*map(int, r[2:]))
        for r in conn.execute(
            "SELECT product, station, count(*), sum(first_pass), sum(last_pass), sum(attempts), sum(defects), "
            f"sum(false_calls) FROM unit_station WHERE serial IN ({units}) GROUP BY 1, 2",
            (work_order,),
        )
    }
    products = {
        r[0]: ProductTally(*map(int, r[1:]))
        for r in conn.execute(
            "SELECT product, count(*), sum(CASE WHEN failing = 0 THEN 1 ELSE 0 END), sum(defects) FROM units "
            f"WHERE serial IN ({units}) GROUP BY 1",
            (work_order,),
        )
    }
    return stations, products


def first_attempts(
    conn: Any, start: datetime, end: datetime, stations: Iterable[str]
) -> list[tuple[datetime, str, bool]]:
    """(time, station, passed) of every unit's first attempt at one of `stations` in [start,
    end), in time order: what the andon replays to judge a shift's FPY as it went."""
    wanted = list(stations)
    if not wanted:
        return []
    rows = conn.execute(
        "SELECT first_ts, station, first_pass FROM unit_station WHERE first_ts >= ? AND first_ts < ? "
        f"AND station IN ({','.join('?' * len(wanted))}) ORDER BY first_ts, serial",
        (ts_ms(start), ts_ms(end), *wanted),
    )
    return [(from_ms(r[0]), r[1], bool(r[2])) for r in rows]


def scrapped_units(conn: Any, work_orders: Iterable[str], after_failures: int) -> dict[str, int]:
    """Units of each work order scrapped by the plant's rule: at some station, `after_failures`
    attempts or more and none passed (the unit left the line there)."""
    wos = list(work_orders)
    if not wos:
        return {}
    units = _order_units(conn, wos)
    everyone = set().union(*units.values()) if units else set()
    gone = {r[0] for r in _unit_rows(conn, everyone, "AND last_pass = 0 AND first_pass = 0 AND attempts >= ?",
                                     (after_failures,))}  # fmt: skip
    out = {wo: len(serials & gone) for wo, serials in units.items()}
    return {wo: n for wo, n in out.items() if n}


def serials_starting(conn: Any, prefix: str, limit: int) -> list[str]:
    """Serials that start with `prefix` (case as stored), at most `limit`, in order."""
    rows = conn.execute(
        "SELECT DISTINCT serial FROM results WHERE serial >= ? AND serial < ? ORDER BY serial LIMIT ?",
        (prefix, prefix + "\U0010ffff", limit),
    )
    return [r[0] for r in rows]
