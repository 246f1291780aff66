"""The twin's equipment ends: serial ports (pty pairs) the ingest opens as if they were the
plant's USB adapters, aging racks answering the ingest's polls, and the MQTT publisher.

Each serial port has its own thread, so a slow reader never stalls the simulation; each end
says how much it still holds, so the twin can drain the chain before it stops.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
from collections import deque
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from drivers.emulate_io import PtyPort, answer_polls
from drivers.mqtt_source import LocalBus
from line.config_model import FormatDef
from line.errors import LinemonError

log = logging.getLogger("linemon.twin")


class PtyWriter:
    """Bytes for one serial binding, written in order once the ingest has opened the port."""

    def __init__(self, binding: str, link: str | None = None) -> None:
        self.binding = binding
        self.port = PtyPort(link)
        self.queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name=f"twin-{binding}", daemon=True)
        self._stop = threading.Event()

    @property
    def path(self) -> str:
        return self.port.path

    def start(self) -> None:
        self._thread.start()

    def put(self, data: bytes) -> None:
        self.queue.put(data)

    def pending(self) -> int:
        return self.queue.qsize()

    def _run(self) -> None:
        if not self.port.wait_for_reader(self._stop):
            return
        while True:
            data = self.queue.get()
            if data is None:
                return
            try:
                self.port.write(data)
                self.sent += 1
            except OSError as exc:
                log.warning("%s: cannot write to %s (%s)", self.binding, self.port.path, exc)

    def close(self) -> None:
        self._stop.set()
        self.queue.put(None)
        self._thread.join(5)
        self.port.close()


@dataclass
class _Slot:
    serial: str
    verdict: bool | None = None  # None: still aging
    reported: bool = False


class TwinRack:
    """An aging-rack controller whose slots the simulation fills: a unit is loaded when it
    starts aging, shows RUN with a temperature, shows OK/NG once its verdict is in, and the slot
    is emptied once the ingest has read the verdict. Units wait for a free slot if the ingest
    has not yet collected the previous occupant's verdict."""

    def __init__(self, binding: str, fmt: FormatDef, slots: int, terminator: str, seed: int) -> None:
        self.binding, self.fmt, self.slots, self.terminator = binding, fmt, slots, terminator
        self.port = PtyPort()
        self.rng = random.Random(seed)
        self.slot: dict[int, _Slot] = {}
        self.where: dict[str, int] = {}  # serial -> slot
        self.waiting: deque[_Slot] = deque()
        self.next_free = 1
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"twin-{binding}", daemon=True)

    @property
    def path(self) -> str:
        return self.port.path

    def start(self) -> None:
        self._thread.start()

    def load(self, serial: str) -> None:
        with self.lock:
            self._place(_Slot(serial))

    def verdict(self, serial: str, passed: bool) -> None:
        with self.lock:
            n = self.where.get(serial)
            if n is not None:
                self.slot[n].verdict = passed
                return
            for s in self.waiting:
                if s.serial == serial:
                    s.verdict = passed
                    return
            self._place(_Slot(serial, passed))  # judged without a load seen: report it anyway

    def pending(self) -> int:
        """Verdicts the ingest has not read yet."""
        with self.lock:
            held = [s for s in self.slot.values() if s.verdict is not None and not s.reported]
            return len(held) + sum(1 for s in self.waiting if s.verdict is not None)

    def _place(self, s: _Slot) -> None:
        for i in range(self.slots):
            n = (self.next_free - 1 + i) % self.slots + 1
            if n not in self.slot:
                self.slot[n], self.where[s.serial] = s, n
                self.next_free = n % self.slots + 1
                return
        self.waiting.append(s)

    def answer(self, request: bytes) -> bytes | None:
        digits = "".join(c for c in request.decode("ascii", "replace") if c.isdigit())
        if not digits:
            return None
        n = int(digits)
        with self.lock:
            s = self.slot.get(n)
            if s is None or s.reported:
                if s is not None:  # its verdict was read: unload, and load a waiting unit
                    del self.slot[n]
                    if self.where.get(s.serial) == n:
                        del self.where[s.serial]
                    if self.waiting:
                        self._place(self.waiting.popleft())
                return f"R01S{n:02d},,0.0,{self.fmt.empty_tokens[0]}".encode()
            if s.verdict is None:
                token = self.fmt.running_tokens[0]
            else:
                token = self.fmt.pass_tokens[0] if s.verdict else self.fmt.fail_tokens[0]
                s.reported = True
        return f"R01S{n:02d},{s.serial},{self.rng.uniform(44.0, 46.0):.1f},{token}".encode()

    def _run(self) -> None:
        if self.port.wait_for_reader(self._stop):
            answer_polls(self.port, self.answer, self.terminator, self._stop.is_set)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.port.close()


class BrokerPublisher:
    """QoS 1 to the broker; `pending()` counts messages the broker has not acknowledged yet."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.published = self.acked = 0
        self.client.on_publish = self._on_publish
        try:
            self.client.connect(host, port)
        except OSError as exc:
            raise LinemonError(f"MQTT broker {host}:{port}: cannot connect ({exc})") from None
        self.client.loop_start()

    def _on_publish(self, *_args: object) -> None:
        self.acked += 1

    def publish(self, topic: str, payload: bytes) -> None:
        self.published += 1
        self.client.publish(topic, payload, qos=1)

    def pending(self) -> int:
        return self.published - self.acked

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LocalPublisher:
    """Without a broker: messages go straight into the ingest's MQTT intake, in this process."""

    def __init__(self, bus: LocalBus) -> None:
        self.bus = bus

    def publish(self, topic: str, payload: bytes) -> None:
        self.bus.publish(topic, payload)

    def pending(self) -> int:
        return 0

    def close(self) -> None:
        """Nothing to close: the bus belongs to the ingest."""
