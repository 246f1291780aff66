"""What each process step does, how long it takes, what limits it and what it reports.

The models are data (frozen dataclasses in a table, like Home Assistant's entity descriptions):
adding a process step means adding a row. The plant file gives each station its parameters; the
simulator and the sample-data generator both read times, capacities and defect spectra from here,
so the twin and the monitor agree on what a station is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from line.config import Plant
from line.config_model import ProductDef, StationDef
from line.kinds import KINDS

TimeBasis = Literal["board", "placement", "part", "unit", "batch", "pipeline"]
Capacity = Literal["machines", "operators", "slots", "conveyor"]
Timing = Callable[[StationDef, ProductDef], float]


@dataclass(frozen=True)
class StationModel:
    """A process step. `seconds(station, product)` is the work content of one unit; for a
    pipeline it is the minimum pitch between boards and `transit_s` the time inside the oven."""

    kind: str
    does: str
    time_basis: TimeBasis
    capacity: Capacity
    seconds: Timing
    reports: tuple[str, ...]  # record types the real equipment sends
    defects: tuple[tuple[str, float], ...] = ()  # defect spectrum: code, relative weight
    false_calls_per_unit: float = 0.0  # rejected calls (automatic inspection only)

    @property
    def inspects(self) -> bool:
        return KINDS[self.kind].inspects

    @property
    def setup_on_change(self) -> bool:
        """A product change costs the station's setup_min (line.kinds says which kinds)."""
        return KINDS[self.kind].setups

    def servers(self, st: StationDef) -> int:
        """How many units the station works on at once."""
        if self.capacity == "slots":
            return st.slots or 1
        if self.capacity == "operators":
            return max(st.operators, 1)
        return st.machines

    def transit_s(self, st: StationDef) -> float:
        return (st.transit_min or 0.0) * 60 if self.time_basis == "pipeline" else 0.0


def _f(v: float | None) -> float:
    if v is None:  # the loader guarantees required parameters; this guards direct construction
        raise ValueError("station parameter missing for this kind")
    return v


_SOLDER = (("insufficient_solder", 0.45), ("excess_solder", 0.2), ("bridge", 0.2), ("shift", 0.15))
_PLACEMENT = (
    ("missing", 0.22),
    ("polarity", 0.12),
    ("wrong_part", 0.08),
    ("lifted_lead", 0.12),
    ("tombstone", 0.08),
    ("bridge", 0.14),
    ("insufficient_solder", 0.14),
    ("shift", 0.1),
)
_STATE = ("linemon.state/1",)
_RESULT = ("linemon.result/1", "linemon.state/1")

MODELS: dict[str, StationModel] = {
    m.kind: m
    for m in (
        StationModel(
            "print",
            "prints cream solder through a stencil",
            "board",
            "machines",
            lambda s, p: _f(s.board_s),
            _STATE,
        ),
        StationModel(
            "spi",
            "measures paste volume, area, height and offset per pad",
            "board",
            "machines",
            lambda s, p: _f(s.board_s),
            _RESULT,
            _SOLDER,
            false_calls_per_unit=0.02,
        ),
        StationModel(
            "mount",
            "places SMD parts (chip shooter + multi-function)",
            "placement",
            "machines",
            lambda s, p: _f(s.board_overhead_s) + p.placements / _f(s.cph) * 3600,
            _STATE,
        ),
        StationModel(
            "reflow",
            "reflows the paste in a conveyor oven",
            "pipeline",
            "conveyor",
            lambda s, p: _f(s.pitch_s),
            _STATE,
        ),
        StationModel(
            "insertion",
            "inserts through-hole parts by hand",
            "part",
            "operators",
            lambda s, p: p.tht_parts * _f(s.part_s),
            _STATE,
        ),
        StationModel(
            "visual",
            "inspects boards (operator or AOI) and confirms calls",
            "board",
            "machines",
            lambda s, p: _f(s.board_s),
            _RESULT,
            _PLACEMENT,
            false_calls_per_unit=0.08,
        ),
        StationModel(
            "wave",
            "wave-solders the through-hole parts",
            "pipeline",
            "conveyor",
            lambda s, p: _f(s.pitch_s),
            _STATE,
        ),
        StationModel(
            "fct",
            "tests the board's functions on a jig",
            "unit",
            "machines",
            lambda s, p: _f(p.fct_min) * 60,
            _RESULT,
            (("function_fail", 0.6), ("open", 0.15), ("short", 0.15), ("wrong_part", 0.1)),
        ),
        StationModel(
            "assembly",
            "assembles boards and mechanics into the set",
            "unit",
            "operators",
            lambda s, p: _f(p.assembly_min) * 60,
            _STATE,
        ),
        StationModel(
            "aging",
            "burns sets in in racks, polled slot by slot",
            "batch",
            "slots",
            lambda s, p: _f(p.aging_h) * 3600,
            _RESULT,
            (("function_fail", 0.8), ("damaged", 0.2)),
        ),
        StationModel(
            "final_test",
            "adjusts and tests the finished set",
            "unit",
            "machines",
            lambda s, p: _f(p.final_test_min) * 60,
            _RESULT,
            (("function_fail", 0.7), ("damaged", 0.1), ("other", 0.2)),
        ),
        StationModel(
            "oqa",
            "samples and inspects outgoing sets",
            "unit",
            "operators",
            lambda s, p: _f(s.unit_min) * 60,
            _RESULT,
            (("damaged", 0.4), ("foreign_material", 0.3), ("other", 0.3)),
        ),
        StationModel(
            "packing",
            "packs sets for shipping",
            "unit",
            "operators",
            lambda s, p: _f(s.unit_min) * 60,
            _STATE,
        ),
    )
}


@dataclass(frozen=True)
class BoundStation:
    """A configured station with its model: what the simulator and the sample generator use."""

    id: str
    line: str
    spec: StationDef
    model: StationModel

    def seconds(self, product: ProductDef) -> float:
        return self.model.seconds(self.spec, product)

    def fpy(self, product: ProductDef) -> float:
        """Assumed first-pass yield: the product's figure, else the station's, else 1."""
        return product.fpy.get(self.id, self.spec.fpy if self.spec.fpy is not None else 1.0)


def bind_plant(plant: Plant) -> dict[str, BoundStation]:
    """Every station of the plant with its model, in flow order."""
    return {
        sid: BoundStation(sid, plant.station(sid).line, plant.station(sid), MODELS[plant.station(sid).kind])
        for sid in plant.station_order
    }


def raw_process_times(plant: Plant, until: Mapping[str, str]) -> dict[str, timedelta]:
    """Per product, the time one unit needs along its routing up to and including the station
    `until[product]` when nothing waits (Hopp & Spearman's raw process time T0): the lead time
    the floor's plan allows before that station's output can start."""
    bound = bind_plant(plant)
    out = {}
    for code, stop in until.items():
        route = plant.spec.products[code].routing
        upto = route[: route.index(stop) + 1] if stop in route else route
        out[code] = timedelta(seconds=sum(bound[s].seconds(plant.product(code)) for s in upto))
    return out


def planned_lead_times(plant: Plant, until: Mapping[str, str]) -> dict[str, timedelta]:
    """The lead times the floor's plan allows per product before `until[product]`'s output can
    start: the raw process time stretched by the product's flow factor, else the plant's
    (`[planning]`)."""
    default = plant.spec.planning.flow_factor
    products = plant.spec.products
    return {
        code: t * (products[code].flow_factor or default)
        for code, t in raw_process_times(plant, until).items()
    }
