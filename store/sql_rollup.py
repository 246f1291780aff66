"""The roll-ups (SQLite and PostgreSQL alike): set-based maintenance after a batch of results was inserted, and the
window query that reads them.

Runs inside the writing transaction, on the rows with rid > `since` (the batch's new rows; rows
ignored as duplicates got no rid). For every touched (serial, station) it subtracts the old
summary's contribution from its hourly bucket, recomputes the summary from all of the unit's
attempts there, and adds the new contribution; then the same for the touched units. A few
statements per batch instead of a trigger chain per row: about 3x faster on bulk imports.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from line.kpi import ProductTally, StationTally
from line.records import ts_ms
from store.base import Tallies
from store.sql_dialect import Dialect, defects_from_results

HOUR_MS = 3_600_000  # roll-up buckets: UTC epoch ms // HOUR_MS

_STATION_COLS = "units, first_pass, final_pass, attempts, defects, false_calls"


def _station_delta(sign: str, join: str) -> str:
    """Add (sign "") or remove (sign "-") the touched keys' summaries to/from their hourly bucket."""
    t = "station_hourly"
    return f"""INSERT INTO station_hourly (hour, product, station, {_STATION_COLS})
        SELECT us.first_ts / 3600000, us.product, us.station, {sign}count(*), {sign}sum(us.first_pass),
               {sign}sum(us.last_pass), {sign}sum(us.attempts), {sign}sum(us.defects), {sign}sum(us.false_calls)
        FROM k {join} unit_station us USING (serial, station)
        GROUP BY 1, 2, 3
        ON CONFLICT (hour, product, station) DO UPDATE SET
          units = {t}.units + excluded.units, first_pass = {t}.first_pass + excluded.first_pass,
          final_pass = {t}.final_pass + excluded.final_pass, attempts = {t}.attempts + excluded.attempts,
          defects = {t}.defects + excluded.defects, false_calls = {t}.false_calls + excluded.false_calls"""


def _product_delta(sign: str, join: str) -> str:
    t = "product_hourly"
    return f"""INSERT INTO product_hourly (hour, product, units, final_good, defects)
        SELECT un.first_ts / 3600000, un.product, {sign}count(*),
               {sign}sum(CASE WHEN un.failing = 0 THEN 1 ELSE 0 END), {sign}sum(un.defects)
        FROM u {join} units un USING (serial) GROUP BY 1, 2
        ON CONFLICT (hour, product) DO UPDATE SET units = {t}.units + excluded.units,
          final_good = {t}.final_good + excluded.final_good, defects = {t}.defects + excluded.defects"""


def _upsert_set(cols: str) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in cols.split(", "))


@functools.cache
def rollup_steps(d: Dialect) -> list[str]:
    """The statements that bring the summaries and roll-ups up to date with results rid > :since."""
    us_cols = "product, line, first_ts, first_pass, last_ts, last_pass, attempts, defects, false_calls"
    return [
        # keys the batch touched (emptied, not dropped: a schema change would make SQLite prepare
        # every statement again on the next batch). Without rowid, a scan runs in key order, so the
        # per-key aggregations below group as they scan instead of sorting first.
        f"CREATE TEMP TABLE IF NOT EXISTS k (serial {d.text} NOT NULL, station {d.text} NOT NULL, "
        "PRIMARY KEY (serial, station))" + d.table_suffix,
        f"CREATE TEMP TABLE IF NOT EXISTS u (serial {d.text} PRIMARY KEY)" + d.table_suffix,
        "DELETE FROM k",
        "DELETE FROM u",
        "INSERT INTO k SELECT DISTINCT serial, station FROM results WHERE rid > :since",
        defects_from_results(d),
        # remove the old contributions of those keys
        _station_delta("-", d.join),
        # one pass over each touched key's attempts: ts * 2 + pass orders attempts by time, so its
        # min and max carry the first and the last attempt's time and verdict together (a tie in time
        # counts a fail first and a pass last). Product and line are the same on every attempt.
        f"""INSERT INTO unit_station (serial, station, {us_cols})
        SELECT k.serial, k.station, min(r.product), min(r.line), min(r.ts * 2 + r.pass) / 2,
               min(r.ts * 2 + r.pass) % 2, max(r.ts * 2 + r.pass) / 2, max(r.ts * 2 + r.pass) % 2,
               count(*), sum(r.defects), sum(r.false_calls)
        FROM k {d.join} results r ON r.serial = k.serial AND r.station = k.station
        GROUP BY k.serial, k.station
        ON CONFLICT (serial, station) DO UPDATE SET {_upsert_set(us_cols)}""",
        _station_delta("", d.join),
        # the same for whole units
        "INSERT INTO u SELECT DISTINCT serial FROM k",
        _product_delta("-", d.join),
        f"""INSERT INTO units (serial, product, first_ts, failing, defects)
        SELECT u.serial, min(us.product), min(us.first_ts), sum(1 - us.last_pass), sum(us.defects)
        FROM u {d.join} unit_station us USING (serial) GROUP BY u.serial
        ON CONFLICT (serial) DO UPDATE SET {_upsert_set("product, first_ts, failing, defects")}""",
        _product_delta("", d.join),
    ]


def refresh_rollups(conn: Any, since: int) -> None:
    """Bring unit_station, units and the hourly roll-ups up to date with results rid > since."""
    for sql in rollup_steps(conn.dialect):
        conn.execute(sql, {"since": since})


def window_tallies(
    conn: Any, start: datetime, end: datetime, product: str | None = None
) -> Tallies:
    """Station and product tallies of the units whose first attempt falls in [start, end):
    whole hours from the hourly roll-ups, the partial hours at the edges unit by unit."""
    a, b = ts_ms(start), ts_ms(end)
    h0, h1 = -(-a // HOUR_MS), b // HOUR_MS  # whole hours [h0, h1)
    edges = [(a, b)] if h0 >= h1 else [(a, h0 * HOUR_MS), (h1 * HOUR_MS, b)]
    pf = "" if product is None else " AND product = :p"
    stations: dict[tuple[str, str], StationTally] = {}
    sql_hours = (
        "SELECT product, station, sum(units), sum(first_pass), sum(final_pass), sum(attempts), "
        "sum(defects), sum(false_calls) FROM station_hourly WHERE hour >= :h0 AND hour < :h1"
        f"{pf} GROUP BY product, station"
    )
    sql_edge = (
        "SELECT product, station, count(*), sum(first_pass), sum(last_pass), sum(attempts), "
        "sum(defects), sum(false_calls) FROM unit_station WHERE first_ts >= :a AND first_ts < :b"
        f"{pf} GROUP BY product, station"
    )
    for p, s, *n in _window_rows(conn, sql_hours, sql_edge, (h0, h1), edges, product):
        stations[(p, s)] = stations.get((p, s), StationTally()) + StationTally(*n)
    products: dict[str, ProductTally] = {}
    sql_ph = (
        "SELECT product, sum(units), sum(final_good), sum(defects) FROM product_hourly "
        f"WHERE hour >= :h0 AND hour < :h1{pf} GROUP BY product"
    )
    sql_pe = (
        "SELECT product, count(*), sum(CASE WHEN failing = 0 THEN 1 ELSE 0 END), sum(defects) FROM units "
        f"WHERE first_ts >= :a AND first_ts < :b{pf} GROUP BY product"
    )
    for p, *n in _window_rows(conn, sql_ph, sql_pe, (h0, h1), edges, product):
        products[p] = products.get(p, ProductTally()) + ProductTally(*n)
    return _drop_empty(stations), {k: v for k, v in products.items() if v.units}


def _window_rows(
    conn: Any,
    sql_hours: str,
    sql_edge: str,
    hours: tuple[int, int],
    edges: list[tuple[int, int]],
    product: str | None,
) -> Iterator[Any]:
    """Rows of the whole hours from a roll-up plus the partial hours at the edges, by index."""
    for a, b in edges:
        if a < b:
            yield from conn.execute(sql_edge, {"a": a, "b": b, "p": product})
    if hours[0] < hours[1]:
        yield from conn.execute(sql_hours, {"h0": hours[0], "h1": hours[1], "p": product})


def _drop_empty(d: dict[tuple[str, str], StationTally]) -> dict[tuple[str, str], StationTally]:
    return {k: v for k, v in d.items() if v.units}
