"""The serial I/O shell: open the port by URL, read, frame, parse, hand batches to the writer.

It survives the real world: a port that is missing at start or vanishes (unplugged) is reopened
with back-off (0.5 s doubling to 10 s), and the source's health says so. Line formats are read as
the device talks; a poll format (aging racks) asks slot by slot every `poll_s`. Serial has no
acknowledgement: a frame is safe once the writer has committed it, which happens within
`max_wait_s` (0.1 s) of reading it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import serial

from drivers.aging import RackPoller
from drivers.framing import Framer
from drivers.ingest import Batch, Health, Item
from drivers.items import Parsed, Registration, Reject
from drivers.lineformat import Context, Debouncer, parse_frame
from line.clock import Clock, SystemClock
from line.config import Plant
from line.config_model import BindingDef, FormatDef

log = logging.getLogger("linemon.serial")
STOPBITS = {1: serial.STOPBITS_ONE, 1.5: serial.STOPBITS_ONE_POINT_FIVE, 2: serial.STOPBITS_TWO}


class SerialSource:
    def __init__(
        self,
        binding: BindingDef,
        plant: Plant,
        put: Callable[[Batch], None],
        health: Health,
        port: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`clock` stamps frames that carry no time; its factor also speeds up the polls and the
        debounce window, which are plant times (the line twin runs the plant faster)."""
        self.b, self.plant, self.put, self.health = binding, plant, put, health
        self.clock: Clock = clock or SystemClock()
        self.url = port or binding.port or ""
        self.fmt: FormatDef = plant.spec.formats[binding.format]
        self.line = plant.station(binding.station_id).line
        slots = plant.station(binding.station_id).slots or 1
        self.poller = RackPoller(self.fmt, slots) if self.fmt.type == "poll" else None
        self.debounce = Debouncer(self.fmt.debounce_s / self.clock.factor) if self.fmt.debounce_s else None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"serial-{binding.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)

    def _open(self) -> serial.SerialBase:
        return serial.serial_for_url(
            self.url,
            baudrate=self.b.baudrate,
            bytesize=self.b.bytesize,
            parity=self.b.parity,
            stopbits=STOPBITS.get(self.b.stopbits, serial.STOPBITS_ONE),
            timeout=0.2,
        )

    def _run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            try:
                port = self._open()
            except (serial.SerialException, OSError, ValueError) as exc:
                self.health.set("reconnecting", f"{self.url}: cannot open ({exc}); retry in {backoff:g} s")
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self.health.set("connected", self.url)
            backoff = 0.5
            framer = Framer(self.b.terminator, self.fmt.checksum)
            try:
                self._read(port, framer)
            except (serial.SerialException, OSError) as exc:
                self.health.set("reconnecting", f"{self.url}: lost ({exc})")
                self.health.error(f"{self.url}: {exc}")
            except Exception as exc:  # a bug must not kill the source silently: log, count, reopen
                log.exception("%s: unexpected error", self.b.id)
                self.health.error(f"{self.url}: unexpected {type(exc).__name__}: {exc}")
            finally:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
                cut = framer.flush()  # a frame the lost port cut short is kept, as partial
                if cut:
                    self.put(Batch(self.b.id, self.url, [Reject(reason, raw) for raw, reason in cut]))
            self.stop.wait(0.2)
        self.health.set("stopped")

    def _read(self, port: serial.SerialBase, framer: Framer) -> None:
        if self.poller is not None:
            self._poll(port, framer)
            return
        while not self.stop.is_set():
            chunk = port.read(max(1, port.in_waiting))
            if chunk:
                self._frames(framer, chunk)

    def _poll(self, port: serial.SerialBase, framer: Framer) -> None:
        assert self.poller is not None
        every = (self.fmt.poll_s or 60.0) / self.clock.factor
        while not self.stop.is_set():
            started = time.monotonic()
            for slot in range(1, self.poller.slots + 1):
                if self.stop.is_set():
                    return
                port.write(self.poller.request(slot))
                port.write(b"\r" if self.b.terminator in ("CR", "CRLF") else b"\n")
                self._await_answer(port, framer, time.monotonic() + 1.0)
            self.stop.wait(max(0.0, every - (time.monotonic() - started)))

    def _await_answer(self, port: serial.SerialBase, framer: Framer, deadline: float) -> None:
        """Read until the controller's answer (a complete frame) or the deadline."""
        while time.monotonic() < deadline:
            if self._frames(framer, port.read(max(1, port.in_waiting))):
                return

    def _frames(self, framer: Framer, chunk: bytes) -> int:
        """Frame, parse and hand over; returns how many frames were complete."""
        if not chunk:
            return 0
        frames, bad = framer.feed(chunk)
        items: list[Item] = [Reject(reason, raw) for raw, reason in bad]
        now = self.clock.now()
        for f in frames:
            self.health.message()
            ctx = Context(self.b, self.line, self.plant.tz, now)
            parsed = self.poller.on_response(f, ctx) if self.poller else parse_frame(f, self.fmt, ctx)
            items += self._debounced(parsed)
        if items:
            self.put(Batch(self.b.id, self.url, items))
        return len(frames)

    def _debounced(self, parsed: Parsed) -> list[Item]:
        if self.debounce is None:
            return parsed.items
        t = time.monotonic()
        return [
            i
            for i in parsed.items
            if not (isinstance(i, Registration) and self.debounce.repeated(i.serial, t))
        ]
