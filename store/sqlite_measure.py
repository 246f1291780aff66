"""SQLite queries behind measurement SPC: which measurements a station has, and their values in
time order (the `measurements` table, filled from each stored result's detail at write time)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from line.records import from_ms, ts_ms
from store.base import MeasuredValue


def names(
    conn: sqlite3.Connection, start: datetime, end: datetime, station: str, product: str | None
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
    conn: sqlite3.Connection, start: datetime, end: datetime, station: str, name: str, product: str | None
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
