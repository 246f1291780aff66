"""`linemon ingest`: every binding of the plant file into the store, until told to stop.

Start: one writer (this thread), one thread per serial binding, one MQTT client for all MQTT
bindings. Stop (SIGTERM, Ctrl-C, or `stop` set): sources stop first, the writer drains the queue
and flushes, the health rows say "stopped". MQTT messages not yet committed are not acknowledged,
so the broker delivers them again on the next start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from drivers.file_source import FileSource
from drivers.ingest import Health
from drivers.mqtt_source import LocalBus, MqttSource, check_settings, probe_broker
from drivers.serial_source import SerialSource
from drivers.writer_proc import WriterLink
from line.clock import Clock, SystemClock
from line.config import Plant
from line.config_model import BindingDef
from line.errors import LinemonError
from line.status import MIRROR_SOURCE
from store.base import Store, StoreError, open_store
from store.influx import InfluxTarget
from store.mirror import start_mirror

log = logging.getLogger("linemon.ingest")


@dataclass
class IngestOptions:
    ports: dict[str, str] = field(default_factory=dict)  # binding id -> port URL (overrides the file)
    mqtt_host: str | None = None
    mqtt_port: int | None = None
    only: list[str] = field(default_factory=list)  # binding ids; empty: all
    clock: Clock = field(default_factory=SystemClock)  # the plant's clock (the twin's runs faster)
    local_bus: bool = False  # MQTT bindings fed in-process (LocalBus) instead of from a broker
    mirror: str | None = None  # an InfluxDB to mirror the store to (else the plant file's [store] mirror)


def selected(plant: Plant, only: Iterable[str]) -> list[BindingDef]:
    wanted = list(only)
    ids = [b.id for b in plant.spec.bindings]
    unknown = [b for b in wanted if b not in ids]
    if unknown:
        raise LinemonError(
            f"--only: unknown binding {', '.join(unknown)} (the plant file has {', '.join(ids)})"
        )
    return [b for b in plant.spec.bindings if not wanted or b.id in wanted]


class IngestService:
    """Every selected binding into the store. `start()` opens the sources, `run(stop)` writes
    until `stop` and then drains; `mqtt` is the MQTT intake (a LocalBus to publish into when
    `local_bus` is set). `store` is this process's handle (health rows); the writer process
    opens its own from the same URL."""

    def __init__(self, plant: Plant, store: Store, opts: IngestOptions) -> None:
        bindings = selected(plant, opts.only)
        unknown_ports = set(opts.ports) - {b.id for b in bindings if b.transport in ("serial", "file")}
        if unknown_ports:
            raise LinemonError(
                f"--port: no serial or file binding {', '.join(sorted(unknown_ports))} in the plant file"
            )
        self.store = store
        window = plant.spec.alarms.reject_window_min
        self.health = {b.id: Health(b.id, opts.clock, window) for b in bindings}
        on_mqtt = [b for b in bindings if b.transport == "mqtt"]
        if on_mqtt:  # messages on no binding's topic
            self.health["mqtt"] = Health("mqtt", opts.clock, window)
        if on_mqtt and not opts.local_bus:
            cfg = plant.spec.mqtt  # before any process starts: a clear error, then exit
            check_settings(cfg)
            note = probe_broker(cfg, opts.mqtt_host or cfg.host, opts.mqtt_port or cfg.port)
            if note:
                log.warning("mqtt: %s", note)
        self.link = WriterLink(plant.path, store.url, self.health, clock=opts.clock)
        self.serials = [
            SerialSource(b, plant, self.link.put, self.health[b.id], opts.ports.get(b.id), opts.clock)
            for b in bindings
            if b.transport == "serial"
        ]
        self.files = [
            FileSource(b, plant, self.link.put, self.health[b.id], opts.ports.get(b.id), opts.clock)
            for b in bindings
            if b.transport == "file"
        ]
        self.link.committed = self._committed
        self.mirror = opts.mirror or plant.spec.store.mirror
        if self.mirror:
            InfluxTarget.parse(self.mirror)  # a bad URL is an error at start-up
            self.health[MIRROR_SOURCE] = Health(MIRROR_SOURCE, opts.clock, window)
        self.mqtt: MqttSource | LocalBus | None = None
        if on_mqtt and opts.local_bus:
            self.mqtt = LocalBus(on_mqtt, self.link.put, self.health)
        elif on_mqtt:
            self.mqtt = MqttSource(on_mqtt, plant, self.link.put, self.health, opts.mqtt_host, opts.mqtt_port)
        if self.mqtt is not None:
            self.link.ack = self.mqtt.ack

    def _committed(self, tokens: list[str]) -> None:
        for f in self.files:
            f.committed(tokens)

    def start(self) -> None:
        for s in self.serials:
            s.start()
        for f in self.files:
            f.start()
        if self.mqtt is not None:
            self.mqtt.start()

    def counted(self) -> int:
        """Records the writer has committed (stored or found duplicate) or dead-lettered so far."""
        return sum(h.stored + h.rejected for h in self.health.values())

    def run(self, stop: threading.Event) -> WriterLink:
        done = threading.Event()

        def stopper() -> None:
            stop.wait()
            for s in self.serials:
                s.close()
            for f in self.files:
                f.stop()  # files handed over and not yet committed stay in the folder
            if self.mqtt is not None:
                self.mqtt.pause()  # closed once what it took is committed and acknowledged
            done.set()

        def health_writer() -> None:
            said = None
            while not done.wait(2.0):
                try:
                    self.store.put_health(h.snapshot() for h in self.health.values())
                    said = None
                except StoreError as exc:  # the store away (the writer says it and waits too)
                    if str(exc) != said:
                        log.warning("writing the sources' health: %s", exc)
                    said = str(exc)
                except Exception:  # a busy store must not end the health rows for good
                    log.exception("writing the sources' health")

        threading.Thread(target=stopper, name="ingest-stopper", daemon=True).start()
        mirror, mirror_stop = None, threading.Event()
        if self.mirror:  # stopped after the writer has drained: what it stored last is mirrored too
            url = self.store.url
            mirror = start_mirror(lambda: open_store(url), self.mirror, self.health[MIRROR_SOURCE], mirror_stop)
        threading.Thread(target=health_writer, name="ingest-health", daemon=True).start()
        self.link.run(done)  # waits by Thread.join: safe on the main thread, where SIGTERM lands
        if self.mqtt is not None:
            self.mqtt.close()
        mirror_stop.set()
        if mirror is not None:
            mirror.join(35)  # a write in progress times out in 30 s
        self.store.put_health(h.snapshot() for h in self.health.values())
        return self.link


def run_ingest(plant: Plant, store: Store, opts: IngestOptions, stop: threading.Event) -> WriterLink:
    """Run until `stop`, then drain and return the writer's final counts."""
    service = IngestService(plant, store, opts)
    service.start()
    return service.run(stop)
