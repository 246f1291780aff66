"""The plant file and a plan, turned into a network the engine runs.

Times, capacities, setups and defect spectra come from the station models (`stations/`), so the
simulated plant and the monitored one are the same plant. Conveyor ovens become pipelines (pitch
+ transit), aging racks one server per slot running around the clock, and the shift calendar the
work clock every other station follows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from line.calendar import merge, scheduled_intervals
from line.config import Plant
from line.config_model import ProductDef, StationDef
from line.errors import ConfigError
from sim.clock import WorkClock
from sim.dists import Dist, constant, dist_from_spec, exponential, lognormal
from sim.network import Lot, Network, Release, StationSpec
from sim.plan import PlanFile, Settings, plan_start
from stations.models import BoundStation, bind_plant

MANUAL = ("operators",)


def build_network(plant: Plant, plan: PlanFile, horizon_h: float, source: str = "<plan>") -> Network:
    """The network of a plant and a (checked) plan; a bad distribution raises ConfigError."""
    start = plan_start(plan, plant)
    cfg = plan.settings
    bound = bind_plant(plant)
    products = plant.spec.products
    crew_of = {sid: name for name, crew in plan.crews.items() for sid in crew.stations}
    stations = {}
    for sid, bs in bound.items():
        st = _station(bs, products, cfg)
        stations[sid] = replace(st, crew=crew_of.get(sid), time=_times(st.time, plan, sid, source))
    return Network(
        stations=stations,
        routings={code: tuple(p.routing) for code, p in products.items()},
        release=_release(plan, source),
        clock=work_clock(plant, start, horizon_h),
        retest_pass=cfg.retest_pass,
        max_attempts=cfg.max_attempts or plant.spec.rework.scrap_after_failures,
        repair=lognormal(cfg.repair_min * 60, cfg.repair_cv),
        repair_technicians=plant.spec.rework.technicians,
        crews={name: crew.size for name, crew in plan.crews.items()},
    )


def _times(model: Mapping[str, Dist], plan: PlanFile, sid: str, source: str) -> Mapping[str, Dist]:
    """The station model's times per product, with the plan's [times.STATION] (minutes) over them;
    a "*" entry replaces the time of every product the plan does not name."""
    given = plan.times.get(sid)
    if not given:
        return model
    try:
        dists = {key: dist_from_spec(spec, f"times.{sid}.{key}").scaled(60) for key, spec in given.items()}
    except ValueError as exc:
        raise ConfigError(source, [str(exc)]) from None
    if "*" in dists:
        return {code: dists.get(code, dists["*"]) for code in model} | {"*": dists["*"]}
    return {**model, **dists}


def work_clock(plant: Plant, start: datetime, horizon_h: float) -> WorkClock:
    end = start + timedelta(hours=horizon_h)
    spans = merge(scheduled_intervals(plant.spec.calendar, plant.tz, start, end))
    return WorkClock(tuple(((a - start).total_seconds(), (b - start).total_seconds()) for a, b in spans))


def _station(bs: BoundStation, products: dict[str, ProductDef], cfg: Settings) -> StationSpec:
    spec, model = bs.spec, bs.model
    pipeline = model.time_basis == "pipeline"
    cv = (
        spec.time_cv
        if spec.time_cv is not None
        else (cfg.manual_cv if model.capacity in MANUAL else cfg.machine_cv)
    )
    visited = {code: p for code, p in products.items() if bs.id in p.routing}

    def timing(p: ProductDef) -> Dist:
        return (
            constant(bs.seconds(p))
            if pipeline or model.time_basis == "batch"
            else lognormal(bs.seconds(p), cv)
        )

    setup = constant(spec.setup_min * 60) if model.setup_on_change and spec.setup_min > 0 else None
    pairs = {}
    for key, minutes in spec.setup_pair_min.items():
        a, _, b = key.partition(">")
        pairs[(a, b)] = constant(minutes * 60)
    return StationSpec(
        id=bs.id,
        line=bs.line,
        time={code: timing(p) for code, p in visited.items()},
        servers=model.servers(spec) // (spec.rack_slots or 1),  # racks, when slots go in racks
        buffer=spec.buffer,
        setup=setup,
        setup_pairs=pairs,
        transit_s=model.transit_s(spec),
        conveyor_slots=_belt_places(spec, model.transit_s(spec)),
        mtbf_s=spec.mtbf_h * 3600 if spec.mtbf_h else None,
        mttr=lognormal(spec.mttr_min * 60, cfg.mttr_cv) if spec.mttr_min else None,
        fpy={code: bs.fpy(p) for code, p in visited.items()} if model.inspects else {},
        inspects=model.inspects,
        defects=model.defects,
        false_calls_per_unit=model.false_calls_per_unit,
        follows_clock=model.capacity != "slots",
        # machines that wait for an operator (operators on a station whose servers are its machines)
        operators=spec.operators if model.capacity == "machines" and spec.operators else None,
        operator_s=spec.operator_min * 60 if spec.operator_min else None,
        rack=spec.rack_slots if model.capacity == "slots" else None,
        rack_wait_s=spec.rack_wait_min * 60,
    )


def _belt_places(spec: StationDef, transit_s: float) -> int | None:
    """Boards a conveyor oven holds: as set in the plant file (`conveyor_boards`), else those its
    transit time fits at its pitch (5 min at 40 s: 8)."""
    if transit_s <= 0:
        return None
    if spec.conveyor_boards is not None:
        return spec.conveyor_boards
    return math.ceil(transit_s / spec.pitch_s) if spec.pitch_s else None


def _release(plan: PlanFile, source: str) -> Release:
    head = plan.plan
    if head.release == "plan":
        lots: list[Lot] = []
        for wo in plan.work_orders:
            size = wo.lot_size or wo.quantity
            release_s = wo.release_h * 3600 if wo.release_h is not None else None
            for first in range(0, wo.quantity, size):
                lots.append(Lot(wo.product, wo.id, min(size, wo.quantity - first), release_s))
        return Release("plan", lots=tuple(lots), wip_cap=head.wip_cap)
    if head.arrival is not None:
        try:
            arrival: Dist | None = dist_from_spec(head.arrival, "plan.arrival").scaled(60)
        except ValueError as exc:
            raise ConfigError(source, [str(exc)]) from None
    else:
        arrival = exponential(head.arrival_mean_min * 60) if head.arrival_mean_min else None
    return Release(
        head.release, wip_cap=head.wip_cap, arrival=arrival, mix=dict(head.mix), lot_size=head.lot_size
    )
