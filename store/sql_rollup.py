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
DAY_MS = 24 * HOUR_MS  # UTC days (a plant's local day is whole hours of them: its edges come hourly)

_STATION_COLS = "units, first_pass, final_pass, attempts, defects, false_calls"


# the roll-ups: (table suffix, bucket column, bucket width in ms). A year is 365 daily buckets
# per product and station instead of 8,760 hourly ones; windows take whole days from the daily
# roll-up, whole hours at their ends from the hourly one, the rest unit by unit.
BUCKETS = (("hourly", "hour", HOUR_MS), ("daily", "day", DAY_MS))


def _station_delta(sign: str, join: str, suffix: str, col: str, width: int) -> str:
    """Add (sign "") or remove (sign "-") the touched keys' summaries to/from their bucket."""
    t = f"station_{suffix}"
    return f"""INSERT INTO {t} ({col}, product, station, {_STATION_COLS})
        SELECT us.first_ts / {width}, us.product, us.station, {sign}count(*), {sign}sum(us.first_pass),
               {sign}sum(us.last_pass), {sign}sum(us.attempts), {sign}sum(us.defects), {sign}sum(us.false_calls)
        FROM k {join} unit_station us USING (serial, station)
        GROUP BY 1, 2, 3
        ON CONFLICT ({col}, product, station) DO UPDATE SET
          units = {t}.units + excluded.units, first_pass = {t}.first_pass + excluded.first_pass,
          final_pass = {t}.final_pass + excluded.final_pass, attempts = {t}.attempts + excluded.attempts,
          defects = {t}.defects + excluded.defects, false_calls = {t}.false_calls + excluded.false_calls"""


def _product_delta(sign: str, join: str, suffix: str, col: str, width: int) -> str:
    t = f"product_{suffix}"
    return f"""INSERT INTO {t} ({col}, product, units, final_good, defects)
        SELECT un.first_ts / {width}, un.product, {sign}count(*),
               {sign}sum(CASE WHEN un.failing = 0 THEN 1 ELSE 0 END), {sign}sum(un.defects)
        FROM u {join} units un USING (serial) GROUP BY 1, 2
        ON CONFLICT ({col}, product) DO UPDATE SET units = {t}.units + excluded.units,
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
        d.analyze.format(table="k"),
        defects_from_results(d),
        # remove the old contributions of those keys
        *(_station_delta("-", d.join, *b) for b in BUCKETS),
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
        *(_station_delta("", d.join, *b) for b in BUCKETS),
        # the same for whole units
        "INSERT INTO u SELECT DISTINCT serial FROM k",
        d.analyze.format(table="u"),
        *(_product_delta("-", d.join, *b) for b in BUCKETS),
        f"""INSERT INTO units (serial, product, first_ts, failing, defects)
        SELECT u.serial, min(us.product), min(us.first_ts), sum(1 - us.last_pass), sum(us.defects)
        FROM u {d.join} unit_station us USING (serial) GROUP BY u.serial
        ON CONFLICT (serial) DO UPDATE SET {_upsert_set("product, first_ts, failing, defects")}""",
        *(_product_delta("", d.join, *b) for b in BUCKETS),
    ]


def refresh_rollups(conn: Any, since: int) -> None:
    """Bring unit_station, units and the hourly roll-ups up to date with results rid > since."""
    for sql in rollup_steps(conn.dialect):
        if sql:
            conn.execute(sql, {"since": since})


def window_tallies(conn: Any, start: datetime, end: datetime, product: str | None = None) -> Tallies:
    """Station and product tallies of the units whose first attempt falls in [start, end):
    whole days from the daily roll-ups, whole hours from the hourly ones, the partial hours at
    the edges unit by unit."""
    parts = cover(ts_ms(start), ts_ms(end))
    pf = "" if product is None else " AND product = :p"
    stations: dict[tuple[str, str], StationTally] = {}
    cols = "sum(units), sum(first_pass), sum(final_pass), sum(attempts), sum(defects), sum(false_calls)"
    sql_bucket = f"SELECT product, station, {cols} FROM station_{{suffix}} WHERE {{col}} >= :x AND {{col}} < :y{pf} GROUP BY product, station"
    sql_edge = (
        "SELECT product, station, count(*), sum(first_pass), sum(last_pass), sum(attempts), "
        "sum(defects), sum(false_calls) FROM unit_station WHERE first_ts >= :x AND first_ts < :y"
        f"{pf} GROUP BY product, station"
    )
    for p, s, *n in _window_rows(conn, sql_bucket, sql_edge, parts, product):
        stations[(p, s)] = stations.get((p, s), StationTally()) + StationTally(*n)
    products: dict[str, ProductTally] = {}
    sql_pb = (
        "SELECT product, sum(units), sum(final_good), sum(defects) FROM product_{suffix} "
        f"WHERE {{col}} >= :x AND {{col}} < :y{pf} GROUP BY product"
    )
    sql_pe = (
        "SELECT product, count(*), sum(CASE WHEN failing = 0 THEN 1 ELSE 0 END), sum(defects) FROM units "
        f"WHERE first_ts >= :x AND first_ts < :y{pf} GROUP BY product"
    )
    for p, *n in _window_rows(conn, sql_pb, sql_pe, parts, product):
        products[p] = products.get(p, ProductTally()) + ProductTally(*n)
    return _drop_empty(stations), {k: v for k, v in products.items() if v.units}


Parts = list[tuple[str, int, int]]


def cover(a: int, b: int) -> Parts:
    """[a, b) in epoch ms as ("edge", ms, ms) parts read unit by unit, ("hourly", h, h) whole
    hours and ("daily", d, d) whole days; empty parts left out."""
    h0, h1 = -(-a // HOUR_MS), b // HOUR_MS
    if h0 >= h1:
        parts = [("edge", a, b)]
    else:
        d0, d1 = -(-h0 // 24), h1 // 24
        parts = [("edge", a, h0 * HOUR_MS), ("edge", h1 * HOUR_MS, b)]
        if d0 >= d1:
            parts.append(("hourly", h0, h1))
        else:
            parts += [("hourly", h0, d0 * 24), ("hourly", d1 * 24, h1), ("daily", d0, d1)]
    return [p for p in parts if p[1] < p[2]]


def _window_rows(conn: Any, sql_bucket: str, sql_edge: str, parts: Parts, product: str | None) -> Iterator[Any]:
    """Rows of each part: unit by unit for the edges (by index), else from its roll-up."""
    cols = {suffix: col for suffix, col, _ in BUCKETS}
    for kind, x, y in parts:
        sql = sql_edge if kind == "edge" else sql_bucket.format(suffix=kind, col=cols[kind])
        yield from conn.execute(sql, {"x": x, "y": y, "p": product})


def _drop_empty(d: dict[tuple[str, str], StationTally]) -> dict[tuple[str, str], StationTally]:
    return {k: v for k, v in d.items() if v.units}
