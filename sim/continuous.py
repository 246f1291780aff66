"""A plan played week after week from a given start: the network of the line twin.

The reference plan describes one week; the twin repeats it from its own start (the plant's clock,
not the plan's date), numbering the work orders by the ISO week they are released in, so the
plant keeps working as long as the twin runs. A real plant always has orders: with a `load`, each
week's orders keep the plan's mix and lot sizes but are scaled to what that week's scheduled time
can take (rough-cut capacity, `sim.capacity`), due at the end of the week's last shift, so the
line is still loaded on a Friday afternoon and a holiday week gets less. Drifts make a process go
wrong on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from line.config import Plant
from line.plan import PlannedOrder
from sim.capacity import fill_factor
from sim.clock import WorkClock
from sim.network import FpyDrift, Lot, Network, Release
from sim.plan import PlanFile, floor_orders
from sim.plant import build_network

WEEK_S = 7 * 86400.0
RELEASE_SPAN = 0.9  # a rolling week's lots are released over this share of its scheduled time


@dataclass(frozen=True)
class RollingPlan:
    """The twin's network and the floor's plan of the same orders (`line.plan`)."""

    network: Network
    orders: list[PlannedOrder]
    factors: tuple[float, ...]  # each week's quantities over the plan's (1.0: as written)


def rolling_plan(
    plant: Plant,
    plan: PlanFile,
    start: datetime,
    weeks: int,
    drifts: tuple[FpyDrift, ...] = (),
    source: str = "<plan>",
    load: float | None = None,
) -> RollingPlan:
    """The plan from `start` over `weeks` weeks, its work orders released again each week; with
    `load` (0-1] each week's quantities fill that share of the week's capacity."""
    local = start.astimezone(plant.tz)
    moved = plan.model_copy(update={"plan": plan.plan.model_copy(update={"start": local})})
    net = build_network(plant, moved, weeks * 168.0, source)
    base = floor_orders(plan, plant, local)
    if net.release.mode != "plan":
        return RollingPlan(replace(net, drifts=drifts), base, (1.0,) * weeks)  # conwip, arrivals
    factors = tuple(_factor(net, k, load) for k in range(weeks))
    lots = _weekly(net.release, local, factors, net.clock if load is not None else None)
    orders = _weekly_orders(base, lots, local, factors, net, load is not None)
    return RollingPlan(replace(net, release=replace(net.release, lots=lots), drifts=drifts), orders, factors)


def _factor(net: Network, week: int, load: float | None) -> float:
    if load is None or net.clock is None:
        return 1.0
    scheduled = net.clock.on_seconds(week * WEEK_S, (week + 1) * WEEK_S)
    return fill_factor(net, net.release.lots, scheduled, WEEK_S, load) if scheduled > 0 else 0.0


def _weekly(
    release: Release, start: datetime, factors: tuple[float, ...], clock: WorkClock | None
) -> tuple[Lot, ...]:
    """The week's orders again every week, each order's quantity times the week's factor in lots
    of the plan's lot size. Work orders are named by the plant-local ISO week. As written (no
    `clock`), the first lot of a week waits for its week and the others follow in sequence; a
    rolling plan releases its lots levelled over the week's scheduled time (`_levelled`)."""
    orders: dict[str, list[Lot]] = {}
    for lot in release.lots:
        orders.setdefault(lot.work_order, []).append(lot)
    lots: list[Lot] = []
    for k, factor in enumerate(factors):
        week: list[Lot] = []
        for n, group in enumerate(orders.values(), start=1):
            quantity = _scaled(sum(lot.quantity for lot in group), factor)
            size = group[0].quantity
            at = group[0].release_s if group[0].release_s is not None else (0.0 if n == 1 else None)
            name = _weekly_name(start, k, n)
            for first in range(0, quantity, size):
                lot_at = None if at is None or first else k * WEEK_S + at
                week.append(Lot(group[0].product, name, min(size, quantity - first), lot_at))
        lots += week if clock is None else _levelled(week, clock, k)
    return tuple(lots)


def _levelled(week: list[Lot], clock: WorkClock, k: int) -> list[Lot]:
    """Lots without a release time of their own released at the week's takt: lot j when the share
    of the week's units before it has had the same share of the first RELEASE_SPAN of the week's
    scheduled time, so the whole line works all week at the plan's rate, as heijunka releases do,
    and the last lots still finish in the week."""
    span = clock.on_seconds(k * WEEK_S, (k + 1) * WEEK_S) * RELEASE_SPAN
    total = sum(lot.quantity for lot in week) or 1
    out, before = [], 0
    for lot in week:
        at = lot.release_s
        if at is None:
            at = clock.after_on(k * WEEK_S, span * before / total)
        out.append(replace(lot, release_s=at))
        before += lot.quantity
    return out


def _scaled(quantity: int, factor: float) -> int:
    """An order's quantity in a week: the plan's times the week's factor; none in a week without
    scheduled time, at least one otherwise."""
    return 0 if factor <= 0 else max(1, round(quantity * factor))


def _weekly_name(start: datetime, week_index: int, n: int) -> str:
    year, week, _ = (start + timedelta(weeks=week_index)).isocalendar()
    return f"WO-{year % 100:02d}{week:02d}-{n:02d}"


def _weekly_orders(
    base: list[PlannedOrder],
    lots: tuple[Lot, ...],
    start: datetime,
    factors: tuple[float, ...],
    net: Network,
    rolling: bool,
) -> list[PlannedOrder]:
    """The floor's plan of the repeated orders: names and quantities as released, windows moved
    with the week; a scaled week's orders are due at the end of its last shift."""
    made: dict[str, int] = {}
    for lot in lots:
        made[lot.work_order] = made.get(lot.work_order, 0) + lot.quantity
    out = []
    for k in range(len(factors)):
        week_end = _last_shift_end(net, k, start) if rolling else None
        for n, o in enumerate(base, start=1):
            name = _weekly_name(start, k, n)
            if name not in made:
                continue
            due = week_end or (None if o.due is None else o.due + timedelta(weeks=k))
            out.append(replace(o, id=name, quantity=made[name], start=o.start + timedelta(weeks=k), due=due))
    return out


def _last_shift_end(net: Network, week: int, start: datetime) -> datetime | None:
    if net.clock is None:
        return None
    ends = [b for a, b in net.clock.intervals if week * WEEK_S <= a < (week + 1) * WEEK_S]
    return start + timedelta(seconds=ends[-1]) if ends else None
