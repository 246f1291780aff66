"""`linemon ingest`: every binding of the plant file into the store, until told to stop.

Start: one writer (this thread), one thread per serial binding, one MQTT client for all MQTT
bindings. Stop (SIGTERM, Ctrl-C, or `stop` set): sources stop first, the writer drains the queue
and flushes, the health rows say "stopped". MQTT messages not yet committed are not acknowledged,
so the broker delivers them again on the next start.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from drivers.ingest import Health
from drivers.mqtt_source import MqttSource
from drivers.serial_source import SerialSource
from drivers.writer_proc import WriterLink
from line.config import Plant
from line.config_model import BindingDef
from line.errors import LinemonError
from store.base import Store


@dataclass
class IngestOptions:
    ports: dict[str, str] = field(default_factory=dict)  # binding id -> port URL (overrides the file)
    mqtt_host: str | None = None
    mqtt_port: int | None = None
    only: list[str] = field(default_factory=list)  # binding ids; empty: all


def selected(plant: Plant, only: Iterable[str]) -> list[BindingDef]:
    wanted = list(only)
    ids = [b.id for b in plant.spec.bindings]
    unknown = [b for b in wanted if b not in ids]
    if unknown:
        raise LinemonError(
            f"--only: unknown binding {', '.join(unknown)} (the plant file has {', '.join(ids)})"
        )
    return [b for b in plant.spec.bindings if not wanted or b.id in wanted]


def run_ingest(plant: Plant, store: Store, opts: IngestOptions, stop: threading.Event) -> WriterLink:
    """Run until `stop`; `store` is this process's handle (health rows), the writer process
    opens its own from the same URL."""
    bindings = selected(plant, opts.only)
    unknown_ports = set(opts.ports) - {b.id for b in bindings if b.transport == "serial"}
    if unknown_ports:
        raise LinemonError(f"--port: no serial binding {', '.join(sorted(unknown_ports))} in the plant file")
    health = {b.id: Health(b.id) for b in bindings}
    health["mqtt"] = Health("mqtt")  # messages on no binding's topic
    link = WriterLink(plant.path, store.url, health)
    serials = [
        SerialSource(b, plant, link.put, health[b.id], opts.ports.get(b.id))
        for b in bindings
        if b.transport == "serial"
    ]
    mqtt_bindings = [b for b in bindings if b.transport == "mqtt"]
    broker = (
        MqttSource(mqtt_bindings, plant, link.put, health, opts.mqtt_host, opts.mqtt_port)
        if mqtt_bindings
        else None
    )
    if broker:
        link.ack = broker.ack
    for s in serials:
        s.start()
    if broker:
        broker.start()
    done = threading.Event()

    def stopper() -> None:
        stop.wait()
        for s in serials:
            s.close()
        if broker:
            broker.close()
        done.set()

    def health_writer() -> None:
        while not done.wait(2.0):
            store.put_health(h.snapshot() for h in health.values())

    threading.Thread(target=stopper, name="ingest-stopper", daemon=True).start()
    threading.Thread(target=health_writer, name="ingest-health", daemon=True).start()
    link.run(done)
    health["mqtt"].set("stopped")
    store.put_health(h.snapshot() for h in health.values())
    return link
