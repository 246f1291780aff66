"""Data the pages ask the store for, shaped for the figures (kept out of the page modules, which
Dash imports itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from line.calendar import local_day_bounds
from line.config import Plant
from line.spc import Subgroup
from store.base import Store


def daily_subgroups(
    store: Store, plant: Plant, start: datetime, end: datetime, station: str, product: str | None
) -> list[Subgroup]:
    """One subgroup per plant-local day: units at the station by their first attempt, and how many
    failed it."""
    out = []
    day = start.astimezone(plant.tz).date()
    while True:
        a, b = local_day_bounds(plant.tz, day)
        if a >= end:
            break
        stations, _ = store.yield_tallies(max(a, start), min(b, end), product)
        n = sum(t.units for (_, s), t in stations.items() if s == station)
        ok = sum(t.first_pass for (_, s), t in stations.items() if s == station)
        out.append(Subgroup(day.isoformat(), n - ok, n))
        day += timedelta(days=1)
    return [g for g in out if g.n > 0]


@dataclass(frozen=True)
class OutputRow:
    product: str
    work_order: str | None
    started: int  # units whose first inspection of their routing was today
    completed: int  # units that finally passed the last inspection of their routing today


def today_output(store: Store, plant: Plant, start: datetime, end: datetime) -> list[OutputRow]:
    """Started and completed units per product and work order in [start, end)."""
    first = {c: plant.inspection_route(c)[0] for c in plant.spec.products if plant.inspection_route(c)}
    last = {c: plant.inspection_route(c)[-1] for c in first}
    counts: dict[tuple[str, str | None], list[int]] = {}
    for product, wo, station, units, final_pass in store.work_order_counts(
        start, end, set(first.values()) | set(last.values())
    ):
        row = counts.setdefault((product, wo), [0, 0])
        if station == first.get(product):
            row[0] += units
        if station == last.get(product):
            row[1] += final_pass
    return [
        OutputRow(p, wo, a, b)
        for (p, wo), (a, b) in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]
