"""The ingest service's core: parsed items from every source turned into stored records, dead
letters and unit registrations, in batches.

Serial sources parse in their own threads and put `Batch`es on one queue; MQTT messages are put
there as they came (`RawMessage`) and parsed by the writer. Sources never touch the store. The
writer process (`drivers.writer_proc`) commits what arrived and only then answers with the MQTT
acknowledgements owed, so a message the broker considers delivered is always stored: a killed
ingest gets it again after restart, and the record id makes the replay a duplicate.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import orjson

from drivers.cfx import PanelBook, parse_cfx
from drivers.items import Draft, Registration, Reject
from drivers.lineformat import Context
from drivers.native import parse_native
from line.clock import Clock, SystemClock
from line.config import Plant
from line.config_model import BindingDef
from line.errors import RecordError
from line.records import Record, ResultRecord, plant_problem, record_from_dict
from store.base import SourceHealth, Store

log = logging.getLogger("linemon.ingest")
Item = Draft | Registration | Reject


class RawMessage(NamedTuple):
    """An MQTT message as received, parsed later by the writer (off the network thread). A
    tuple: cheap to make on the network thread and to pickle to the writer process."""

    binding: str
    topic: str
    payload: bytes
    mid: int
    qos: int


def mqtt_items(
    b: BindingDef,
    plant: Plant,
    topic: str,
    payload: bytes,
    received: datetime | None = None,
    panels: PanelBook | None = None,
) -> list[Item]:
    """Parse one MQTT message of a binding (native or CFX); never raises. `received` (the
    plant clock's time, default the wall clock) stamps what the message does not; `panels`
    holds the binding's panels seen at WorkStarted (CFX panel-level results)."""
    try:
        if b.format == "cfx":
            ctx = Context(b, plant.station(b.station_id).line, plant.tz, received or datetime.now(UTC))
            return parse_cfx(payload, ctx, panels).items
        return parse_native(topic, payload).items
    except Exception as exc:  # a parser bug must not stop the ingest: keep the input, say why
        log.exception("parsing %s", topic)
        return [Reject(f"parser failed: {exc!r}", payload)]


@dataclass
class Batch:
    """Items from one message or frame, and where they came from."""

    source: str
    location: str  # port or topic, for dead letters
    items: list[Item]
    token: str | None = None  # returned by the writer once committed (a result file to move away)


RECENT_BUCKET_S = 10  # resolution of a source's recent stored/rejected counts


class Health:
    """Counters and status of one source; written to the store every few seconds."""

    def __init__(self, source: str, clock: Clock | None = None, window_min: float = 15.0) -> None:
        self.source = source
        self.clock: Clock = clock or SystemClock()
        self.window_s = window_min * 60 / self.clock.factor  # wall seconds (the twin's plant runs faster)
        # [bucket, stored, rejected] per RECENT_BUCKET_S of wall time: a busy stream commits
        # hundreds of chunks a second, the window holds at most window / bucket entries
        self._recent: deque[list[int]] = deque()
        self.status = "starting"
        self.detail: str | None = None
        self.last_message: float | None = None  # epoch seconds: cheap on the hot path
        self.received = self.stored = self.rejected = self.errors = 0
        self._lock = threading.Lock()

    def set(self, status: str, detail: str | None = None) -> None:
        with self._lock:
            if status != self.status:
                log.info("%s: %s%s", self.source, status, f" ({detail})" if detail else "")
            self.status, self.detail = status, detail

    def message(self) -> None:
        """Called per message on the network thread: no lock (one writer thread per source)."""
        self.received += 1
        self.last_message = time.time()

    def error(self, detail: str) -> None:
        with self._lock:
            self.errors += 1
            self.detail = detail

    def counted(self, stored: int, rejected: int) -> None:
        with self._lock:
            self.stored += stored
            self.rejected += rejected
            bucket = int(time.time() // RECENT_BUCKET_S)
            if self._recent and self._recent[-1][0] == bucket:
                self._recent[-1][1] += stored
                self._recent[-1][2] += rejected
            else:
                self._recent.append([bucket, stored, rejected])

    def _window(self) -> tuple[int, int]:
        """Stored and rejected over the last window (called under the lock)."""
        edge = (time.time() - self.window_s) // RECENT_BUCKET_S
        while self._recent and self._recent[0][0] < edge:
            self._recent.popleft()
        return sum(r[1] for r in self._recent), sum(r[2] for r in self._recent)

    def snapshot(self) -> SourceHealth:
        with self._lock:
            recent = self._window()
            return SourceHealth(
                self.source, self.status,
                self.clock.at(self.last_message) if self.last_message else None,
                self.received, self.stored, self.rejected,
                self.errors, self.detail, self.clock.now(), *recent,
            )  # fmt: skip


@dataclass
class Writer:
    """Turns batches into stored records and dead letters, one commit per call (the writer
    process of `drivers.writer_proc` runs it; acknowledgements follow each commit)."""

    store: Store
    plant: Plant
    health: dict[str, Health]
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        self.stations = {sid: st.line for sid, st in self.plant.spec.stations.items()}
        self.products = set(self.plant.spec.products)
        self.stored = self.duplicates = self.rejected = 0
        limits = self.plant.spec.ingest
        self.ahead, self.behind = timedelta(hours=limits.max_future_h), timedelta(days=limits.max_age_days)
        self.now = self.clock.now()  # the ingest's clock at the current commit

    def commit(self, batches: list[Batch]) -> dict[str, list[int]]:
        """Register, resolve, validate, store, dead-letter. Returns the stored and rejected
        counts per source."""
        drafts: list[Draft] = []
        seen: list[Registration] = []
        for b in batches:
            for i in b.items:
                if isinstance(i, Draft):
                    drafts.append(i)
                elif isinstance(i, Registration):
                    seen.append(i)
        if seen:
            self.store.register_units(seen)
        known = self._registry(drafts)
        self.now = self.clock.now()
        records: list[Record] = []
        dead: list[tuple[bytes, str, str, str | None]] = []
        per_source: dict[str, list[int]] = {}
        for b in batches:
            tally = per_source.setdefault(b.source, [0, 0])
            for item in b.items:
                rec = self._record(item, known) if isinstance(item, Draft) else item
                if isinstance(rec, Reject):
                    dead.append((rec.raw, b.source, rec.reason, b.location))
                    tally[1] += 1
                elif not isinstance(rec, Registration):
                    records.append(rec)
                    tally[0] += 1
        counts = self.store.write(records)
        if dead:
            self.store.dead_letter_many(dead)
        self.stored += counts.stored
        self.duplicates += counts.duplicate
        self.rejected += len(dead)
        for source, (ok, bad) in per_source.items():
            if source in self.health:
                self.health[source].counted(ok, bad)
        return per_source

    def _registry(self, drafts: list[Draft]) -> dict[str, tuple[str | None, str | None]]:
        serials = {
            d.data.get("serial")
            for d in drafts
            if d.data.get("schema") == "linemon.result/1"
            and (not d.data.get("product") or not d.data.get("work_order"))
        }
        serials.discard(None)
        return self.store.unit_products(s for s in serials if isinstance(s, str)) if serials else {}

    def _record(self, draft: Draft, known: dict[str, tuple[str | None, str | None]]) -> Record | Reject:
        """The draft as a validated record, with product and work order filled from the unit
        registry when the source did not name them; a reject keeps the input as it came."""
        fields = draft.data
        if None in fields.values():
            fields = {k: v for k, v in fields.items() if v is not None}
        if fields.get("schema") == "linemon.result/1" and not (
            fields.get("product") and fields.get("work_order")
        ):
            fields = dict(fields)  # the draft stays as it came
            serial = str(fields.get("serial") or "")
            product, wo = known.get(serial, (None, None))
            if not fields.get("work_order") and wo:
                fields["work_order"] = wo
            if not fields.get("product"):
                fields["product"] = product or self.plant.product_of_serial(serial)
                if not fields["product"]:
                    return Reject(
                        f"product of serial {serial!r} unknown: the source names none, the unit was not "
                        "registered (scan, WorkStarted) and no product's serial_prefix matches",
                        _raw(draft),
                    )
        try:
            rec = record_from_dict(fields)
        except RecordError as exc:
            return Reject(str(exc), _raw(draft))
        problem = plant_problem(rec, self.stations, self.products) or self._time_problem(rec.ts)
        if problem:
            return Reject(problem, _raw(draft))
        return self.plant.with_spec_limits(rec) if isinstance(rec, ResultRecord) else rec

    def _time_problem(self, ts: datetime) -> str | None:
        limits = self.plant.spec.ingest
        if ts > self.now + self.ahead:
            rule = f"more than [ingest] max_future_h = {limits.max_future_h:g} h ahead of"
        elif ts < self.now - self.behind:
            rule = f"more than [ingest] max_age_days = {limits.max_age_days:g} days before"
        else:
            return None
        return f"ts: {ts.isoformat()} is {rule} the ingest's clock ({self.now.isoformat(timespec='seconds')})"


def collect(
    inbox: queue.SimpleQueue[Batch | RawMessage | None], limit: int, max_wait_s: float, linger_s: float = 0.0
) -> list[Batch | RawMessage]:
    """What arrived: everything already queued (up to `limit` items), waiting at most
    `max_wait_s` for the first; a None in the queue ends the collection early.

    `linger_s`: once the first item is in, let more arrive, for as long as they keep coming but
    at most that long. Without it, a busy stream is taken one message at a time: every put wakes
    the waiting taker (a futex call and a GIL hand-over per message) and every message crosses
    on its own. Lingering stops as soon as the queue stops growing: a broker that holds back
    messages until the earlier ones are acknowledged (its in-flight window) sends nothing more,
    and waiting then would only delay the acknowledgements it waits for."""
    out: list[Batch | RawMessage] = []
    n = 0
    deadline = time.monotonic() + max_wait_s
    while n < limit:
        try:
            b = inbox.get(timeout=max(0.0, deadline - time.monotonic()) if not out else 0)
        except queue.Empty:
            if out or time.monotonic() >= deadline:
                break
            continue
        if b is None:
            break
        if not out and linger_s > 0:
            _settle(inbox, linger_s)
        out.append(b)
        n += len(b.items) if isinstance(b, Batch) else 1
    return out


def _settle(
    inbox: queue.SimpleQueue[Batch | RawMessage | None], most_s: float, step_s: float = 0.0005
) -> None:
    """Wait while the queue is still growing, at most `most_s`."""
    end = time.monotonic() + most_s
    size = inbox.qsize()
    while time.monotonic() < end:
        time.sleep(step_s)
        now = inbox.qsize()
        if now == size:
            return
        size = now


def streaming_gc() -> None:
    """Tune the cycle collector of a process that streams records, once it is set up.

    What exists by then (modules, the plant, pydantic's validators) lives as long as the process:
    frozen, the collector's full passes no longer walk it. A chunk of records in the making is
    thousands of live containers, which the default young-generation threshold (700
    allocations) scanned again and again: about 5 % of the writer's CPU on a busy stream (py-spy),
    none with the higher threshold. Records hold no reference cycles, so garbage is still freed
    at once by reference counting."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _raw(draft: Draft) -> bytes:
    return draft.raw or orjson.dumps(draft.data, default=str)
