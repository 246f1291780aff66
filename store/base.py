"""The query interface shared by every store, and opening a store from its URL."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlparse

from line.clock import StoredClock
from line.errors import LinemonError
from line.kpi import ProductTally, StationTally
from line.plan import PlannedOrder
from line.records import Record, ResultRecord, StateChange, UnitSeen

__all__ = ["UnitSeen"]  # defined in line.records: drivers make them, stores keep them

DEFAULT_URL = "sqlite:///linemon.db"
Tallies = tuple[dict[tuple[str, str], StationTally], dict[str, ProductTally]]


class StoreError(LinemonError):
    """A store that cannot be opened or used; the message names the URL."""


class StoreUnavailable(StoreError):
    """The store's server cannot be reached now (restarting, network): worth trying again."""


@dataclass(frozen=True)
class WriteCounts:
    stored: int = 0
    duplicate: int = 0

    def __add__(self, o: WriteCounts) -> WriteCounts:
        return WriteCounts(self.stored + o.stored, self.duplicate + o.duplicate)


@dataclass(frozen=True)
class MeasuredValue:
    """One measured value as stored, with the limits its record gave (None: none given)."""

    ts: datetime
    serial: str
    product: str
    value: float
    unit: str | None
    lo: float | None
    hi: float | None


@dataclass(frozen=True)
class MeasureSummary:
    """One measurement's values in a window, summed by the store: what capability needs."""

    name: str
    unit: str | None
    n: int
    mean: float
    sd: float | None  # sample standard deviation (None below two values)
    mr_bar: float | None  # mean moving range in time order (None below two values)
    lo: float | None  # the limits of its newest record
    hi: float | None
    outside: int  # values outside the limits given for it (else its records' own)


@dataclass(frozen=True)
class DeadLetter:
    received: datetime
    source: str
    location: str | None
    reason: str
    raw: bytes  # as it came, or its first part when it was larger than the store keeps
    id: int = 0
    size: int = 0  # the raw input's full size
    sha256: str | None = None  # its hash, when only its first part is kept

    @property
    def cut(self) -> bool:
        return self.size > len(self.raw)


@dataclass(frozen=True)
class SourceHealth:
    """One equipment source as the ingest service last saw it (for the dashboard's alarms)."""

    source: str
    status: str  # connected | reconnecting | disconnected | stopped
    last_message: datetime | None
    received: int
    stored: int
    rejected: int
    errors: int
    detail: str | None
    updated: datetime
    recent_stored: int = 0  # over the last [alarms] reject_window_min: the andon's reject share
    recent_rejected: int = 0

    @property
    def recent_reject_share(self) -> float | None:
        seen = self.recent_stored + self.recent_rejected
        return self.recent_rejected / seen if seen else None


class Store(Protocol):
    """What the report command, the ingest service and the dashboard need from a store."""

    url: str

    def write(self, records: Iterable[Record]) -> WriteCounts:
        """Store records; a record whose id is already stored is a duplicate and is ignored."""
        ...

    def dead_letter(self, raw: bytes, source: str, reason: str, location: str | None = None) -> None:
        """Keep raw input that could not be turned into a record, with the reason."""
        ...

    def dead_letter_many(self, rows: Iterable[tuple[bytes, str, str, str | None]]) -> None:
        """Several dead letters at once: (raw, source, reason, location)."""
        ...

    def dead_letters(
        self, limit: int = 100, source: str | None = None, since: datetime | None = None
    ) -> list[DeadLetter]:
        """The newest dead letters first (of one source, since a time, when given)."""
        ...

    def dead_letter_counts(self, since: datetime | None = None) -> list[tuple[str, str, int]]:
        """(source, reason up to its first colon, count), the most frequent first."""
        ...

    def purge_dead_letters(self, before: datetime) -> int:
        """Forget dead letters received before `before` (the retention); how many went."""
        ...

    def defect_counts(
        self, start: datetime, end: datetime, by: str = "code", product: str | None = None
    ) -> dict[str, int]:
        """Confirmed defects in [start, end) grouped by code, refdes or station."""
        ...

    def yield_tallies(self, start: datetime, end: datetime, product: str | None = None) -> Tallies:
        """Station and product tallies of the units whose first attempt falls in [start, end)."""
        ...

    def unit_history(self, serial: str) -> list[ResultRecord]: ...

    def measurement_names(
        self, start: datetime, end: datetime, station: str, product: str | None = None
    ) -> list[tuple[str, str | None, int]]:
        """(name, unit, number of values) of the measurements taken at a station in [start, end)."""
        ...

    def measurement_values(
        self, start: datetime, end: datetime, station: str, name: str, product: str | None = None
    ) -> list[MeasuredValue]:
        """Every value of one measurement at a station in [start, end), oldest first."""
        ...

    def measurement_summaries(
        self,
        start: datetime,
        end: datetime,
        station: str,
        product: str | None = None,
        limits: Mapping[str, tuple[float | None, float | None]] | None = None,
    ) -> list[MeasureSummary]:
        """Each measurement of a station in [start, end) summed up (count, mean, standard
        deviation, mean moving range, values outside `limits[name]` or else their own)."""
        ...

    def work_order_units(self, work_order: str) -> dict[str, list[ResultRecord]]: ...

    def result_count(self) -> int: ...

    def time_range(self) -> tuple[datetime, datetime] | None:
        """First and last result time stored, or None for an empty store."""
        ...

    def work_order_counts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[str, str | None, str, int, int]]: ...

    def work_order_tallies(self, work_order: str) -> Tallies:
        """Station and product tallies of every unit of a work order (whenever made)."""
        ...

    def put_work_orders(self, orders: Iterable[PlannedOrder]) -> int:
        """Insert or update planned work orders by id; returns how many were given."""
        ...

    def planned_orders(self, start: datetime, end: datetime) -> list[PlannedOrder]:
        """Planned orders whose window overlaps [start, end), in plan order."""
        ...

    def work_order_totals(
        self, work_orders: Iterable[str], stations: Iterable[str]
    ) -> list[tuple[str, str, int, int]]:
        """(work order, station, units, units finally passed) over all time."""
        ...

    def hourly_station_output(
        self, start: datetime, end: datetime, station: str
    ) -> dict[datetime, tuple[int, int]]:
        """(units, finally passed) at a station per UTC hour of the units' first attempt there."""
        ...

    def first_attempts(
        self, start: datetime, end: datetime, stations: Iterable[str]
    ) -> list[tuple[datetime, str, bool]]:
        """(time, station, passed) of each unit's first attempt at `stations` in [start, end),
        in time order."""
        ...

    def scrapped_units(self, work_orders: Iterable[str], after_failures: int) -> dict[str, int]:
        """Units per work order that failed `after_failures` times at a station without passing."""
        ...

    def serials_starting(self, prefix: str, limit: int = 20) -> list[str]:
        """Stored serials beginning with `prefix`, in order, at most `limit`."""
        ...

    def state_changes(
        self, start: datetime, end: datetime, stations: Collection[str] | None = None
    ) -> list[StateChange]:
        """State records in [start, end) and each equipment's last one before start, in time
        order (only of `stations` when given)."""
        ...

    def last_data_time(self) -> datetime | None: ...

    def register_units(self, seen: Iterable[UnitSeen]) -> None:
        """Remember units' product and work order; a later sighting without them keeps the known ones."""
        ...

    def unit_products(self, serials: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """Product and work order of the given serials that are known (registry, then results)."""
        ...

    def put_health(self, health: Iterable[SourceHealth]) -> None: ...

    def put_clock(self, clock: StoredClock) -> None:
        """Record the plant clock the store's data is written on (the twin's)."""
        ...

    def stored_clock(self) -> StoredClock | None:
        """The plant clock recorded by the twin that writes this store; None: the wall clock."""
        ...

    def source_health(self) -> list[SourceHealth]: ...

    def refresh_statistics(self) -> None:
        """After a bulk load (an import): the query planner's statistics brought up to date."""
        ...

    def records_after(self, table: str, rid: int, limit: int) -> list[tuple[int, Record]]:
        """(row id, record) of "results" or "states" stored after row id `rid`, in stored order
        (what a mirror sends next)."""
        ...

    def last_rids(self) -> dict[str, int]:
        """The last row id of "results" and "states" (0: none)."""
        ...

    def mirror_position(self, name: str) -> dict[str, int]:
        """The last row id per table mirror `name` has sent (empty: none yet)."""
        ...

    def put_mirror_position(self, name: str, position: Mapping[str, int]) -> None: ...

    def close(self) -> None: ...


def store_url(given: str | None) -> str:
    """The store URL: as given, else $LINEMON_STORE, else the embedded default."""
    return given or os.environ.get("LINEMON_STORE") or DEFAULT_URL


def store_now(store: Store) -> datetime:
    """What time it is for the data of `store`: its twin's plant clock when a twin writes (or
    wrote) it, else the wall clock. Every reader (dashboard, `report`) asks this, so they agree."""
    import time

    clock = store.stored_clock()
    return datetime.fromtimestamp(time.time(), UTC) if clock is None else clock.at(time.time())


def _sqlite_path(url_path: str) -> str:
    """The file of `sqlite:///relative` or `sqlite:////absolute`."""
    return url_path[1:] if url_path.startswith("/") else url_path


def require_existing(url: str) -> None:
    """For read-only commands: a SQLite store file that does not exist is an error (opening it
    would create an empty database and report nothing as if all were well)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = _sqlite_path(parsed.path)
        if path and not os.path.exists(path):
            raise StoreError(
                f"{url}: no such store ({os.path.abspath(path)} does not exist); give the store the ingest "
                "or `linemon run` writes with --store URL or $LINEMON_STORE"
            )


def open_store(url: str) -> Store:
    """Open `sqlite:///path` (relative) / `sqlite:////abs/path`, `postgresql://user@host:5432/db`
    (password from $PGPASSWORD or ~/.pgpass). InfluxDB is a mirror (store.mirror), never the store."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        from store.sqlite import SqliteStore

        path = _sqlite_path(parsed.path)
        if not path:
            raise StoreError(f"{url}: no file path (expected sqlite:///linemon.db)")
        return SqliteStore(path, url=url)
    if parsed.scheme in ("postgresql", "postgres"):
        from store.postgres import PgStore

        return PgStore(url)
    if parsed.scheme in ("influxdb", "influxdbs"):
        raise StoreError(
            f"{url}: InfluxDB is a mirror of the store, not a store: keep the records in sqlite:///FILE or "
            "postgresql://USER@HOST/DB and give InfluxDB as [store] mirror in the plant file or --mirror"
        )
    raise StoreError(
        f"{url}: unknown store (expected sqlite:///FILE or postgresql://USER@HOST/DB)"
    )
