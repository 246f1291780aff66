"""InfluxDB 2.x backend through influxdb-client (DESIGN.md §6).

Measurements `unit_result` and `station_state`; tags only for bounded sets (line, station,
product, result / state); serials, work orders and ids are fields. Reads use Flux: the query
builders and the aggregation of their rows are pure functions, tested without a server, and the
aggregation follows exactly the SQLite store's definitions (first attempt in window, last attempt
as of now). A point's identity in InfluxDB is measurement + tags + time, so a replayed record
overwrites itself: duplicates are harmless, but cannot be counted (they are reported as stored).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from line.clock import StoredClock
from line.kpi import ProductTally, StationTally
from line.plan import PlannedOrder
from line.records import Record, ResultRecord, StateChange, StateRecord, ts_ms
from store.base import (
    DeadLetter,
    MeasuredValue,
    MeasureSummary,
    SourceHealth,
    StoreError,
    Tallies,
    UnitSeen,
    WriteCounts,
)

LOOKBACK = timedelta(days=90)  # how far before a window first attempts are looked for


def result_point(r: ResultRecord) -> Point:
    p = (
        Point("unit_result")
        .tag("line", r.line)
        .tag("station", r.station)
        .tag("product", r.product)
        .tag("result", r.result)
        .field("id", r.id or "")
        .field("serial", r.serial)
        .field("pass", int(r.result == "PASS"))
        .field("defects", r.confirmed_defects)
        .field("false_calls", r.false_calls)
        .time(ts_ms(r.ts), WritePrecision.MS)
    )
    if r.work_order:
        p = p.field("work_order", r.work_order)
    if r.equipment:
        p = p.field("equipment", r.equipment)
    if r.defects or r.measurements:
        p = p.field(
            "detail", orjson.dumps(r.model_dump(mode="json", include={"defects", "measurements"})).decode()
        )
    return p


def state_point(s: StateRecord) -> Point:
    p = (
        Point("station_state")
        .tag("line", s.line)
        .tag("station", s.station)
        .tag("state", s.state)
        .field("id", s.id or "")
        .time(ts_ms(s.ts), WritePrecision.MS)
    )
    if s.reason:
        p = p.field("reason", s.reason)
    if s.equipment:
        p = p.field("equipment", s.equipment)
    return p


def _flux_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _flux_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def flux_unit_rows(bucket: str, start: datetime, end: datetime, product: str | None = None) -> str:
    """Flux: one row per result (time, product, station, serial, pass, defects, false_calls) from
    LOOKBACK before the window up to now, so first attempts before the window are seen."""
    pf = f"\n  |> filter(fn: (r) => r.product == {_flux_str(product)})" if product else ""
    return (
        f"from(bucket: {_flux_str(bucket)})\n"
        f"  |> range(start: {_flux_time(start - LOOKBACK)})\n"
        '  |> filter(fn: (r) => r._measurement == "unit_result")\n'
        '  |> filter(fn: (r) => r._field == "serial" or r._field == "pass" or r._field == "defects"'
        ' or r._field == "false_calls")'
        f"{pf}\n"
        '  |> pivot(rowKey: ["_time", "line", "station", "product", "result"], columnKey: ["_field"],'
        ' valueColumn: "_value")\n'
        '  |> group()\n  |> sort(columns: ["_time"])\n'
        '  |> keep(columns: ["_time", "product", "station", "serial", "pass", "defects", "false_calls"])'
    )


@dataclass
class _Unit:
    product: str
    first_ts: datetime
    first_pass: int
    last_pass: int = 0
    attempts: int = 0
    defects: int = 0
    false_calls: int = 0


def tallies_from_rows(rows: Iterable[dict[str, Any]], start: datetime, end: datetime) -> Tallies:
    """Aggregate time-ordered result rows exactly as the SQLite store's roll-ups do."""
    per_key: dict[tuple[str, str], _Unit] = {}
    for r in rows:
        key = (r["serial"], r["station"])
        u = per_key.get(key)
        if u is None:
            u = per_key[key] = _Unit(r["product"], r["_time"], int(r["pass"]))
        u.last_pass = int(r["pass"])
        u.attempts += 1
        u.defects += int(r["defects"])
        u.false_calls += int(r["false_calls"])
    stations: dict[tuple[str, str], StationTally] = {}
    by_serial: dict[str, list[_Unit]] = {}
    for (serial, station), u in per_key.items():
        by_serial.setdefault(serial, []).append(u)
        if start <= u.first_ts < end:
            t = StationTally(1, u.first_pass, u.last_pass, u.attempts, u.defects, u.false_calls)
            stations[(u.product, station)] = stations.get((u.product, station), StationTally()) + t
    products: dict[str, ProductTally] = {}
    for units in by_serial.values():
        first = min(u.first_ts for u in units)
        if start <= first < end:
            code = min(u.product for u in units)
            good = int(all(u.last_pass for u in units))
            products[code] = products.get(code, ProductTally()) + ProductTally(
                1, good, sum(u.defects for u in units)
            )
    return stations, products


class InfluxStore:
    """The store on an InfluxDB 2.x server; secrets (the token) come from the environment."""

    def __init__(self, base_url: str, org: str, bucket: str, token: str, url: str | None = None) -> None:
        self.url = url or base_url
        self.bucket, self.org = bucket, org
        self._client = InfluxDBClient(url=base_url, token=token, org=org, timeout=30_000)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        self._registry: dict[str, tuple[str | None, str | None]] = {}

    def write(self, records: Iterable[Record]) -> WriteCounts:
        points = [result_point(r) if isinstance(r, ResultRecord) else state_point(r) for r in records]
        if not points:
            return WriteCounts()
        try:
            for chunk in _chunks(points, 5000):
                self._write.write(bucket=self.bucket, org=self.org, record=chunk)
        except Exception as exc:  # influxdb-client raises urllib3/ApiException subclasses
            raise StoreError(f"{self.url}: write failed ({exc})") from None
        return WriteCounts(stored=len(points))

    def dead_letter(self, raw: bytes, source: str, reason: str, location: str | None = None) -> None:
        self.dead_letter_many([(raw, source, reason, location)])

    def dead_letter_many(self, rows: Iterable[tuple[bytes, str, str, str | None]]) -> None:
        now = time.time_ns()
        points = [
            Point("dead_letter")
            .tag("source", src)
            .field("reason", reason)
            .field("location", loc or "")
            .field("raw_b64", base64.b64encode(raw).decode())
            .time(now + i, WritePrecision.NS)
            for i, (raw, src, reason, loc) in enumerate(rows)
        ]
        if points:
            self._write.write(bucket=self.bucket, org=self.org, record=points)

    def dead_letters(
        self, limit: int = 100, source: str | None = None, since: datetime | None = None
    ) -> list[DeadLetter]:
        start = _flux_time(since) if since is not None else "-30d"
        only = f" |> filter(fn: (r) => r.source == {_flux_str(source)})" if source is not None else ""
        q = (
            f"from(bucket: {_flux_str(self.bucket)}) |> range(start: {start})"
            ' |> filter(fn: (r) => r._measurement == "dead_letter")'
            f"{only}"
            ' |> pivot(rowKey: ["_time", "source"], columnKey: ["_field"], valueColumn: "_value")'
            f' |> group() |> sort(columns: ["_time"], desc: true) |> limit(n: {int(limit)})'
        )
        out = []
        for r in self._rows(q):
            raw = base64.b64decode(r["raw_b64"])
            out.append(DeadLetter(r["_time"], r["source"], r.get("location") or None, r["reason"], raw, size=len(raw)))
        return out

    def dead_letter_counts(self, since: datetime | None = None) -> list[tuple[str, str, int]]:
        counts: dict[tuple[str, str], int] = {}
        for d in self.dead_letters(100_000, since=since):
            key = (d.source, d.reason.split(":", 1)[0])
            counts[key] = counts.get(key, 0) + 1
        return sorted(((s, r, n) for (s, r), n in counts.items()), key=lambda x: (-x[2], x[0], x[1]))

    def purge_dead_letters(self, before: datetime) -> int:
        """The bucket's own retention policy ages points out on InfluxDB."""
        return 0

    def _rows(self, flux: str) -> Iterator[dict[str, Any]]:
        try:
            for rec in self._client.query_api().query_stream(flux, org=self.org):
                yield rec.values
        except Exception as exc:
            raise StoreError(f"{self.url}: query failed ({exc})") from None

    def yield_tallies(self, start: datetime, end: datetime, product: str | None = None) -> Tallies:
        return tallies_from_rows(self._rows(flux_unit_rows(self.bucket, start, end, product)), start, end)

    def defect_counts(
        self, start: datetime, end: datetime, by: str = "code", product: str | None = None
    ) -> dict[str, int]:
        raise StoreError(f"{self.url}: defect Pareto is not yet available on the InfluxDB store")

    def unit_history(self, serial: str) -> list[ResultRecord]:
        raise StoreError(f"{self.url}: unit history is not yet available on the InfluxDB store")

    def measurement_names(
        self, start: datetime, end: datetime, station: str, product: str | None = None
    ) -> list[tuple[str, str | None, int]]:
        raise StoreError(f"{self.url}: measurement SPC is not yet available on the InfluxDB store")

    def measurement_values(
        self, start: datetime, end: datetime, station: str, name: str, product: str | None = None
    ) -> list[MeasuredValue]:
        raise StoreError(f"{self.url}: measurement SPC is not yet available on the InfluxDB store")

    def measurement_summaries(
        self,
        start: datetime,
        end: datetime,
        station: str,
        product: str | None = None,
        limits: Mapping[str, tuple[float | None, float | None]] | None = None,
    ) -> list[MeasureSummary]:
        raise StoreError(f"{self.url}: measurement SPC is not yet available on the InfluxDB store")

    def work_order_units(self, work_order: str) -> dict[str, list[ResultRecord]]:
        raise StoreError(f"{self.url}: work-order traceability is not yet available on the InfluxDB store")

    def result_count(self) -> int:
        q = (
            f"from(bucket: {_flux_str(self.bucket)}) |> range(start: 0)"
            ' |> filter(fn: (r) => r._measurement == "unit_result" and r._field == "pass")'
            " |> group() |> count()"
        )
        return sum(int(r["_value"]) for r in self._rows(q))

    def time_range(self) -> tuple[datetime, datetime] | None:
        return None

    def work_order_counts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[str, str | None, str, int, int]]:
        raise StoreError(f"{self.url}: output per work order is not yet available on the InfluxDB store")

    def work_order_tallies(self, work_order: str) -> Tallies:
        raise StoreError(f"{self.url}: yield per work order is not yet available on the InfluxDB store")

    def put_work_orders(self, orders: Iterable[PlannedOrder]) -> int:
        raise StoreError(f"{self.url}: planned work orders are not yet kept on the InfluxDB store")

    def planned_orders(self, start: datetime, end: datetime) -> list[PlannedOrder]:
        raise StoreError(f"{self.url}: planned work orders are not yet kept on the InfluxDB store")

    def work_order_totals(
        self, work_orders: Iterable[str], stations: Iterable[str]
    ) -> list[tuple[str, str, int, int]]:
        raise StoreError(f"{self.url}: output per work order is not yet available on the InfluxDB store")

    def hourly_station_output(
        self, start: datetime, end: datetime, station: str
    ) -> dict[datetime, tuple[int, int]]:
        raise StoreError(f"{self.url}: output per hour is not yet available on the InfluxDB store")

    def first_attempts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[datetime, str, bool]]:
        raise StoreError(f"{self.url}: the andon's yield alarms are not yet available on the InfluxDB store")

    def scrapped_units(self, work_orders: Iterable[str], after_failures: int) -> dict[str, int]:
        raise StoreError(f"{self.url}: scrap per work order is not yet available on the InfluxDB store")

    def serials_starting(self, prefix: str, limit: int = 20) -> list[str]:
        raise StoreError(f"{self.url}: serial search is not yet available on the InfluxDB store")

    def state_changes(
        self, start: datetime, end: datetime, stations: Collection[str] | None = None
    ) -> list[StateChange]:
        raise StoreError(f"{self.url}: station states are not yet readable from the InfluxDB store")

    def last_data_time(self) -> datetime | None:
        return None

    def register_units(self, seen: Iterable[UnitSeen]) -> None:
        """Kept in this process only (lost when the ingest restarts): a registry on InfluxDB is
        not built yet; sources that name the product do not need it."""
        for u in seen:
            old = self._registry.get(u.serial, (None, None))
            self._registry[u.serial] = (u.product or old[0], u.work_order or old[1])

    def unit_products(self, serials: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        return {s: self._registry[s] for s in serials if s in self._registry}

    def put_health(self, health: Iterable[SourceHealth]) -> None:
        points = [
            Point("source_health").tag("source", h.source).field("status", h.status)
            .field("received", h.received).field("stored", h.stored).field("rejected", h.rejected)
            .field("errors", h.errors).field("detail", h.detail or "")
            .field("last_message_ms", ts_ms(h.last_message) if h.last_message else 0)
            .time(h.updated, WritePrecision.MS)
            for h in health
        ]  # fmt: skip
        if points:
            self._write.write(bucket=self.bucket, org=self.org, record=points)

    def put_clock(self, clock: StoredClock) -> None:
        """Not kept: the InfluxDB store holds measurements only (its readers use the wall clock)."""

    def stored_clock(self) -> StoredClock | None:
        return None

    def source_health(self) -> list[SourceHealth]:
        raise StoreError(f"{self.url}: source health is not yet readable from the InfluxDB store")

    def close(self) -> None:
        self._write.close()
        self._client.close()


def _chunks(items: list[Point], n: int) -> Iterator[list[Point]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
