"""Data the pages ask the store for, shaped for the figures (kept out of the page modules, which
Dash imports itself)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from line.calendar import Interval, local_day_bounds
from line.config import Plant
from line.kpi import StationTally
from line.oee import Oee, station_oee
from line.spc import Subgroup
from line.status import Segment
from stations.models import bind_plant
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


def station_oees(
    plant: Plant,
    segs: Sequence[Segment],
    scheduled: list[Interval],
    tallies: Mapping[tuple[str, str], StationTally],
) -> dict[str, Oee]:
    """OEE per station over `scheduled` time: each machine's running segments, the plant file's
    process time per unit (station model) as the ideal cycle time for every attempt, first passes
    over attempts as quality. Stations without inspections have no counts (performance unknown)."""
    bound = bind_plant(plant)
    runs: dict[str, dict[str, list[Interval]]] = {sid: {} for sid in plant.spec.stations}
    for seg in segs:  # one pass: each machine of each station, with its running segments
        machine = runs.setdefault(seg.station, {}).setdefault(seg.equipment, [])
        if seg.display == "running":
            machine.append((seg.start, seg.end))
    counts: dict[str, list[tuple[float, StationTally]]] = {}
    for (p, st), t in tallies.items():
        if st not in bound or p not in plant.spec.products:
            continue  # a station or product the plant file no longer has
        counts.setdefault(st, []).append((bound[st].seconds(plant.product(p)), t))
    out = {}
    for sid in plant.spec.stations:
        c = counts.get(sid, [])
        ideal = sum(ct * t.attempts for ct, t in c)
        out[sid] = station_oee(
            runs[sid], scheduled, ideal, sum(t.attempts for _, t in c), sum(t.first_pass for _, t in c)
        )
    return out
