"""`linemon run`: the line twin. The simulator plays the reference plan on the plant's own clock,
accelerated; its stations act through the equipment paths of the plant file (serial ports as pty
pairs, aging racks answering polls, MQTT native and IPC-CFX through a private mosquitto) into the
ingest service, which writes the store the dashboard reads.

One process holds the simulation, the emulated equipment, the ingest's sources and the
dashboard's web server (threads); the ingest's writer and mosquitto are its child processes.
Stop: the simulation stops, the chain drains (every record sent is counted by the ingest), the
ingest stops, then the broker and the web server.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import simpy

from drivers.mqtt_source import LocalBus
from drivers.service import IngestOptions, IngestService
from line.calendar import merge, scheduled_intervals, week_start
from line.clock import HEARTBEAT_S, ScaledClock, StoredClock
from line.config import Plant
from line.errors import ConfigError, LinemonError
from linemon.broker import Broker, mosquitto_path
from linemon.twin.channels import BrokerPublisher, LocalPublisher, PtyWriter, TwinRack
from linemon.twin.routes import Delivery, Publish, RackLoad, RackVerdict, Router, Write, WriteFile
from linemon.twin.sink import TwinSink
from sim.continuous import rolling_plan
from sim.engine import Simulation
from sim.measures import MeasureModel
from sim.network import FpyDrift
from sim.plan import load_plan, plan_problems
from store.base import Store

log = logging.getLogger("linemon.twin")
LIVE_WEEKS = 52  # the plan is repeated for a year of plant time
DRAIN_S = 60.0


@dataclass
class TwinOptions:
    plan: str = "config/plans/jincheon-week.toml"
    speed: float = 60.0  # plant seconds per wall-clock second
    history_days: float = 14.0  # simulated before now (from a week's start), written to an empty store
    hours: float | None = None  # plant hours to play live, then stop the plant (None: until stopped)
    seed: int = 2611
    broker: str = "auto"  # auto: a private mosquitto if installed; none: the in-process bus
    drift: tuple[str, str, float] | None = ("FF-50", "FCT", 0.82)  # product, station, FPY it drifts to
    workdir: Path | None = None
    log_every_s: float = 10.0
    start: datetime | None = None  # the plant time to go live at (None: the wall clock's now)
    load: float | None = 0.8  # each week's orders fill this share of its capacity (None: the plan as written)


def next_scheduled(plant: Plant, t: datetime) -> datetime:
    """`t` if the plant works then, else the start of its next scheduled time (within two weeks):
    a twin started on a Sunday evening goes live with Monday's first shift, not a dark plant."""
    spans = merge(
        scheduled_intervals(plant.spec.calendar, plant.tz, t - timedelta(days=1), t + timedelta(days=14))
    )
    for a, b in spans:
        if b > t:
            return max(a, t)
    return t


def _replayed(records: list[Any]) -> None:
    """Where a restarted twin's replay of the week so far goes: nowhere (it is stored already)."""


class TwinClock:
    """The plant's clock while the twin runs (scaled), frozen once the plant stops."""

    def __init__(self, scaled: ScaledClock) -> None:
        self.scaled = scaled
        self.frozen: datetime | None = None

    @property
    def factor(self) -> float:
        return self.scaled.factor

    def now(self) -> datetime:
        return self.frozen or self.scaled.now()

    def at(self, epoch: float) -> datetime:
        return self.scaled.at(epoch)


class Twin:
    def __init__(self, plant: Plant, store: Store, opts: TwinOptions, now: datetime | None = None) -> None:
        self.plant, self.store, self.opts = plant, store, opts
        if opts.speed <= 0:
            raise LinemonError(f"--speed must be > 0, got {opts.speed}")
        if opts.load is not None and not 0 < opts.load <= 1:
            raise LinemonError(f"--load must be in (0, 1], got {opts.load}")
        wall = now or opts.start or datetime.now(UTC)
        last = store.last_data_time()
        empty = last is None
        live_from = wall if empty or last is None else max(wall, last + timedelta(seconds=1))
        live_from = next_scheduled(plant, live_from)
        # the plan is released on Mondays: an empty store's history begins at a week's start; a
        # store with data goes on with this week's plan, replayed since Monday (its records are
        # in the store already, the replay stores nothing) so work orders keep their names and
        # windows and are not released twice
        self.start = live_from
        if not empty:
            self.start = week_start(plant.spec.calendar, plant.tz, live_from)
        elif opts.history_days > 0:
            self.start = week_start(
                plant.spec.calendar, plant.tz, live_from - timedelta(days=opts.history_days)
            )
        self.history_s = (live_from - self.start).total_seconds()
        self.history_stored = empty
        plan = load_plan(opts.plan)
        problems = plan_problems(plan, plant)
        if problems:
            raise ConfigError(opts.plan, problems)
        weeks = math.ceil(self.history_s / (7 * 86400)) + LIVE_WEEKS
        rolling = rolling_plan(
            plant, plan, self.start, weeks, self._drifts(live_from), opts.plan, opts.load
        )
        net, self.orders = rolling.network, rolling.orders
        self.router = Router(plant, random.Random(opts.seed + 1))
        problems = self.router.problems()
        if problems:
            raise LinemonError("the twin cannot send every record to the ingest:\n  " + "\n  ".join(problems))
        self.sink = TwinSink(
            self.start,
            store.write if empty else _replayed,
            self.router,
            self._deliver,
            random.Random(opts.seed + 2),
            MeasureModel.of(plant, net.drifts, random.Random(opts.seed + 4)),
        )
        tag = live_from.astimezone(plant.tz).strftime("%y%m%d%H%M-")
        self.sim = Simulation(
            simpy.Environment(), net, random.Random(opts.seed), sink=self.sink, serial_tag=tag
        )
        self.clock = TwinClock(ScaledClock.starting(live_from, opts.speed))
        self.clock.frozen = live_from  # until the chain starts
        self.workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="linemon-twin-"))
        self._own_workdir = opts.workdir is None
        self.broker: Broker | None = None
        self.writers: dict[str, PtyWriter] = {}
        self.racks: dict[str, TwinRack] = {}
        self.folders: dict[str, Path] = {}  # file binding -> the folder its station's reports go to
        self.publisher: BrokerPublisher | LocalPublisher | None = None
        self.ingest: IngestService | None = None
        self._ingest_stop = threading.Event()
        self._ingest_thread: threading.Thread | None = None
        self.summary: dict[str, Any] = {}

    def _drifts(self, live_from: datetime) -> tuple[FpyDrift, ...]:
        """The drift starts at the previous plant week's start (or the twin's start) and takes
        three days to settle: the plan makes each product in one stretch of its week (FF-50 on
        Mondays), so the current week's lot shows the drift in the history's p-chart, and the
        next lot, live, raises the shift's FPY alarm."""
        if self.opts.drift is None:
            return ()
        product, station, fpy = self.opts.drift
        if product not in self.plant.spec.products or station not in self.plant.spec.stations:
            raise LinemonError(f"--drift: unknown product {product!r} or station {station!r}")
        begins = week_start(self.plant.spec.calendar, self.plant.tz, live_from) - timedelta(days=7)
        return (FpyDrift(station, product, max(0.0, (begins - self.start).total_seconds()), 3 * 86400, fpy),)

    # ------------------------------------------------------------------ the chain
    def write_history(self) -> int:
        """Simulate the history at full speed, straight into the store; returns records written.
        Every machine reports its state at the start, as equipment does when it connects."""
        self.store.put_work_orders(self.orders)  # the floor's plan: output against it on the andon
        for st in self.sim.stations.values():
            for srv in st.servers:
                self.sink.state(0.0, st.spec, srv.index, srv.state)
        if self.history_s > 0:
            self.sim.env.run(until=self.history_s)
            self.sink.release(self.history_s)
        self.sink.go_live()
        return self.sink.written

    def start_chain(self) -> str:
        """Start the equipment ends, the broker (or the in-process bus) and the ingest; returns
        how MQTT travels, for the user."""
        # the plant clock starts now: the history is written, the chain is about to run
        self.clock.scaled = ScaledClock.starting(self.clock.scaled.origin, self.opts.speed)
        self.clock.frozen = None
        self.publish_clock()
        ports = {}
        for b in self.router.serial_bindings():
            fmt = self.plant.spec.formats[b.format]
            if fmt.type == "poll":
                slots = self.plant.station(b.station_id).slots or 1
                rack = TwinRack(b.id, fmt, slots, b.terminator, self.opts.seed + 3)
                self.racks[b.id] = rack
                ports[b.id] = rack.path
            else:
                w = PtyWriter(b.id, str(self.workdir / b.id))
                self.writers[b.id] = w
                ports[b.id] = w.path
        for b in self.router.files.values():  # the folders file-reporting stations write into
            folder = self.workdir / "files" / b.id
            folder.mkdir(parents=True, exist_ok=True)
            self.folders[b.id] = folder
            ports[b.id] = str(folder)
        local = self._start_broker()
        opts = IngestOptions(ports=ports, clock=self.clock, local_bus=local)
        if self.broker is not None:
            opts.mqtt_host, opts.mqtt_port = "127.0.0.1", self.broker.port
        self.ingest = IngestService(self.plant, self.store, opts)
        self.ingest.start()
        self._ingest_thread = threading.Thread(
            target=self.ingest.run, args=(self._ingest_stop,), name="twin-ingest", daemon=True
        )
        self._ingest_thread.start()
        for w in self.writers.values():
            w.start()
        for r in self.racks.values():
            r.start()
        if local:
            assert isinstance(self.ingest.mqtt, LocalBus)
            self.publisher = LocalPublisher(self.ingest.mqtt)
            why = "--broker none" if self.opts.broker == "none" else "no mosquitto installed"
            return f"{why}: MQTT messages go to the ingest in-process (no broker)"
        assert self.broker is not None
        self.publisher = BrokerPublisher("127.0.0.1", self.broker.port, "linemon-twin-equipment")
        return f"MQTT through a private mosquitto on 127.0.0.1:{self.broker.port}"

    def _start_broker(self) -> bool:
        """True when MQTT goes over the in-process bus."""
        if self.opts.broker == "none":
            return True
        if mosquitto_path() is None:
            if self.opts.broker == "mosquitto":
                raise LinemonError(
                    "--broker mosquitto: mosquitto is not installed (Debian: apt install mosquitto)"
                )
            return True
        (self.workdir / "broker").mkdir(exist_ok=True)
        self.broker = Broker(self.workdir / "broker", crash_safe=False)
        return False

    def _deliver(self, d: Delivery) -> None:
        if isinstance(d, Publish):
            assert self.publisher is not None
            self.publisher.publish(d.topic, d.payload)
        elif isinstance(d, Write):
            self.writers[d.binding].put(d.data)
        elif isinstance(d, WriteFile):
            (self.folders[d.binding] / d.name).write_bytes(d.data)
        elif isinstance(d, RackLoad):
            self.racks[d.binding].load(d.serial)
        elif isinstance(d, RackVerdict):
            self.racks[d.binding].verdict(d.serial, d.passed)

    # ------------------------------------------------------------------ running
    def play(self, stop: threading.Event) -> None:
        """Advance the simulation with the plant clock until `stop` or the planned hours; then
        the plant clock stands still where the plant stopped."""
        env, t0, real0 = self.sim.env, self.history_s, self.clock.scaled.real_origin
        end = t0 + self.opts.hours * 3600 if self.opts.hours else math.inf
        next_log = time.time() + self.opts.log_every_s
        next_beat = time.time() + HEARTBEAT_S
        target = t0
        while not stop.is_set():
            target = min(end, t0 + (time.time() - real0) * self.opts.speed)
            moved = env.peek() <= target
            while env.peek() <= target:
                env.step()
            if moved:
                self.sink.release(env.now)
            if target >= end:
                break
            if time.time() >= next_log:
                self._log_progress()
                next_log += self.opts.log_every_s
            if time.time() >= next_beat:
                self.publish_clock()
                next_beat += HEARTBEAT_S
            ahead = (env.peek() - target) / self.opts.speed
            stop.wait(min(0.05, max(0.001, ahead)))
        self.sink.close()  # the states held at the end
        self.clock.frozen = self.sink.start + timedelta(seconds=target)
        self.publish_clock()

    def publish_clock(self) -> None:
        """Keep the plant clock in the store, so every reader of it (a `linemon dashboard` or
        `report` on the twin's store) sees the twin's time, running or stopped."""
        wall = time.time()
        if self.clock.frozen is not None:
            self.store.put_clock(StoredClock(self.clock.frozen, wall, 0.0, wall))
        else:
            sc = self.clock.scaled
            self.store.put_clock(StoredClock(sc.origin, sc.real_origin, sc.factor, wall))

    def wait_connected(self, timeout_s: float = 30.0) -> None:
        """Until the ingest has opened every source (MQTT subscribed), so nothing sent is missed."""
        assert self.ingest is not None
        deadline = time.monotonic() + timeout_s
        mqtt_ids = [b.id for b in self.plant.spec.bindings if b.transport == "mqtt"]
        while time.monotonic() < deadline:
            if all(self.ingest.health[i].status == "connected" for i in mqtt_ids):
                return
            time.sleep(0.02)
        states = ", ".join(f"{i}: {self.ingest.health[i].status}" for i in mqtt_ids)
        raise LinemonError(
            f"the ingest did not subscribe to the twin's broker within {timeout_s:g} s ({states})"
        )

    def _log_progress(self) -> None:
        log.info(
            "plant time %s: %d units released, %d completed, %d records sent",
            self.clock.now().astimezone(self.plant.tz).strftime("%Y-%m-%d %H:%M"),
            self.sim.released,
            self.sim.completed,
            self.sink.tally.records,
        )

    def drain(self, timeout_s: float = DRAIN_S) -> bool:
        """Wait until every record sent has been counted by the ingest (stored, found duplicate or
        dead-lettered); False if that did not happen within `timeout_s`."""
        assert self.ingest is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            held = sum(w.pending() for w in self.writers.values()) + sum(
                r.pending() for r in self.racks.values()
            )
            held += self.publisher.pending() if self.publisher else 0
            if held == 0 and self.ingest.counted() >= self.sink.tally.records:
                return True
            time.sleep(0.05)
        return False

    def stop_chain(self) -> None:
        self._ingest_stop.set()
        if self._ingest_thread is not None:
            self._ingest_thread.join(60)
        if self.publisher is not None:
            self.publisher.close()
        for w in self.writers.values():
            w.close()
        for r in self.racks.values():
            r.close()
        if self.broker is not None:
            self.broker.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def report(self, drained: bool) -> dict[str, Any]:
        assert self.ingest is not None
        return {
            "plant_start": self.start.isoformat(),
            "live_from": self.clock.scaled.origin.isoformat(),
            "plant_end": self.clock.now().isoformat(),
            "speed": self.opts.speed,
            "history_records": self.sink.written,
            "released": self.sim.released,
            "completed": self.sim.completed,
            "scrapped": self.sim.scrapped,
            "ingest_counted": self.ingest.counted(),
            "drained": drained,
            **self.sink.tally.as_json(),
        }
