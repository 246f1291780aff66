"""The queries behind measurement SPC: which measurements a station has, and their values in
time order (the `measurements` table, filled from each stored result's detail at write time)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from line.records import from_ms, ts_ms
from store.base import MeasuredValue, MeasureSummary


def names(
    conn: Any, start: datetime, end: datetime, station: str, product: str | None
) -> list[tuple[str, str | None, int]]:
    """(name, unit, values) of each measurement taken at `station` in [start, end)."""
    rows = conn.execute(
        "SELECT name, max(unit), count(*) FROM measurements WHERE station = ? AND ts >= ? AND ts < ? "
        + ("AND product = ? " if product else "")
        + "GROUP BY name ORDER BY name",
        (station, ts_ms(start), ts_ms(end), *([product] if product else [])),
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def values(
    conn: Any, start: datetime, end: datetime, station: str, name: str, product: str | None
) -> list[MeasuredValue]:
    """Every value of one measurement at `station` in [start, end), oldest first."""
    rows = conn.execute(
        "SELECT ts, serial, product, value, unit, lo, hi FROM measurements "
        "WHERE station = ? AND name = ? AND ts >= ? AND ts < ? "
        + ("AND product = ? " if product else "")
        + "ORDER BY ts, rid",
        (station, name, ts_ms(start), ts_ms(end), *([product] if product else [])),
    )
    return [MeasuredValue(from_ms(r[0]), r[1], r[2], float(r[3]), r[4], r[5], r[6]) for r in rows]


def summaries(
    conn: Any,
    start: datetime,
    end: datetime,
    station: str,
    product: str | None,
    limits: Mapping[str, tuple[float | None, float | None]],
) -> list[MeasureSummary]:
    """Every measurement of a station summed in one pass (a window function for the moving range;
    the values outside `limits[name]`, else outside their record's own): a year of SPI data is
    never returned row by row. The limits of each measurement's newest record come after, by index."""
    spec = [(n, lo, hi) for n, (lo, hi) in limits.items()] or [("", None, None)]
    where = "station = ? AND ts >= ? AND ts < ?" + (" AND product = ?" if product else "")
    args = (station, ts_ms(start), ts_ms(end), *([product] if product else []))
    rows = conn.execute(
        "WITH spec(name, lsl, usl) AS (VALUES "
        + ",".join("(CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))" for _ in spec) + "), v AS ("
        " SELECT name, unit, value, lo, hi, abs(value - lag(value) OVER (PARTITION BY name ORDER BY ts, rid)) AS mr"
        f" FROM measurements WHERE {where})"
        " SELECT v.name, max(v.unit), count(*), avg(v.value),"
        "  CASE WHEN count(*) > 1 THEN (sum(v.value * v.value) - sum(v.value) * sum(v.value) / count(*)) / (count(*) - 1) END,"
        "  avg(v.mr),"
        "  sum(CASE WHEN v.value < coalesce(s.lsl, CASE WHEN s.name IS NULL THEN v.lo END, -1e308)"
        "        OR v.value > coalesce(s.usl, CASE WHEN s.name IS NULL THEN v.hi END, 1e308) THEN 1 ELSE 0 END)"
        " FROM v LEFT JOIN spec s ON s.name = v.name GROUP BY v.name ORDER BY v.name",
        (*[x for row in spec for x in row], *args),
    ).fetchall()
    out = []
    for r in rows:
        newest = conn.execute(
            f"SELECT lo, hi FROM measurements WHERE {where} AND name = ? ORDER BY ts DESC, rid DESC LIMIT 1",
            (*args, r[0]),
        ).fetchone()
        sd = max(0.0, float(r[4])) ** 0.5 if r[4] is not None else None
        out.append(MeasureSummary(r[0], r[1], int(r[2]), float(r[3]), sd, r[5], newest[0], newest[1], int(r[6])))
    return out
