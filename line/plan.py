"""Production plan on the floor: work orders with a window, levelled over scheduled time.

A supervisor's board compares output with "what we should have made by now". The plan gives each
work order a quantity and a window [start, due). Orders that share a window are made one after
another in plan order at one constant rate over the window's *scheduled* time (takt time =
scheduled time / total quantity): the levelled plan. So at any moment the window's planned
cumulative output is total x (scheduled time elapsed / scheduled time of the window), and it fills
the orders in sequence. Breaks, nights and holidays add nothing to the plan.

An order without a due date has a quantity but no plan by time (its "planned by now" is None).
Output is counted where units finish (the last inspection of the routing, or of a line), so the
plan of completions starts one lead time after the release: the raw process time to that point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from line.calendar import scheduled_intervals
from line.config_model import Calendar

ScheduledSeconds = Callable[[datetime, datetime], float]


@dataclass(frozen=True)
class PlannedOrder:
    id: str
    product: str
    quantity: int
    start: datetime
    due: datetime | None = None


def scheduled_seconds(cal: Calendar, tz: ZoneInfo) -> ScheduledSeconds:
    """Scheduled (worked) seconds in [a, b) of the plant calendar."""

    def seconds(a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        return sum((y - x).total_seconds() for x, y in scheduled_intervals(cal, tz, a, b))

    return seconds


def _windows(orders: Sequence[PlannedOrder]) -> dict[tuple[datetime, datetime], list[PlannedOrder]]:
    """Orders with a due date grouped by window, in plan order within each."""
    out: dict[tuple[datetime, datetime], list[PlannedOrder]] = {}
    for o in orders:
        if o.due is not None and o.due > o.start:
            out.setdefault((o.start, o.due), []).append(o)
    return out


def _window_fraction(window: tuple[datetime, datetime], at: datetime, sched: ScheduledSeconds) -> float:
    """Share of the window's scheduled time that lies before `at` (0..1)."""
    start, due = window
    total = sched(start, due)
    if total <= 0:
        return 1.0 if at >= due else 0.0  # a window with no worked time: all due at its end
    return sched(start, min(max(at, start), due)) / total


def planned_by(
    orders: Sequence[PlannedOrder],
    at: datetime,
    sched: ScheduledSeconds,
    lead: Mapping[str, timedelta] | None = None,
) -> dict[str, float | None]:
    """Units each order should have completed by `at` under the levelled plan (None: no due date).
    `lead` (per product) is the time a unit needs from release to where output is counted: no
    unit can be done before it, so an order's completions are levelled from its release plus its
    lead to its due time (a Monday morning is not "behind" while the first units are in aging)."""
    out: dict[str, float | None] = {o.id: None for o in orders}
    for (start, due), group in _windows(orders).items():
        total = sum(o.quantity for o in group)
        before = 0
        for o in group:  # the window's output fills its orders in sequence
            late = (lead or {}).get(o.product, timedelta(0))
            cumulative = total * _window_fraction((min(start + late, due), due), at, sched)
            out[o.id] = min(max(cumulative - before, 0.0), float(o.quantity))
            before += o.quantity
    return out


def planned_between(
    orders: Sequence[PlannedOrder],
    a: datetime,
    b: datetime,
    sched: ScheduledSeconds,
    lead: Mapping[str, timedelta] | None = None,
) -> float:
    """Units the plan calls for in [a, b), over all orders with a due date."""
    by_b, by_a = planned_by(orders, b, sched, lead), planned_by(orders, a, sched, lead)
    return sum((by_b[o.id] or 0.0) - (by_a[o.id] or 0.0) for o in orders)
