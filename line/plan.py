"""Production plan on the floor: work orders with a window, levelled over scheduled time.

A supervisor's board compares output with "what we should have made by now". The plan gives each
work order a quantity and a window [start, due). Orders that share a window are made one after
another in plan order at one constant rate over the window's *scheduled* time (takt time =
scheduled time / total quantity): the levelled plan. So at any moment the window's planned
cumulative output is total x (scheduled time elapsed / scheduled time of the window), and it fills
the orders in sequence. Breaks, nights and holidays add nothing to the plan.

An order without a due date has a quantity but no plan by time (its "planned by now" is None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    orders: Sequence[PlannedOrder], at: datetime, sched: ScheduledSeconds
) -> dict[str, float | None]:
    """Units each order should have completed by `at` under the levelled plan (None: no due date)."""
    out: dict[str, float | None] = {o.id: None for o in orders}
    for window, group in _windows(orders).items():
        cumulative = sum(o.quantity for o in group) * _window_fraction(window, at, sched)
        before = 0
        for o in group:  # the window's output fills its orders in sequence
            out[o.id] = min(max(cumulative - before, 0.0), float(o.quantity))
            before += o.quantity
    return out


def planned_between(
    orders: Sequence[PlannedOrder], a: datetime, b: datetime, sched: ScheduledSeconds
) -> float:
    """Units the plan calls for in [a, b), over all orders with a due date."""
    total = 0.0
    for window, group in _windows(orders).items():
        share = _window_fraction(window, b, sched) - _window_fraction(window, a, sched)
        total += sum(o.quantity for o in group) * share
    return total
