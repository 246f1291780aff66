"""The plant file and a plan, turned into a network the engine runs.

Times, capacities, setups and defect spectra come from the station models (`stations/`), so the
simulated plant and the monitored one are the same plant. Conveyor ovens become pipelines (pitch
+ transit), aging racks one server per slot running around the clock, and the shift calendar the
work clock every other station follows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from line.calendar import merge, scheduled_intervals
from line.config import Plant
from line.config_model import ProductDef
from sim.clock import WorkClock
from sim.dists import Dist, constant, exponential, lognormal
from sim.network import Lot, Network, Release, StationSpec
from sim.plan import PlanFile, Settings
from stations.models import BoundStation, bind_plant

MANUAL = ("operators",)


def plan_start(plan: PlanFile, plant: Plant) -> datetime:
    start = plan.plan.start
    return start if start.tzinfo is not None else start.replace(tzinfo=plant.tz)


def build_network(plant: Plant, plan: PlanFile, horizon_h: float) -> Network:
    start = plan_start(plan, plant)
    cfg = plan.settings
    bound = bind_plant(plant)
    products = plant.spec.products
    stations = {sid: _station(bs, products, cfg) for sid, bs in bound.items()}
    return Network(
        stations=stations,
        routings={code: tuple(p.routing) for code, p in products.items()},
        release=_release(plan),
        clock=work_clock(plant, start, horizon_h),
        retest_pass=cfg.retest_pass,
        max_attempts=cfg.max_attempts,
        repair=lognormal(cfg.repair_min * 60, cfg.repair_cv),
    )


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
        servers=model.servers(spec),
        buffer=spec.buffer,
        setup=setup,
        setup_pairs=pairs,
        transit_s=model.transit_s(spec),
        mtbf_s=spec.mtbf_h * 3600 if spec.mtbf_h else None,
        mttr=lognormal(spec.mttr_min * 60, cfg.mttr_cv) if spec.mttr_min else None,
        fpy={code: bs.fpy(p) for code, p in visited.items()} if model.inspects else {},
        inspects=model.inspects,
        defects=model.defects,
        false_calls_per_unit=model.false_calls_per_unit,
        follows_clock=model.capacity != "slots",
    )


def _release(plan: PlanFile) -> Release:
    head = plan.plan
    if head.release == "plan":
        lots: list[Lot] = []
        for wo in plan.work_orders:
            size = wo.lot_size or wo.quantity
            release_s = wo.release_h * 3600 if wo.release_h is not None else None
            for first in range(0, wo.quantity, size):
                lots.append(Lot(wo.product, wo.id, min(size, wo.quantity - first), release_s))
        return Release("plan", lots=tuple(lots), wip_cap=head.wip_cap)
    arrival = exponential(head.arrival_mean_min * 60) if head.arrival_mean_min else None
    return Release(
        head.release, wip_cap=head.wip_cap, arrival=arrival, mix=dict(head.mix), lot_size=head.lot_size
    )
