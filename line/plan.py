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

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from line.calendar import merge, scheduled_intervals
from line.config_model import Calendar

ScheduledSeconds = Callable[[datetime, datetime], float]


@dataclass(frozen=True)
class PlannedOrder:
    id: str
    product: str
    quantity: int
    start: datetime
    due: datetime | None = None


def scheduled_seconds(
    cal: Calendar, tz: ZoneInfo, span: tuple[datetime, datetime] | None = None
) -> ScheduledSeconds:
    """Scheduled (worked) seconds in [a, b) of the plant calendar. Within `span` the worked
    intervals are built once and each question is two lookups in their running total: a plan is
    asked about every window again at each moment it is evaluated (a week's plan per hour was
    1,700 calendar walks). Outside `span`, or without one, the calendar is walked each time."""

    def walked(a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        return sum((y - x).total_seconds() for x, y in scheduled_intervals(cal, tz, a, b))

    if span is None:
        return walked
    worked = merge(scheduled_intervals(cal, tz, *span))
    starts = [a for a, _ in worked]
    before = [0.0]  # worked seconds before each interval
    for a, b in worked:
        before.append(before[-1] + (b - a).total_seconds())

    def upto(t: datetime) -> float:
        i = bisect_right(starts, t)
        return 0.0 if i == 0 else before[i - 1] + (min(t, worked[i - 1][1]) - starts[i - 1]).total_seconds()

    def seconds(a: datetime, b: datetime) -> float:
        if b <= a:
            return 0.0
        if a < span[0] or b > span[1]:
            return walked(a, b)
        return upto(b) - upto(a)

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


def planned_totals(
    orders: Sequence[PlannedOrder],
    times: Sequence[datetime],
    sched: ScheduledSeconds,
    lead: Mapping[str, timedelta] | None = None,
) -> list[float]:
    """Units the plan calls for by each of `times`, over all orders with a due date: one
    evaluation per moment, so a series of periods costs one more than its length."""
    return [sum(n or 0.0 for n in planned_by(orders, t, sched, lead).values()) for t in times]


def planned_between(
    orders: Sequence[PlannedOrder],
    a: datetime,
    b: datetime,
    sched: ScheduledSeconds,
    lead: Mapping[str, timedelta] | None = None,
) -> float:
    """Units the plan calls for in [a, b), over all orders with a due date."""
    by_a, by_b = planned_totals(orders, [a, b], sched, lead)
    return by_b - by_a
