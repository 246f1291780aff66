"""InfluxDB as a historian: what the primary store (SQLite or PostgreSQL) holds, mirrored as
points for the plant's Grafana and historians (DESIGN.md §6). linemon's own pages read the
primary store; nothing here is read back.

Points: `unit_result` (tags line, station, product, result), `station_state` (tags line,
station, state) and `unit_measurement` (tags line, station, product, name). Tags are bounded
sets from the plant file; serials, work orders, equipment and ids are fields. A point's identity
in InfluxDB is measurement + tags + time, so records that share a millisecond and tags (the
boards of one panel, reported together) would overwrite each other: each point's time is its
record's millisecond plus a nanosecond offset from the record's row id in the primary store
(rid mod 10^6; measurements: rid mod 1000 in microseconds plus their place in the record). Two
records collide only if they share millisecond and tags and their row ids differ by a multiple
of a million (measurements: of a thousand, or a record with over 1000 values of one name); the
offset is below a millisecond, so Grafana shows the record's own time. Writing a record again
writes the same points: replays after an outage overwrite themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from line.records import Record, ResultRecord, StateRecord, ts_ms
from store.base import StoreError

MS_NS = 1_000_000


def _time_ns(ts_ms_: int, rid: int) -> int:
    return ts_ms_ * MS_NS + rid % MS_NS


def result_points(rid: int, r: ResultRecord) -> list[Point]:
    """The result and each of its measured values."""
    at = ts_ms(r.ts)
    p = (
        Point("unit_result")
        .tag("line", r.line).tag("station", r.station).tag("product", r.product).tag("result", r.result)
        .field("id", r.id or "").field("serial", r.serial).field("rid", rid)
        .field("pass", int(r.result == "PASS")).field("defects", r.confirmed_defects)
        .field("false_calls", r.false_calls)
        .time(_time_ns(at, rid), WritePrecision.NS)
    )  # fmt: skip
    if r.work_order:
        p = p.field("work_order", r.work_order)
    if r.equipment:
        p = p.field("equipment", r.equipment)
    out = [p]
    for k, m in enumerate(r.measurements):
        q = (
            Point("unit_measurement")
            .tag("line", r.line).tag("station", r.station).tag("product", r.product).tag("name", m.name)
            .field("value", float(m.value)).field("serial", r.serial).field("rid", rid)
            .time(at * MS_NS + (rid % 1000) * 1000 + k % 1000, WritePrecision.NS)
        )  # fmt: skip
        for key, v in (("lo", m.lo), ("hi", m.hi)):
            if v is not None:
                q = q.field(key, float(v))
        if m.unit:
            q = q.field("unit", m.unit)
        out.append(q)
    return out


def state_point(rid: int, s: StateRecord) -> Point:
    p = (
        Point("station_state")
        .tag("line", s.line).tag("station", s.station).tag("state", s.state)
        .field("id", s.id or "").field("rid", rid)
        .time(_time_ns(ts_ms(s.ts), rid), WritePrecision.NS)
    )  # fmt: skip
    if s.reason:
        p = p.field("reason", s.reason)
    if s.equipment:
        p = p.field("equipment", s.equipment)
    return p


def points_of(rows: Iterable[tuple[int, Record]]) -> list[Point]:
    out: list[Point] = []
    for rid, rec in rows:
        if isinstance(rec, ResultRecord):
            out += result_points(rid, rec)
        else:
            out.append(state_point(rid, rec))
    return out


@dataclass(frozen=True)
class InfluxTarget:
    """An InfluxDB 2.x bucket: `influxdb://host:8086?org=ORG&bucket=BUCKET` (`influxdbs://` for
    TLS), token from $LINEMON_INFLUX_TOKEN (never in the URL or the plant file)."""

    url: str
    base_url: str
    org: str
    bucket: str

    @staticmethod
    def parse(url: str) -> InfluxTarget:
        p = urlparse(url)
        q = {k: v[0] for k, v in parse_qs(p.query).items()}
        missing = [k for k in ("org", "bucket") if k not in q]
        if p.scheme not in ("influxdb", "influxdbs") or missing or not p.hostname:
            raise StoreError(
                f"{url}: expected influxdb://host:8086?org=ORG&bucket=BUCKET "
                f"(missing: {', '.join(missing) or ('host' if p.hostname is None else 'the influxdb:// scheme')})"
            )
        scheme = "https" if p.scheme == "influxdbs" else "http"
        return InfluxTarget(url, f"{scheme}://{p.hostname}:{p.port or 8086}", q["org"], q["bucket"])


class InfluxWriter:
    """Writes points to one bucket, synchronously: a write that returns has been accepted."""

    def __init__(self, target: InfluxTarget, token: str | None = None) -> None:
        self.target = target
        token = os.environ.get("LINEMON_INFLUX_TOKEN", "") if token is None else token
        self._client = InfluxDBClient(url=target.base_url, token=token, org=target.org, timeout=30_000)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, points: list[Point]) -> None:
        """Raise StoreError (naming the URL) when the server does not accept them."""
        try:
            for i in range(0, len(points), 5000):
                self._write.write(bucket=self.target.bucket, org=self.target.org, record=points[i : i + 5000])
        except Exception as exc:  # influxdb-client raises urllib3 errors and ApiException
            raise StoreError(f"{self.target.url}: write failed ({_short(exc)})") from None

    def close(self) -> None:
        self._write.close()
        self._client.close()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
