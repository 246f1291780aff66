"""The InfluxDB mirror: every result, state change and measurement the primary store holds, sent
to InfluxDB in the order stored, with its position kept in the primary store itself.

The position (the last row id sent, per table) is saved after InfluxDB accepted a batch, so an
InfluxDB outage, a restart or a killed process loses nothing: the mirror goes on from where it
was and catches up. A batch sent again after a crash between "accepted" and "position saved"
writes the same points (their identity comes from the records, `store.influx`), so nothing is
mirrored twice. Its health (connected / reconnecting, records sent, how far behind) is a source
row like the equipment's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from store.base import Store, StoreError
from store.influx import InfluxTarget, InfluxWriter, points_of

log = logging.getLogger("linemon.mirror")
TABLES = ("results", "states")


class Writer(Protocol):
    def write(self, points: list[Any]) -> None: ...

    def close(self) -> None: ...


class Status(Protocol):
    """What the mirror reports to (drivers.ingest.Health has it)."""

    def set(self, status: str, detail: str | None = None) -> None: ...

    def counted(self, stored: int, rejected: int) -> None: ...

    def error(self, detail: str) -> None: ...


class InfluxMirror:
    def __init__(self, store: Store, url: str, writer: Writer | None = None, batch: int = 5000) -> None:
        self.store, self.batch = store, batch
        self.target = InfluxTarget.parse(url)
        self.name = f"influx:{self.target.base_url}/{self.target.org}/{self.target.bucket}"
        self.writer: Writer = writer or InfluxWriter(self.target)

    def behind(self) -> int:
        """Records stored and not yet mirrored."""
        pos = self.store.mirror_position(self.name)
        last = self.store.last_rids()
        return sum(max(0, last.get(t, 0) - pos.get(t, 0)) for t in TABLES)

    def step(self) -> int:
        """Send the next batch of each table; how many records went (0: caught up). Raises
        StoreError when InfluxDB does not take them (the position stays)."""
        pos = self.store.mirror_position(self.name)
        sent = 0
        for table in TABLES:
            rows = self.store.records_after(table, pos.get(table, 0), self.batch)
            if not rows:
                continue
            self.writer.write(points_of(rows))
            pos[table] = rows[-1][0]
            self.store.put_mirror_position(self.name, pos)
            sent += len(rows)
        return sent

    def run(self, stop: threading.Event, status: Status, idle_s: float = 1.0) -> None:
        """Mirror until `stop`, waiting `idle_s` when caught up and backing off (1 s doubling to
        30 s) while InfluxDB is away. Never raises: an exception here would end the mirror
        silently."""
        wait = 1.0
        status.set("connecting", self.target.url)
        while not stop.is_set():
            try:
                sent = self.step()
            except StoreError as exc:
                status.error(str(exc))
                status.set("reconnecting", f"{exc}; {self._behind_text()}")
                stop.wait(wait)
                wait = min(30.0, wait * 2)
                continue
            except Exception as exc:  # a primary store error: say it, try again
                log.exception("mirror")
                status.error(f"{type(exc).__name__}: {exc}")
                stop.wait(wait)
                continue
            wait = 1.0
            status.counted(sent, 0)
            status.set("connected", f"{self.target.url}; {self._behind_text()}")
            if sent == 0:
                stop.wait(idle_s)
        self.writer.close()
        status.set("stopped", self._behind_text())

    def _behind_text(self) -> str:
        try:
            return f"{self.behind():,} records behind"
        except Exception:  # the primary store away as well
            return "position unknown"


def start_mirror(store_factory: Callable[[], Store], url: str, status: Status, stop: threading.Event) -> threading.Thread:
    """The mirror on a thread of its own, with its own store handle."""

    def main() -> None:
        store = store_factory()
        try:
            InfluxMirror(store, url).run(stop, status)
        finally:
            store.close()

    t = threading.Thread(target=main, name="influx-mirror", daemon=True)
    t.start()
    return t
