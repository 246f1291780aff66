"""The SimPy line model: servers pull units from buffers, work, judge, and push them on.

Each server is one SimPy process looping get → (setup) → work → judge → put. A full next buffer
keeps the unit on the server (blocking after service). Work only runs on scheduled time (the work
clock) and stops for breakdowns counted in busy time, so a job that straddles a shift end or a
failure resumes where it stopped. Every server keeps a time split (busy, setup, down, blocked,
starved, off shift) by state changes; a station with no idle server is *active* for the bottleneck
analysis, which is fed a day at a time. The environment, the random generator and an optional
record sink are passed in: same seed, same result.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Generator
from typing import Any, Protocol

import simpy

from sim.bottleneck import BottleneckTally, Period
from sim.network import Network, StationSpec
from sim.stats import Streaming

BUSY, SETUP, DOWN, BLOCKED, STARVED, OFF = range(6)  # < BLOCKED: active
STATE_NAMES = ("busy", "setup", "down", "blocked", "starved", "off_shift")
DAY_S = 86400.0
INF = float("inf")


class Sink(Protocol):
    """Receives what real equipment would report (for writing a simulated week into a store)."""

    def result(
        self, t: float, st: StationSpec, server: int, unit: Unit, passed: bool, defects: list[str]
    ) -> None: ...

    def state(self, t: float, st: StationSpec, server: int, state: int) -> None: ...

    def started(self, t: float, st: StationSpec, server: int, unit: Unit) -> None:
        """A unit starts its work at a station (a scanner reads it, a rack slot is loaded)."""
        ...


class Unit:
    __slots__ = ("fails", "lot", "product", "released", "route", "serial", "step", "work_order")

    def __init__(
        self, serial: str, product: str, work_order: str, route: tuple[_Station, ...], lot: int | None = None
    ) -> None:
        self.serial, self.product, self.work_order, self.route = serial, product, work_order, route
        self.lot = lot  # the plan's lot it was released in (None: no lots, CONWIP and arrivals)
        self.step = 0
        self.released = 0.0
        self.fails = 0  # failures at the current station


def stream(base: int, *names: str) -> random.Random:
    """An independent generator for one station and purpose, from the run's seed and its names:
    common random numbers per station, so a what-if at one station (another machine, other
    times) does not reshuffle the draws of any other station."""
    digest = hashlib.blake2b(f"{base}/{'/'.join(names)}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


class _Station:
    __slots__ = (
        "belt",
        "belt_tail",
        "closed_at",
        "first",
        "first_pass",
        "inbox",
        "loader",
        "n_active",
        "open_start",
        "operators",
        "rng_defects",
        "rng_fail",
        "rng_repair",
        "rng_setup",
        "rng_work",
        "servers",
        "spec",
        "split",
    )

    def __init__(self, env: simpy.Environment, spec: StationSpec, base: int) -> None:
        self.spec = spec
        self.rng_work, self.rng_setup, self.rng_fail, self.rng_repair, self.rng_defects = (
            stream(base, spec.id, purpose) for purpose in ("work", "setup", "failure", "repair", "defects")
        )  # verdicts are drawn per unit (Simulation._verdict_draw); defects apart: a run with a
        # record sink judges as one without
        self.inbox = simpy.Store(env, capacity=spec.buffer if spec.buffer is not None else INF)
        self.servers: list[_Server] = []
        self.split = [0.0] * 6
        self.n_active = 0
        self.open_start: float | None = None  # current active period
        self.closed_at: float | None = None  # went idle here; reopened at the same instant = same period
        self.first: dict[str, int] = defaultdict(int)  # first attempts per product
        self.first_pass: dict[str, int] = defaultdict(int)
        slots = spec.conveyor_slots if spec.transit_s > 0 else None
        self.belt = simpy.Resource(env, slots) if slots else None  # a conveyor oven's places
        self.belt_tail: simpy.Event | None = None  # when the last board put on the belt has left it
        self.operators = simpy.Resource(env, spec.operators) if spec.operators else None
        self.loader = simpy.Resource(env, 1)  # aging racks: the one being loaded


class _Server:
    __slots__ = ("index", "last_lot", "last_product", "sim", "since", "st", "state", "ttf")

    def __init__(self, sim: Simulation, st: _Station, index: int) -> None:
        self.sim, self.st, self.index = sim, st, index
        self.state = STARVED
        self.since = 0.0
        self.last_product: str | None = None
        self.last_lot: int | None = None
        self.ttf = st.rng_fail.expovariate(1 / st.spec.mtbf_s) if st.spec.mtbf_s else INF

    def set(self, new: int, now: float) -> None:
        old = self.state
        dt = now - self.since
        st = self.st
        if dt > 0:
            clock = self.sim.clock
            if old >= BLOCKED and old != OFF and clock is not None and st.spec.follows_clock:
                on = clock.on_seconds(self.since, now)
                st.split[old] += on
                st.split[OFF] += dt - on
            else:
                st.split[old] += dt
        self.state, self.since = new, now
        if (old < BLOCKED) != (new < BLOCKED):
            st.n_active += 1 if new < BLOCKED else -1
            self.sim.activity(st, now)
        if self.sim.sink is not None and old != new:
            self.sim.sink.state(now, st.spec, self.index, new)


class Simulation:
    """One run of a network. `run(until)` advances it; `results()` reads the figures."""

    def __init__(
        self,
        env: simpy.Environment,
        net: Network,
        rng: random.Random,
        sink: Sink | None = None,
        warmup_s: float = 0.0,
        wip_interval_s: float = 3600.0,
        serial_tag: str = "",
    ) -> None:
        """`serial_tag` goes between a serial's product part and its number, so the units of
        two runs written to one store never share a serial."""
        self.env, self.net, self.rng, self.sink, self.clock = env, net, rng, sink, net.clock
        self.serial_tag = serial_tag
        self.drifts = {(d.station, d.product): d for d in net.drifts}
        self.base = base = rng.getrandbits(64)  # every stream of the run derives from this and its names
        self.rng_release = stream(base, "release")
        self.stations = {sid: _Station(env, spec, base) for sid, spec in net.stations.items()}
        self.routes = {p: tuple(self.stations[s] for s in r) for p, r in net.routings.items()}
        self.released = self.completed = self.scrapped = 0
        self.left = 0  # every unit that left, warm-up included (conservation checks)
        self.done: dict[str, int] = defaultdict(int)
        self.scrap: dict[str, int] = defaultdict(int)
        self.lead = Streaming()
        self.lead_by: dict[str, Streaming] = defaultdict(Streaming)
        self.wip = 0
        self.wip_area = 0.0
        self.area_all = 0.0  # never reset at the warm-up: the WIP trace differences it
        self.wip_since = 0.0
        self.measure_from = warmup_s  # statistics count from here
        self.last_exit = 0.0
        self.to_release = 0  # plan units not yet finished (completed or scrapped)
        self.all_done = env.event()
        self.periods: list[Period] = []
        self.tally = BottleneckTally()
        self.tokens = (
            simpy.Container(env, init=net.release.wip_cap, capacity=net.release.wip_cap)
            if net.release.wip_cap
            else None
        )
        self.serial_no = 0
        self.crews = {name: simpy.Resource(env, size) for name, size in net.crews.items()}
        self.repairers = simpy.Resource(env, net.repair_technicians) if net.repair_technicians else None
        self.wip_trace: dict[str, float] = {}  # time-average WIP per interval, keyed by its start hour
        self.trace_s = wip_interval_s
        self.trace_from = self.trace_area = 0.0
        for st in self.stations.values():
            for i in range(st.spec.servers):
                srv = _Server(self, st, i)
                st.servers.append(srv)
                env.process(self._rack(srv) if st.spec.rack else self._serve(srv))
        env.process(self._release())
        env.process(self._daily_bottleneck())
        env.process(self._trace_wip())
        if warmup_s > 0:
            env.process(self._end_warmup(warmup_s))

    # ------------------------------------------------------------------ units moving
    def _serve(self, srv: _Server) -> Generator[simpy.Event, Any, None]:
        env, st, spec = self.env, srv.st, srv.st.spec
        plain = self.clock is None or not spec.follows_clock
        plain = plain and spec.mtbf_s is None
        while True:
            srv.set(STARVED, env.now)
            unit: Unit = yield st.inbox.get()
            crew = self.crews[spec.crew].request() if spec.crew else None
            if crew is not None:
                yield crew  # waiting for an operator of the shared crew counts as starved
            op = st.operators.request() if st.operators is not None else None
            if op is not None:
                yield op  # a machine waiting for its operator is starved of one
            setup = spec.setup_for(srv.last_product, unit.product)
            new_lot = unit.lot is not None and (srv.last_lot is None or unit.lot > srv.last_lot)
            if setup is None and new_lot and srv.last_lot is not None:
                setup = spec.setup  # a later lot, even of the same product: a job of its own (program, first article)
            srv.last_product = unit.product
            if new_lot:  # a repaired unit of an earlier lot is worked in between, without a setup
                srv.last_lot = unit.lot
            if setup is not None:
                yield from self._work(srv, setup.sample(st.rng_setup), SETUP)
            work = spec.time_for(unit.product).sample(st.rng_work)
            if self.sink is not None:
                self.sink.started(env.now, spec, srv.index, unit)
            if op is not None and spec.operator_s is not None and spec.operator_s < work:
                yield from self._work(srv, spec.operator_s, BUSY)  # loading: machine and operator
                st.operators.release(op)  # type: ignore[union-attr]
                op, work = None, work - spec.operator_s
            if plain:
                srv.set(BUSY, env.now)
                yield env.timeout(work)
            else:
                yield from self._work(srv, work, BUSY)
            if crew is not None:
                self.crews[spec.crew].release(crew)  # type: ignore[index]
            if op is not None:
                st.operators.release(op)  # type: ignore[union-attr]
            if spec.transit_s > 0:
                yield from self._onto_belt(srv, unit)
                continue
            nxt = self._judge(st, srv, unit)
            if nxt is not None:
                srv.set(BLOCKED, env.now)
                yield nxt.inbox.put(unit)

    def _rack(self, srv: _Server) -> Generator[simpy.Event, Any, None]:
        """A rack of `spec.rack` slots (aging): loaded unit by unit as they come, its burn-in
        starts when it is full or `rack_wait_s` after its first unit; each unit leaves when its
        own product's time is done, and the rack is loaded again once all have left."""
        env, st, spec = self.env, srv.st, srv.st.spec
        size = spec.rack or 1
        while True:
            srv.set(STARVED, env.now)
            with st.loader.request() as turn:  # one rack is loaded at a time, as the operator does
                yield turn
                units: list[Unit] = [(yield st.inbox.get())]
                until = env.now + spec.rack_wait_s
                while len(units) < size and env.now < until:
                    get = st.inbox.get()
                    got = yield get | env.timeout(until - env.now)
                    if get not in got:
                        get.cancel()  # not left waiting to take a unit meant for the next rack
                        break
                    units.append(got[get])
            start = env.now
            srv.set(BUSY, start)
            for u in units:
                if self.sink is not None:
                    self.sink.started(start, spec, srv.index, u)
            done = sorted((spec.time_for(u.product).sample(st.rng_work), k) for k, u in enumerate(units))
            for seconds, k in done:
                if start + seconds > env.now:
                    yield env.timeout(start + seconds - env.now)
                nxt = self._judge(st, srv, units[k])
                if nxt is not None:
                    srv.set(BLOCKED, env.now)
                    yield nxt.inbox.put(units[k])
                    srv.set(BUSY, env.now)

    def _work(self, srv: _Server, seconds: float, state: int) -> Generator[simpy.Event, Any, None]:
        """Spend `seconds` of work, only on scheduled time, stopping for breakdowns."""
        env, spec, clock = self.env, srv.st.spec, self.clock
        remaining = seconds
        while remaining > 1e-9:
            if clock is not None and spec.follows_clock:
                on = clock.next_on(env.now)
                if on > env.now:
                    srv.set(OFF, env.now)
                    if on == INF:
                        yield env.event()  # the horizon's last shift is over: wait for the end of the run
                    yield env.timeout(on - env.now)
                chunk = min(remaining, clock.on_until(env.now) - env.now, srv.ttf)
            else:
                chunk = min(remaining, srv.ttf)
            srv.set(state, env.now)
            yield env.timeout(chunk)
            remaining -= chunk
            if spec.mtbf_s is not None and state == BUSY:
                srv.ttf -= chunk
                if srv.ttf <= 1e-9:
                    srv.set(DOWN, env.now)
                    yield env.timeout(spec.mttr.sample(srv.st.rng_fail) if spec.mttr else 0.0)
                    srv.ttf = srv.st.rng_fail.expovariate(1 / spec.mtbf_s)

    def _onto_belt(self, srv: _Server, unit: Unit) -> Generator[simpy.Event, Any, None]:
        """Put a loaded board on the conveyor once it has a free place (blocked until then)."""
        st, env = srv.st, self.env
        place = st.belt.request() if st.belt is not None else None
        if place is not None and not place.triggered:
            srv.set(BLOCKED, env.now)
        if place is not None:
            yield place
        ahead, left = st.belt_tail, env.event()
        st.belt_tail = left
        env.process(self._transit(unit, st.spec.transit_s, place, ahead, left))

    def _transit(
        self, unit: Unit, seconds: float, place: Any, ahead: simpy.Event | None, left: simpy.Event
    ) -> Generator[simpy.Event, Any, None]:
        """Ride the belt, leave after the board ahead (first in, first out), then free the place."""
        st = unit.route[unit.step]
        yield self.env.timeout(seconds)
        if ahead is not None:
            yield ahead
        nxt = self._judge(st, None, unit)
        if nxt is not None:
            yield nxt.inbox.put(unit)
        if place is not None:
            st.belt.release(place)  # type: ignore[union-attr]
        left.succeed()

    def boards_inside(self, sid: str) -> int:
        """Boards on a conveyor station's belt now."""
        belt = self.stations[sid].belt
        return belt.count if belt is not None else 0

    def _judge(self, st: _Station, srv: _Server | None, unit: Unit) -> _Station | None:
        """Pass the unit on (returning the next station), or finish, repair or scrap it (None)."""
        spec = st.spec
        if spec.inspects:
            first = unit.fails == 0
            p = self._first_pass_p(spec, unit.product) if first else self.net.retest_pass
            passed = p >= 1.0 or self._verdict_draw(st, unit) < p
            if first:
                st.first[unit.product] += 1
                st.first_pass[unit.product] += passed
            if self.sink is not None:
                self.sink.result(
                    self.env.now, spec, srv.index if srv else 0, unit, passed, self._defects(st, passed)
                )
            if not passed:
                unit.fails += 1
                if unit.fails >= self.net.max_attempts:
                    self._leave(unit, scrapped=True)
                else:
                    self.env.process(self._repair(st, unit))
                return None
        unit.fails = 0
        unit.step += 1
        if unit.step < len(unit.route):
            return unit.route[unit.step]
        self._leave(unit, scrapped=False)
        return None

    def _verdict_draw(self, st: _Station, unit: Unit) -> float:
        """The unit's own random number for this attempt at this station: a what-if that lets
        units overtake each other (a second mounter) still gives each unit the fate it had."""
        key = f"{self.base}/{st.spec.id}/{unit.serial}/{unit.fails}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2.0**64

    def _first_pass_p(self, spec: StationSpec, product: str) -> float:
        base = spec.fpy.get(product, 1.0)
        drift = self.drifts.get((spec.id, product)) if self.drifts else None
        return base if drift is None else drift.at(base, self.env.now)

    def _defects(self, st: _Station, passed: bool) -> list[str]:
        codes = [c for c, _ in st.spec.defects] or ["other"]
        weights = [w for _, w in st.spec.defects] or [1.0]
        rng = st.rng_defects
        return [] if passed else rng.choices(codes, weights, k=1 if rng.random() < 0.8 else 2)

    def _repair(self, st: _Station, unit: Unit) -> Generator[simpy.Event, Any, None]:
        """Repair, then back to the station's buffer. With technicians (plant file [rework]) a
        failed unit waits for one, who repairs on scheduled time only (they work shifts)."""
        seconds = self.net.repair.sample(st.rng_repair)
        if self.repairers is None:
            yield self.env.timeout(seconds)
        else:
            with self.repairers.request() as tech:
                yield tech
                yield from self._on_shift(seconds)
        yield st.inbox.put(unit)

    def _on_shift(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        """Spend `seconds` of scheduled time (all of it when there is no work clock)."""
        env, clock, remaining = self.env, self.clock, seconds
        while remaining > 1e-9:
            if clock is None:
                yield env.timeout(remaining)
                return
            on = clock.next_on(env.now)
            if on == INF:
                yield env.event()  # no shift left in the horizon
            if on > env.now:
                yield env.timeout(on - env.now)
            chunk = min(remaining, clock.on_until(env.now) - env.now)
            yield env.timeout(chunk)
            remaining -= chunk

    # ------------------------------------------------------------------ releases and exits
    def _release(self) -> Generator[simpy.Event, Any, None]:
        rel = self.net.release
        if rel.mode == "plan":
            self.to_release = sum(lot.quantity for lot in rel.lots)
            for k, lot in enumerate(rel.lots):
                if lot.release_s is not None and lot.release_s > self.env.now:
                    yield self.env.timeout(lot.release_s - self.env.now)
                for _ in range(lot.quantity):
                    yield from self._enter(lot.product, lot.work_order, k)
            return
        products, weights = list(rel.mix), list(rel.mix.values())
        n = 0
        code = products[0]
        while True:
            if rel.mode == "arrivals" and rel.arrival is not None:
                yield self.env.timeout(rel.arrival.sample(self.rng_release))
            if len(products) > 1 and n % rel.lot_size == 0:
                code = self.rng_release.choices(products, weights)[0]
            n += 1
            if rel.mode == "arrivals":
                self.env.process(self._enter(code, "ARR"))
            else:
                yield from self._enter(code, "CONWIP")

    def _enter(self, product: str, work_order: str, lot: int | None = None) -> Generator[simpy.Event, Any, None]:
        if self.tokens is not None:
            yield self.tokens.get(1)
        self.serial_no += 1
        unit = Unit(
            f"{product.replace('-', '')}-{self.serial_tag}{self.serial_no:07d}",
            product,
            work_order,
            self.routes[product],
            lot,
        )
        yield unit.route[0].inbox.put(unit)
        unit.released = self.env.now
        self.released += 1
        self._wip(+1)

    def _leave(self, unit: Unit, scrapped: bool) -> None:
        now = self.env.now
        self._wip(-1)
        if self.tokens is not None:
            self.tokens.put(1)
        if now >= self.measure_from:
            if scrapped:
                self.scrapped += 1
                self.scrap[unit.product] += 1
            else:
                self.completed += 1
                self.done[unit.product] += 1
                h = (now - unit.released) / 3600
                self.lead.add(h)
                self.lead_by[unit.product].add(h)
        self.last_exit = now
        self.left += 1
        if self.net.release.mode == "plan":
            self.to_release -= 1
            if self.to_release == 0:
                self.all_done.succeed()

    def _wip(self, delta: int) -> None:
        now = self.env.now
        self.wip_area += self.wip * (now - self.wip_since)
        self.area_all += self.wip * (now - self.wip_since)
        self.wip_since = now
        self.wip += delta

    # ------------------------------------------------------------------ bottleneck bookkeeping
    def activity(self, st: _Station, now: float) -> None:
        """Track the station's active periods (no idle server); a gap of zero joins two periods."""
        if st.n_active == len(st.servers):
            if st.open_start is None:
                st.open_start = now
            elif st.closed_at is not None and st.closed_at < now:
                self.periods.append((st.spec.id, st.open_start, st.closed_at))
                st.open_start = now
            st.closed_at = None
        elif st.open_start is not None and st.closed_at is None:
            st.closed_at = now

    def _flush_periods(self, now: float, keep: bool = True) -> None:
        for st in self.stations.values():
            if st.open_start is None:
                continue
            end = st.closed_at if st.closed_at is not None else now
            if end > st.open_start:
                self.periods.append((st.spec.id, st.open_start, end))
            st.open_start = now if (st.closed_at is None and keep) else None
            st.closed_at = None
        if now >= self.measure_from:
            self.tally.add(self.periods)
        self.periods = []

    def _trace_wip(self) -> Generator[simpy.Event, Any, None]:
        """WIP over time as the time average of each interval (bounded: the caller sizes the
        interval to the horizon); the run's last, partial interval is closed by `run`."""
        while True:
            self.trace_from, self.trace_area = self.env.now, self._area_now()
            yield self.env.timeout(self.trace_s)
            self._close_trace()

    def _close_trace(self) -> None:
        now = self.env.now
        if now > self.trace_from and self.trace_from >= self.measure_from:
            key = f"{self.trace_from / 3600:g}"
            self.wip_trace[key] = (self._area_now() - self.trace_area) / (now - self.trace_from)
        self.trace_from = now

    def _area_now(self) -> float:
        return self.area_all + self.wip * (self.env.now - self.wip_since)

    def _daily_bottleneck(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(DAY_S)
            self._flush_periods(self.env.now)

    def _end_warmup(self, at: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(at)
        self._flush_periods(at)
        self.tally = BottleneckTally()
        self._wip(0)
        self.measure_from = at
        self.wip_area = 0.0
        for st in self.stations.values():
            for srv in st.servers:
                srv.set(srv.state, at)
            st.split = [0.0] * 6
            st.first.clear()
            st.first_pass.clear()

    # ------------------------------------------------------------------ running and reading
    def run(self, until: float, stop_when_done: bool = True) -> float:
        """Run to `until` seconds, or until a plan's last unit has left; returns the end time."""
        stop = self.env.timeout(until - self.env.now)
        if self.net.release.mode == "plan" and stop_when_done:
            self.env.run(until=self.env.any_of([stop, self.all_done]))
        else:
            self.env.run(until=stop)
        now = self.env.now
        for st in self.stations.values():
            for srv in st.servers:
                srv.set(srv.state, now)
        self._wip(0)
        self._close_trace()
        self._flush_periods(now, keep=False)
        return now
