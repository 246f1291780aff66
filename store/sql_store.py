"""What the SQLite and the PostgreSQL store share: every query, written once in SQL both accept
(`store.sql_dialect` has the few pieces they spell differently). A subclass gives the connection
(with its dialect), the write transaction and the bulk insert of a batch of records.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import orjson

from line.clock import StoredClock
from line.plan import PlannedOrder
from line.records import Record, ResultRecord, StateChange, StateRecord, from_ms, ts_ms
from store import sql_dead as dead_q
from store import sql_measure as measure_q
from store import sql_output as out_q
from store.base import DeadLetter, MeasuredValue, MeasureSummary, SourceHealth, Tallies, UnitSeen, WriteCounts
from store.batches import iter_chunks
from store.sql_rollup import HOUR_MS, window_tallies


def result_row(r: ResultRecord) -> tuple[Any, ...]:
    detail, confirmed, false_calls = None, 0, 0
    if r.defects or r.measurements:  # most results have neither: skip the work
        detail = orjson.dumps(
            {
                "defects": [d.model_dump() for d in r.defects],
                "measurements": [m.model_dump() for m in r.measurements],
            }
        ).decode()
        confirmed, false_calls = r.confirmed_defects, r.false_calls
    return (
        r.id,
        ts_ms(r.ts),
        r.line,
        r.station,
        r.equipment,
        r.serial,
        r.product,
        r.work_order,
        r.result,
        int(r.result == "PASS"),
        confirmed,
        false_calls,
        detail,
    )


def state_row(s: StateRecord) -> tuple[Any, ...]:
    return (s.id, ts_ms(s.ts), s.line, s.station, s.equipment, s.state, s.reason)


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def rows_of(records: Iterable[ResultRecord | StateRecord]) -> Rows:
    """The table rows of records: results and states."""
    results, states = [], []
    for r in records:
        if isinstance(r, ResultRecord):
            results.append(result_row(r))
        else:
            states.append(state_row(r))
    return results, states



class SqlStore(ABC):
    """The store methods every SQL store shares; see `store.sql_schema` for the roll-ups."""

    url: str

    @abstractmethod
    def _conn(self) -> Any:
        """This thread's connection; it has `execute`, `executemany` and a `dialect`."""

    @abstractmethod
    def _tx(self, conn: Any) -> AbstractContextManager[None]:
        """A write transaction on `conn`."""

    @abstractmethod
    def write_rows(self, rows: Rows) -> WriteCounts:
        """Store rows made by `rows_of` (possibly in another process: the parallel import)."""

    def write(self, records: Iterable[ResultRecord | StateRecord]) -> WriteCounts:
        return self.write_rows(rows_of(records))

    def refresh_statistics(self) -> None:
        """After a bulk load: the planner's statistics brought up to date now, not when the
        database's own schedule gets to it (PostgreSQL planned the andon's state query over a
        million fresh state changes as a full scan until then: 2.8 s instead of 15 ms)."""
        conn = self._conn()
        conn.execute(conn.dialect.refresh_statistics)

    def records_after(self, table: str, rid: int, limit: int) -> list[tuple[int, Record]]:
        """(row id, record) of `table` ("results" or "states") after row id `rid`, in stored order."""
        conn = self._conn()
        if table == "results":
            rows = conn.execute(
                "SELECT rid, id, ts, line, station, equipment, serial, product, work_order, result, detail "
                "FROM results WHERE rid > ? ORDER BY rid LIMIT ?",
                (rid, limit),
            ).fetchall()
            return [(r[0], row_to_result(r[1:])) for r in rows]
        if table != "states":
            raise ValueError(f"no records in table {table!r}")
        rows = conn.execute(
            "SELECT rid, id, ts, line, station, equipment, state, reason FROM states WHERE rid > ? ORDER BY rid LIMIT ?",
            (rid, limit),
        ).fetchall()
        return [(r[0], _row_to_state(r[1:])) for r in rows]

    def last_rids(self) -> dict[str, int]:
        conn = self._conn()
        return {t: int(conn.execute(f"SELECT coalesce(max(rid), 0) FROM {t}").fetchone()[0]) for t in ("results", "states")}

    def mirror_position(self, name: str) -> dict[str, int]:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (f"mirror:{name}",)).fetchone()
        return {k: int(v) for k, v in orjson.loads(row[0]).items()} if row else {}

    def put_mirror_position(self, name: str, position: Mapping[str, int]) -> None:
        self._conn().execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (f"mirror:{name}", orjson.dumps(dict(position)).decode()),
        )

    def measurement_names(
        self, start: datetime, end: datetime, station: str, product: str | None = None
    ) -> list[tuple[str, str | None, int]]:
        return measure_q.names(self._conn(), start, end, station, product)

    def measurement_values(
        self, start: datetime, end: datetime, station: str, name: str, product: str | None = None
    ) -> list[MeasuredValue]:
        return measure_q.values(self._conn(), start, end, station, name, product)

    def measurement_summaries(
        self,
        start: datetime,
        end: datetime,
        station: str,
        product: str | None = None,
        limits: Mapping[str, tuple[float | None, float | None]] | None = None,
    ) -> list[MeasureSummary]:
        return measure_q.summaries(self._conn(), start, end, station, product, limits or {})

    def dead_letter(self, raw: bytes, source: str, reason: str, location: str | None = None) -> None:
        self.dead_letter_many([(raw, source, reason, location)])

    def dead_letter_many(self, rows: Iterable[tuple[bytes, str, str, str | None]]) -> None:
        conn = self._conn()
        with self._tx(conn):
            dead_q.insert(conn, rows, int(time.time() * 1000))

    def dead_letters(
        self, limit: int = 100, source: str | None = None, since: datetime | None = None
    ) -> list[DeadLetter]:
        return dead_q.select(self._conn(), limit, source, since)

    def dead_letter_counts(self, since: datetime | None = None) -> list[tuple[str, str, int]]:
        return dead_q.counts(self._conn(), since)

    def purge_dead_letters(self, before: datetime) -> int:
        conn = self._conn()
        with self._tx(conn):
            return dead_q.purge(conn, before)

    def register_units(self, seen: Iterable[UnitSeen]) -> None:
        rows = [(u.serial, u.product, u.work_order, u.station, ts_ms(u.ts)) for u in seen]
        if not rows:
            return
        conn = self._conn()
        with self._tx(conn):
            conn.executemany(
                "INSERT INTO unit_registry VALUES (?,?,?,?,?) ON CONFLICT(serial) DO UPDATE SET "
                "product = coalesce(excluded.product, unit_registry.product), "
                "work_order = coalesce(excluded.work_order, unit_registry.work_order), "
                f"station = excluded.station, ts = {conn.dialect.greatest}(unit_registry.ts, excluded.ts)",
                rows,
            )

    def unit_products(self, serials: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        conn = self._conn()
        out: dict[str, tuple[str | None, str | None]] = {}
        for chunk in iter_chunks(set(serials), 500):
            marks = ",".join("?" * len(chunk))
            for serial, product, wo in conn.execute(
                f"SELECT serial, product, work_order FROM unit_registry WHERE serial IN ({marks})", chunk
            ):
                out[serial] = (product, wo)
            missing = [s for s in chunk if out.get(s, (None, None))[0] is None]
            if missing:
                marks = ",".join("?" * len(missing))
                for serial, product, wo in conn.execute(
                    f"SELECT serial, min(product), max(work_order) FROM results WHERE serial IN ({marks}) "
                    "GROUP BY serial",
                    missing,
                ):
                    out[serial] = (product, out.get(serial, (None, None))[1] or wo)
        return out

    def put_health(self, health: Iterable[SourceHealth]) -> None:
        rows = [
            (h.source, h.status, ts_ms(h.last_message) if h.last_message else None, h.received, h.stored,
             h.rejected, h.errors, h.detail, ts_ms(h.updated), h.recent_stored, h.recent_rejected)
            for h in health
        ]  # fmt: skip
        conn = self._conn()
        with self._tx(conn):
            conn.executemany(
                "INSERT INTO source_health (source, status, last_message, received, stored, rejected, errors, "
                "detail, updated, recent_stored, recent_rejected) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (source) DO UPDATE SET status = excluded.status, last_message = excluded.last_message, "
                "received = excluded.received, stored = excluded.stored, rejected = excluded.rejected, "
                "errors = excluded.errors, detail = excluded.detail, updated = excluded.updated, "
                "recent_stored = excluded.recent_stored, recent_rejected = excluded.recent_rejected",
                rows,
            )

    def put_clock(self, clock: StoredClock) -> None:
        value = orjson.dumps({"origin": clock.origin.isoformat(), "real_origin": clock.real_origin,
                              "factor": clock.factor, "heartbeat": clock.heartbeat}).decode()  # fmt: skip
        self._conn().execute(
            "INSERT INTO meta VALUES ('plant_clock', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (value,),
        )

    def stored_clock(self) -> StoredClock | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'plant_clock'").fetchone()
        if row is None:
            return None
        d = orjson.loads(row[0])
        return StoredClock(datetime.fromisoformat(d["origin"]), d["real_origin"], d["factor"], d["heartbeat"])

    def source_health(self) -> list[SourceHealth]:
        rows = self._conn().execute(
            "SELECT source, status, last_message, received, stored, rejected, errors, detail, updated, "
            "recent_stored, recent_rejected FROM source_health ORDER BY source"
        ).fetchall()
        return [
            SourceHealth(
                source=r[0],
                status=r[1],
                last_message=from_ms(r[2]) if r[2] is not None else None,
                received=r[3],
                stored=r[4],
                rejected=r[5],
                errors=r[6],
                detail=r[7],
                updated=from_ms(r[8]),
                recent_stored=r[9],
                recent_rejected=r[10],
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ reading
    def yield_tallies(self, start: datetime, end: datetime, product: str | None = None) -> Tallies:
        return window_tallies(self._conn(), start, end, product)

    def defect_counts(
        self, start: datetime, end: datetime, by: str = "code", product: str | None = None
    ) -> dict[str, int]:
        """Confirmed defects in [start, end) grouped by code, refdes or station."""
        if by not in ("code", "refdes", "station"):
            raise ValueError(f"cannot group defects by {by!r}")
        pf = "" if product is None else " AND product = ?"
        args: tuple[Any, ...] = (ts_ms(start), ts_ms(end)) + (() if product is None else (product,))
        rows = self._conn().execute(
            f"SELECT coalesce({by}, '(none)'), count(*) FROM defects WHERE ts >= ? AND ts < ? "
            f"AND confirmed = 1{pf} GROUP BY 1",
            args,
        )
        return {k: n for k, n in rows}

    def unit_history(self, serial: str) -> list[ResultRecord]:
        rows = self._conn().execute(
            "SELECT id, ts, line, station, equipment, serial, product, work_order, result, detail "
            "FROM results WHERE serial = ? ORDER BY ts",
            (serial,),
        )
        return [row_to_result(r) for r in rows]

    def work_order_units(self, work_order: str) -> dict[str, list[ResultRecord]]:
        """Every unit of a work order with its results in time order (traceability)."""
        rows = self._conn().execute(
            "SELECT id, ts, line, station, equipment, serial, product, work_order, result, detail "
            "FROM results WHERE work_order = ? ORDER BY serial, ts",
            (work_order,),
        )
        out: dict[str, list[ResultRecord]] = {}
        for r in rows:
            out.setdefault(r[5], []).append(row_to_result(r))
        return out

    def work_order_counts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[str, str | None, str, int, int]]:
        return out_q.work_order_counts(self._conn(), start, end, stations)

    def work_order_tallies(self, work_order: str) -> Tallies:
        return out_q.work_order_tallies(self._conn(), work_order)

    def put_work_orders(self, orders: Iterable[PlannedOrder]) -> int:
        conn = self._conn()
        with self._tx(conn):
            return out_q.put_work_orders(conn, orders)

    def planned_orders(self, start: datetime, end: datetime) -> list[PlannedOrder]:
        return out_q.planned_orders(self._conn(), start, end)

    def work_order_totals(
        self, work_orders: Iterable[str], stations: Iterable[str]
    ) -> list[tuple[str, str, int, int]]:
        return out_q.work_order_totals(self._conn(), work_orders, stations)

    def hourly_station_output(
        self, start: datetime, end: datetime, station: str
    ) -> dict[datetime, tuple[int, int]]:
        return out_q.hourly_station_output(self._conn(), start, end, station)

    def first_attempts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[datetime, str, bool]]:
        return out_q.first_attempts(self._conn(), start, end, stations)

    def scrapped_units(self, work_orders: Iterable[str], after_failures: int) -> dict[str, int]:
        return out_q.scrapped_units(self._conn(), work_orders, after_failures)

    def serials_starting(self, prefix: str, limit: int = 20) -> list[str]:
        return out_q.serials_starting(self._conn(), prefix, limit)

    def state_changes(
        self, start: datetime, end: datetime, stations: Collection[str] | None = None
    ) -> list[StateChange]:
        """State records in [start, end), plus each equipment's last one before start (its state at
        start), in time order; only of `stations` when given (by the (station, ts) index)."""
        conn = self._conn()
        a, b = ts_ms(start), ts_ms(end)
        cols = "id, ts, line, station, equipment, state, reason"
        only, args = "", tuple[str, ...]()
        if stations is not None:
            only, args = f" AND station IN ({','.join('?' * len(stations))})", tuple(stations)
        rows = conn.execute(
            f"SELECT {cols} FROM states WHERE ts >= ? AND ts < ?{only} ORDER BY ts, rid", (a, b, *args)
        ).fetchall()
        before = conn.execute(
            f"SELECT {cols} FROM states s WHERE rid IN (SELECT (SELECT rid FROM states x WHERE x.station = k.station "
            "AND x.equipment IS NOT DISTINCT FROM k.equipment AND x.ts < ? ORDER BY x.ts DESC LIMIT 1) FROM "
            f"(SELECT DISTINCT station, equipment FROM states WHERE ts >= ? - 86400000 * 7 AND ts < ?{only}) k)",
            (a, a, b, *args),
        ).fetchall()
        return [
            StateChange(r[0], from_ms(r[1]), r[2], r[3], r[4], r[5], r[6])
            for r in sorted(before, key=lambda r: r[1]) + rows
        ]

    def last_data_time(self) -> datetime | None:
        """Time of the newest stored result or state (by arrival order)."""
        conn = self._conn()
        times = [
            conn.execute(f"SELECT ts FROM {t} WHERE rid = (SELECT max(rid) FROM {t})").fetchone()
            for t in ("results", "states")
        ]
        found = [r[0] for r in times if r]
        return from_ms(max(found)) if found else None

    def result_count(self) -> int:
        row = self._conn().execute("SELECT max(rid) FROM results").fetchone()
        return int(row[0] or 0)

    def time_range(self) -> tuple[datetime, datetime] | None:
        lo = self._conn().execute("SELECT min(hour), max(hour) FROM station_hourly").fetchone()
        if lo[0] is None:
            return None
        conn = self._conn()
        first = conn.execute(
            "SELECT min(first_ts) FROM unit_station WHERE first_ts >= ?", (lo[0] * HOUR_MS,)
        ).fetchone()[0]
        last = conn.execute(
            "SELECT max(last_ts) FROM unit_station WHERE first_ts >= ?", (lo[1] * HOUR_MS,)
        ).fetchone()[0]
        return from_ms(first), from_ms(max(last, first))




def _row_to_state(r: tuple[Any, ...]) -> StateRecord:
    return StateRecord.model_validate(
        {"schema": "linemon.state/1", "id": r[0], "ts": from_ms(r[1]), "line": r[2], "station": r[3],
         "equipment": r[4], "state": r[5], "reason": r[6]}
    )  # fmt: skip


def row_to_result(r: tuple[Any, ...]) -> ResultRecord:
    detail = orjson.loads(r[9]) if r[9] else {}
    return ResultRecord.model_validate(
        {
            "schema": "linemon.result/1",
            "id": r[0],
            "ts": from_ms(r[1]),
            "line": r[2],
            "station": r[3],
            "equipment": r[4],
            "serial": r[5],
            "product": r[6],
            "work_order": r[7],
            "result": r[8],
            "defects": detail.get("defects", []),
            "measurements": detail.get("measurements", []),
        }
    )
