"""Data the pages ask the store for, shaped for the figures (kept out of the page modules, which
Dash imports itself)."""

from __future__ import annotations

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
