"""What the engine simulates, as plain data: stations, routings, the work clock and the releases.

The plant builder (`sim.plant`) fills these from the plant file and a plan; the validation tests
fill them by hand to state textbook systems (M/M/1, M/M/c, Jackson tandems, CONWIP lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sim.clock import WorkClock
from sim.dists import Dist, constant


@dataclass(frozen=True)
class StationSpec:
    """A station: `servers` identical servers pulling from one input buffer of `buffer` places
    (None: unlimited); a unit holds its server until the next buffer accepts it (blocking after
    service). With `transit_s` > 0 it is a conveyor oven: the server time is the loading pitch, the
    unit then rides `transit_s` on a belt of `conveyor_slots` places (None: unbounded, for textbook
    cases) and leaves in the order it entered; a board that cannot leave (the next buffer full)
    keeps its place, so a full belt blocks the loader, and the stations before it in turn."""

    id: str
    time: Mapping[str, Dist]  # per product; "*" is the default for products not listed
    servers: int = 1
    line: str = ""
    buffer: int | None = None
    setup: Dist | None = None  # when a server changes product
    setup_pairs: Mapping[tuple[str, str], Dist] = field(default_factory=dict)
    transit_s: float = 0.0
    conveyor_slots: int | None = None
    mtbf_s: float | None = None  # operation-dependent failures: busy seconds between breakdowns
    mttr: Dist | None = None
    fpy: Mapping[str, float] = field(default_factory=dict)  # per product; a station that inspects
    inspects: bool = False
    defects: tuple[tuple[str, float], ...] = ()
    false_calls_per_unit: float = 0.0
    follows_clock: bool = True  # False: runs around the clock (aging racks)
    crew: str | None = None  # a shared operator pool each server needs while it works
    operators: int | None = None  # machines that need one of this many operators to work
    operator_s: float | None = None  # ... for the first seconds of each job (None: the whole job)
    rack: int | None = None  # each server is a rack of this many units, started together (aging)
    rack_wait_s: float = 3600.0  # a partly loaded rack starts this long after its first unit

    def time_for(self, product: str) -> Dist:
        d = self.time.get(product) or self.time.get("*")
        if d is None:
            raise KeyError(f"station {self.id} has no time for product {product}")
        return d

    def setup_for(self, last: str | None, product: str) -> Dist | None:
        if last is None or last == product:
            return None
        return self.setup_pairs.get((last, product), self.setup)


@dataclass(frozen=True)
class Lot:
    product: str
    work_order: str
    quantity: int
    release_s: float | None = None  # None: released in sequence, as soon as the line accepts


@dataclass(frozen=True)
class Release:
    """How units enter: a plan of lots, CONWIP (a new unit whenever one leaves, `wip_cap` in the
    line) or an arrival process (`arrival` between units, e.g. exponential for Poisson)."""

    mode: Literal["plan", "conwip", "arrivals"]
    lots: tuple[Lot, ...] = ()
    wip_cap: int | None = None  # also caps a plan's release when given
    arrival: Dist | None = None
    mix: Mapping[str, float] = field(default_factory=dict)
    lot_size: int = 1  # conwip/arrivals: the product is drawn once per this many units


@dataclass(frozen=True)
class FpyDrift:
    """A process going wrong: the first-pass yield of `product` at `station` moves linearly from
    the station's own figure (at `start_s`) to `fpy` (at `start_s + ramp_s`) and stays there."""

    station: str
    product: str
    start_s: float
    ramp_s: float
    fpy: float

    def share(self, t: float) -> float:
        """How far the drift has gone at `t`: 0 before it starts, 1 once its ramp is over."""
        if t <= self.start_s:
            return 0.0
        return 1.0 if self.ramp_s <= 0 else min(1.0, (t - self.start_s) / self.ramp_s)

    def at(self, base: float, t: float) -> float:
        return base + (self.fpy - base) * self.share(t)


@dataclass(frozen=True)
class Network:
    stations: Mapping[str, StationSpec]  # in flow order
    routings: Mapping[str, tuple[str, ...]]
    release: Release
    clock: WorkClock | None = None  # None: always scheduled
    retest_pass: float = 0.85
    max_attempts: int = 3  # failures at one station before the unit is scrapped
    repair: Dist = field(default_factory=lambda: constant(900.0))
    repair_technicians: int | None = None  # None: every failed unit is repaired at once (unlimited)
    crews: Mapping[str, int] = field(default_factory=dict)  # shared operator pools: name -> size
    drifts: tuple[FpyDrift, ...] = ()


def single_product(stations: list[StationSpec], release: Release, product: str = "P") -> Network:
    """A one-product serial line through `stations` in order (textbook cases)."""
    return Network({s.id: s for s in stations}, {product: tuple(s.id for s in stations)}, release)
