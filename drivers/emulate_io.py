"""`linemon emulate BINDING`: run a binding's emulator onto a pty it creates (printing its path),
a serial port URL, or the MQTT broker, at a given rate, for a count or until stopped."""

from __future__ import annotations

import contextlib
import os
import random
import select
import termios
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from drivers.emulate import (
    EmuUnit,
    RackEmulator,
    cfx_inspected,
    native_message,
    random_units,
    scanner_frame,
    unit_frame,
)
from line.config import Plant
from line.config_model import BindingDef
from line.errors import LinemonError


class PtyPort:
    """The device side of a pseudo-terminal; the ingest opens `path` (or the stable `link`)."""

    def __init__(self, link: str | None = None) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self.initial = termios.tcgetattr(self.slave)  # before anyone can open it
        self.link = link
        if link:
            tmp = f"{link}.tmp{os.getpid()}"
            os.symlink(self.path, tmp)
            os.replace(tmp, link)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_for_reader(self, stop: threading.Event) -> bool:
        """Wait until a program opens the port: pyserial sets the line settings when it opens,
        and bytes written before that would be flushed away (so none are sent before)."""
        while not stop.is_set():
            if termios.tcgetattr(self.slave) != self.initial:
                return True
            stop.wait(0.05)
        return False

    def read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        return os.read(self.master, 4096) if ready else b""

    def close(self) -> None:
        for fd in (self.slave, self.master):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.link:
            Path(self.link).unlink(missing_ok=True)


def emulate_serial(
    plant: Plant,
    b: BindingDef,
    port: PtyPort,
    stop: threading.Event,
    rate: float,
    count: int | None,
    seed: int,
) -> int:
    """Write frames (or answer polls) until `count` units or `stop`; returns units sent."""
    rng = random.Random(seed)
    fmt = plant.spec.formats[b.format]
    units = random_units(plant, b.station_id, rng)
    if fmt.type == "poll":
        rack = RackEmulator(fmt, plant.station(b.station_id).slots or 1, units)

        def done() -> bool:
            return stop.is_set() or (count is not None and len(rack.finished) >= count)

        answer_polls(port, lambda req: rack.answer(req, rng), b.terminator, done)
        return len(rack.finished)
    sent = 0
    for u in paced(units, stop, rate, count):
        port.write(scanner_frame(fmt, b, u) if "result" not in fmt.fields else unit_frame(fmt, b, u, rng))
        sent += 1
    return sent


def answer_polls(
    port: PtyPort, answer: Callable[[bytes], bytes | None], terminator: str, done: Callable[[], bool]
) -> None:
    """Be the polled device: each request (ended by CR or LF) gets `answer`'s reply, ended the
    binding's way, until `done()`."""
    end = b"\r" if terminator == "CR" else b"\r\n"
    buf = b""
    while not done():
        buf += port.read(0.2)
        while b"\r" in buf or b"\n" in buf:
            cut = min(i for i in (buf.find(b"\r"), buf.find(b"\n")) if i >= 0)
            request, buf = buf[:cut], buf[cut + 1 :]
            reply = answer(request)
            if reply is not None:
                port.write(reply + end)


def paced(
    units: Iterator[EmuUnit], stop: threading.Event, rate: float, count: int | None
) -> Iterator[EmuUnit]:
    """Units at `rate` per second (0: as fast as possible) until `count` or `stop`."""
    n = 0
    while not stop.is_set() and (count is None or n < count):
        yield next(units)
        n += 1
        stop.wait(1.0 / rate if rate > 0 else 0)


def emulate_mqtt(
    plant: Plant,
    b: BindingDef,
    host: str,
    port: int,
    stop: threading.Event,
    rate: float,
    count: int | None,
    seed: int,
) -> int:
    rng = random.Random(seed)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"linemon-emulate-{b.id}-{os.getpid()}")
    try:
        client.connect(host, port)
    except OSError as exc:
        raise LinemonError(f"MQTT broker {host}:{port}: cannot connect ({exc})") from None
    client.loop_start()
    sent = 0
    units = random_units(plant, b.station_id, rng)
    try:
        for u in paced(units, stop, rate, count):
            now = datetime.now(UTC)
            if b.format == "cfx":
                topic, payload = cfx_inspected(b, u, now, b.equipment or f"Emu.{b.station_id}.01")
            else:
                topic, payload = native_message(plant, b, u, now, b.equipment or f"{b.station_id}-01")
            client.publish(topic, payload, qos=1).wait_for_publish(10)
            sent += 1
    finally:
        client.disconnect()
        client.loop_stop()
    return sent
