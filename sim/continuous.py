"""A plan played week after week from a given start: the network of the line twin.

The reference plan describes one week; the twin repeats it from its own start (the plant's clock,
not the plan's date), numbering the work orders by the ISO week they are released in, so the
plant keeps working as long as the twin runs. Drifts make a process go wrong on the way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from line.config import Plant
from line.plan import PlannedOrder
from sim.network import FpyDrift, Lot, Network, Release
from sim.plan import PlanFile, floor_orders
from sim.plant import build_network

WEEK_S = 7 * 86400.0


def repeating_network(
    plant: Plant,
    plan: PlanFile,
    start: datetime,
    weeks: int,
    drifts: tuple[FpyDrift, ...] = (),
    source: str = "<plan>",
) -> Network:
    """The plan's network from `start` over `weeks` weeks, its work orders released again each week."""
    local = start.astimezone(plant.tz)
    moved = plan.model_copy(update={"plan": plan.plan.model_copy(update={"start": local})})
    net = build_network(plant, moved, weeks * 168.0, source)
    if net.release.mode != "plan":
        return replace(net, drifts=drifts)  # conwip and arrivals run on by themselves
    return replace(net, release=_weekly(net.release, local, weeks), drifts=drifts)


def _weekly(release: Release, start: datetime, weeks: int) -> Release:
    """The week's lots again every week: the first lot of a week waits for its week; the others
    follow in sequence, as the plan has them. Work orders are named by the plant-local ISO week."""
    order = {wo: i + 1 for i, wo in enumerate(dict.fromkeys(lot.work_order for lot in release.lots))}
    lots: list[Lot] = []
    for k in range(weeks):
        for i, lot in enumerate(release.lots):
            at = lot.release_s if lot.release_s is not None else (0.0 if i == 0 else None)
            lots.append(
                Lot(
                    lot.product,
                    _weekly_name(start, k, order[lot.work_order]),
                    lot.quantity,
                    None if at is None else k * WEEK_S + at,
                )
            )
    return replace(release, lots=tuple(lots))


def _weekly_name(start: datetime, week_index: int, n: int) -> str:
    year, week, _ = (start + timedelta(weeks=week_index)).isocalendar()
    return f"WO-{year % 100:02d}{week:02d}-{n:02d}"


def weekly_orders(plant: Plant, plan: PlanFile, start: datetime, weeks: int) -> list[PlannedOrder]:
    """The floor's plan (`line.plan`) of the repeated plan: each week's orders under the names
    `repeating_network` gives them, their windows moved with the week."""
    local = start.astimezone(plant.tz)
    base = floor_orders(plan, plant, local)
    out = []
    for k in range(weeks):
        for n, o in enumerate(base, start=1):
            due = None if o.due is None else o.due + timedelta(weeks=k)
            out.append(replace(o, id=_weekly_name(local, k, n), start=o.start + timedelta(weeks=k), due=due))
    return out
