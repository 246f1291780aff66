"""The writer in a process of its own, so parsing, validation and SQLite do not share the
network thread's interpreter lock (on a busy MQTT stream that doubles the rate).

The ingest process keeps the sources (paho, serial threads) and forwards what they receive:
raw MQTT messages (parsed here, off the network thread) and parsed serial batches. The writer
process commits each chunk and answers with the MQTT acknowledgements to send and the counts
per source. If the ingest process dies, the pipe closes: the writer commits what it has and
exits; those messages were never acknowledged, so the broker delivers them again and their ids
make them duplicates.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from drivers.cfx import PanelBook
from drivers.ingest import Batch, Health, RawMessage, Writer, collect, mqtt_items, streaming_gc
from drivers.items import Reject
from line.clock import Clock, SystemClock
from line.config import load_plant
from line.errors import LinemonError
from store.base import Store, StoreUnavailable, open_store

log = logging.getLogger("linemon.writer")
Chunk = list[Batch | RawMessage] | list[Batch | tuple[str, str, bytes, int, int]]
MAX_QUEUED = 50_000
MERGE_UP_TO = 5_000  # items per commit at most
LINGER_S = 0.005  # the forwarder lets a busy stream gather this long per chunk


def _child(conn: Connection, plant_path: str, store_url: str, clock: Clock) -> None:
    # Ctrl-C on a terminal, `timeout` and systemd signal the whole process group: the ingest
    # process alone decides when the writer stops (it sends None, or its end of the pipe closes)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        plant = load_plant(plant_path)
        store = open_store(store_url)
    except LinemonError as exc:  # the ingest process says it and stops
        conn.send(("failed", str(exc)))
        return
    writer = Writer(store, plant, health={}, clock=clock)
    streaming_gc()
    conn.send(("ready",))
    bindings = {b.id: b for b in plant.spec.bindings}
    panels = {b.id: PanelBook() for b in plant.spec.bindings if b.format == "cfx"}  # per binding, in memory
    next_purge = 0.0
    try:
        last = False
        while not last:
            if time.time() >= next_purge:  # dead letters are kept [store] dead_letter_days, then go
                with contextlib.suppress(StoreUnavailable):  # next time, then
                    _purge(store, plant.spec.store.dead_letter_days)
                next_purge = time.time() + PURGE_EVERY_S
            chunk, last = _gather(conn)
            if not chunk:
                break
            now = clock.now()
            counts = _commit_patiently(writer, [_batch(m, bindings, plant, now, panels) for m in chunk])
            try:
                conn.send(("done", _acks(chunk), counts, [m.token for m in chunk if isinstance(m, Batch) and m.token]))
            except (BrokenPipeError, OSError):
                break
        with contextlib.suppress(BrokenPipeError, OSError):  # the ingest process may be gone
            conn.send(("final", writer.stored, writer.duplicates, writer.rejected))
    finally:
        store.close()


PURGE_EVERY_S = 3600.0


def _commit_patiently(writer: Writer, batches: list[Batch]) -> dict[str, list[int]]:
    """Commit, and while the store's server is away (a PostgreSQL restart or failover) try again
    every 1 s, doubling to 30 s: nothing is acknowledged meanwhile, so nothing is lost, and the
    service goes on by itself when the server is back. Writes are idempotent by record id."""
    wait = 1.0
    while True:
        try:
            return writer.commit(batches)
        except StoreUnavailable as exc:
            log.warning("%s; trying again in %g s (nothing is acknowledged meanwhile)", exc, wait)
            time.sleep(wait)
            wait = min(30.0, wait * 2)


def _purge(store: Store, days: float) -> None:
    """Forget dead letters received (wall clock, as they are stamped) more than `days` ago."""
    gone = store.purge_dead_letters(datetime.now(UTC) - timedelta(days=days))
    if gone:
        log.info("dead letters older than %g days removed: %d", days, gone)


def _gather(conn: Connection, most: int = MERGE_UP_TO) -> tuple[Chunk, bool]:
    """The next chunk merged with every chunk already waiting in the pipe (up to `most` items),
    and whether the sender has finished. Under load the forwarder sends small chunks as they
    come; a commit costs a dozen statements whatever its size, so one commit per 10 records
    took 4x the CPU per record of one per 1000. Idle, nothing waits: the latency stays the same."""
    out: Chunk = []
    try:
        while True:
            part: Chunk | None = conn.recv()
            if part is None:
                return out, True
            out += part
            if len(out) >= most or not conn.poll(0):
                return out, False
    except EOFError:  # the ingest process is gone: store what arrived
        return out, True


def _batch(
    m: Batch | tuple[str, str, bytes, int, int],
    bindings: dict[str, Any],
    plant: Any,
    now: datetime,
    panels: dict[str, PanelBook] | None = None,
) -> Batch:
    """A parsed serial batch as it is, or a raw MQTT message (the fields of `RawMessage`) parsed
    here."""
    if isinstance(m, Batch):
        return m
    source, topic, payload, _mid, _qos = m
    if source not in bindings:  # the intake found no binding for the topic
        return Batch(source, topic, [Reject(f"topic {topic} matches no binding", payload)])
    return Batch(source, topic, mqtt_items(bindings[source], plant, topic, payload, now, (panels or {}).get(source)))


def _acks(chunk: Chunk) -> list[tuple[int, int]]:
    """The MQTT acknowledgements a committed chunk owes: every QoS 1/2 message in it, stored or
    dead-lettered."""
    return [(m[3], m[4]) for m in chunk if not isinstance(m, Batch) and m[4] > 0]


class WriterLink:
    """The ingest process's end: a bounded inbox the sources put into, a forwarder thread and a
    reply reader that sends MQTT acknowledgements and counts per source."""

    def __init__(
        self,
        plant_path: str,
        store_url: str,
        health: dict[str, Health],
        chunk: int = 1000,
        clock: Clock | None = None,
    ) -> None:
        self.health, self.chunk = health, chunk
        self.inbox: queue.SimpleQueue[Batch | RawMessage | None] = queue.SimpleQueue()
        self.ack: Callable[[list[tuple[int, int]]], None] = lambda acks: None
        self.committed: Callable[[list[str]], None] = lambda tokens: None  # batches' tokens, once stored
        self.stored = self.duplicates = self.rejected = 0
        self.failed: str | None = None
        ctx = mp.get_context("spawn")
        self._conn, child_end = ctx.Pipe()
        self.proc = ctx.Process(
            target=_child,
            args=(child_end, plant_path, store_url, clock or SystemClock()),
            name="linemon-writer",
            daemon=True,
        )
        self.proc.start()
        child_end.close()
        self._await_ready()
        self._replies = threading.Thread(target=self._read_replies, name="writer-replies", daemon=True)
        self._replies.start()

    def _await_ready(self, timeout_s: float = 120.0) -> None:
        """Return once the writer process can store (its imports and opening the store take a
        second or two), so the sources start then: nothing piles up meanwhile, and a writer that
        cannot start is an error at start-up, not a stream of unacknowledged messages."""
        reply: tuple[str, ...] = ("timeout",)
        if self._conn.poll(timeout_s):
            try:
                reply = self._conn.recv()
            except EOFError:
                self.proc.join(5)
                reply = ("failed", f"it ended at start-up (exit code {self.proc.exitcode})")
        if reply[0] == "ready":
            return
        self.proc.kill()
        detail = reply[1] if reply[0] == "failed" else f"not ready after {timeout_s:g} s"
        raise LinemonError(f"the ingest's writer process: {detail}")

    def put(self, item: Batch | RawMessage) -> None:
        """From the sources' threads. Past `MAX_QUEUED` items the caller waits, so a writer that
        falls behind slows the network reads (and the broker) instead of growing memory."""
        while self.inbox.qsize() > MAX_QUEUED:
            time.sleep(0.01)
        self.inbox.put(item)

    def run(self, done: threading.Event) -> None:
        """Forward until `done` is set and the inbox is empty, then let the writer finish.

        The forwarding runs on a thread of its own and the caller waits by Thread.join: the
        forwarder waits on a queue.SimpleQueue with a timeout, and on CPython 3.11 a signal that
        interrupts that wait can turn the timeout into "forever" (its C code does not check for
        a deadline already past). Signals interrupt the main thread, so SIGTERM hung
        `linemon ingest`; Thread.join's lock handles the interruption correctly."""
        forwarder = threading.Thread(target=self._forward, args=(done,), name="writer-forwarder", daemon=True)
        forwarder.start()
        while forwarder.is_alive():
            forwarder.join(0.5)
        self._replies.join(60)
        self.proc.join(30)

    def _forward(self, done: threading.Event) -> None:
        try:
            while True:
                chunk = collect(self.inbox, self.chunk, 0.05, LINGER_S)
                if chunk:  # messages as plain tuples: a named tuple pickles through a Python call
                    self._conn.send([m if isinstance(m, Batch) else tuple(m) for m in chunk])
                elif done.is_set() and self.inbox.empty():
                    break
            self._conn.send(None)
        except OSError:  # nothing acknowledged is lost: the broker keeps what was not stored
            self.failed = f"the writer process ended unexpectedly (exit code {self.proc.exitcode})"
            log.error("%s; records received since its last commit were not stored", self.failed)

    def _read_replies(self) -> None:
        while True:
            try:
                reply = self._conn.recv()
            except (EOFError, OSError):
                return
            if reply[0] == "final":
                self.stored, self.duplicates, self.rejected = reply[1:]
                return
            _, acks, counts, tokens = reply
            try:
                self.ack(acks)
            except Exception:  # a lost connection: the broker redelivers, the id dedupes
                log.warning("could not acknowledge %d messages", len(acks))
            if tokens:
                try:
                    self.committed(tokens)
                except Exception:  # a file left in its folder is read again: its ids dedupe
                    log.exception("after committing %d files", len(tokens))
            for source, (ok, bad) in counts.items():
                if source in self.health:
                    self.health[source].counted(ok, bad)
