"""A plan played week after week from a given start: the network of the line twin.

The reference plan describes one week; the twin repeats it from its own start (the plant's clock,
not the plan's date), numbering the work orders by the ISO week they are released in, so the
plant keeps working as long as the twin runs. Drifts make a process go wrong on the way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from line.config import Plant
from sim.network import FpyDrift, Lot, Network, Release
from sim.plan import PlanFile
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
        year, week, _ = (start + timedelta(weeks=k)).isocalendar()
        for i, lot in enumerate(release.lots):
            at = lot.release_s if lot.release_s is not None else (0.0 if i == 0 else None)
            lots.append(
                Lot(
                    lot.product,
                    f"WO-{year % 100:02d}{week:02d}-{order[lot.work_order]:02d}",
                    lot.quantity,
                    None if at is None else k * WEEK_S + at,
                )
            )
    return replace(release, lots=tuple(lots))
