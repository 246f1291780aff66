"""Data the pages ask the store for, shaped for the figures (kept out of the page modules, which
Dash imports itself)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from line.calendar import Interval, local_day_bounds
from line.config import Plant
from line.e10 import TimeSplit, loaded_oee
from line.kpi import StationTally
from line.oee import Oee
from line.plan import PlannedOrder, planned_by, planned_totals, scheduled_seconds
from line.spc import Subgroup
from stations.models import bind_plant, planned_lead_times
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
class OrderRow:
    """One work order on the andon: its plan, its output so far and today's."""

    product: str
    work_order: str | None
    quantity: int | None  # planned quantity (None: not in the plan)
    planned_now: float | None  # units the levelled plan calls for by now (None: no due date)
    done: int  # units that finally passed the last inspection of their routing, all time
    started_today: int  # units whose first inspection of their routing was today
    done_today: int  # of the units done, those whose last inspection was first tried today
    scrapped: int  # units scrapped by the plant's repair rule (a final disposition, not WIP)
    open: int  # units started (all time), not done and not scrapped: still in the line or in repair

    @property
    def versus_plan(self) -> float | None:
        return None if self.planned_now is None else self.done - self.planned_now


RECENT_PLAN_DAYS = 62  # how far back the andon looks for the plan of an order worked on today


def _ends(plant: Plant) -> tuple[dict[str, str], dict[str, str]]:
    """First and last inspection station of each product's routing."""
    routes = {c: plant.inspection_route(c) for c in plant.spec.products}
    return {c: r[0] for c, r in routes.items() if r}, {c: r[-1] for c, r in routes.items() if r}


def order_progress(store: Store, plant: Plant, now: datetime, day: Interval) -> list[OrderRow]:
    """Every work order planned over `day` or worked on during it, planned ones first in plan
    order. A finished order whose window ended before the day drops off once nothing happens to it."""
    first, last = _ends(plant)
    ends = set(first.values()) | set(last.values())
    today: dict[tuple[str, str | None], list[int]] = {}
    for product, wo, station, units, final_pass in store.work_order_counts(
        day[0], min(day[1], now + timedelta(seconds=1)), ends
    ):
        _count(today.setdefault((product, wo), [0, 0]), product, station, units, final_pass, first, last)
    # orders of earlier windows too: last week's order still finishing today is a planned order
    known = store.planned_orders(day[0] - timedelta(days=RECENT_PLAN_DAYS), day[1])
    worked = {wo for _, wo in today}
    orders = [o for o in known if o.id in worked or o.due is None or o.due > day[0]]
    lead = planned_lead_times(plant, last)  # output counts at the routing's last inspection
    planned = planned_by(
        known, now, scheduled_seconds(plant.spec.calendar, plant.tz, _span(known, now, now)), lead
    )
    product_of = {o.id: o.product for o in orders} | {wo: p for p, wo in today if wo and wo not in planned}
    totals: dict[str, list[int]] = {}
    for wo, station, units, final_pass in store.work_order_totals(set(product_of), ends):
        _count(totals.setdefault(wo, [0, 0]), product_of[wo], station, units, final_pass, first, last)
    unplanned = sorted((k for k in today if k[1] not in planned), key=lambda k: (k[0], k[1] or ""))
    scrap = store.scrapped_units(set(product_of), plant.spec.rework.scrap_after_failures)
    out = []
    for o in orders:
        t_started, t_done = today.get((o.product, o.id), [0, 0])
        started, done = totals.get(o.id, [0, 0])
        ended = o.due is None or o.due < day[0]
        if done >= o.quantity and ended and not (t_started or t_done):
            continue  # finished earlier and idle today
        gone = scrap.get(o.id, 0)
        out.append(
            OrderRow(
                o.product, o.id, o.quantity, planned[o.id], done, t_started, t_done, gone,
                max(started - done - gone, 0),
            )
        )  # fmt: skip
    for product, wo in unplanned:
        t_started, t_done = today[(product, wo)]
        started, done = totals.get(wo, [0, 0]) if wo else (t_started, t_done)  # no order: today only
        gone = scrap.get(wo, 0) if wo else 0
        out.append(
            OrderRow(product, wo, None, None, done, t_started, t_done, gone, max(started - done - gone, 0))
        )
    return out


def _span(orders: Sequence[PlannedOrder], start: datetime, end: datetime) -> Interval:
    """The time the plan's questions about `orders` over [start, end] can touch."""
    dues = [o.due for o in orders if o.due is not None]
    return min([start, *(o.start for o in orders)]), max([end, *dues])


def _count(
    cell: list[int],
    product: str,
    station: str,
    units: int,
    final_pass: int,
    first: dict[str, str],
    last: dict[str, str],
) -> None:
    """Add a station's counts to [started, done]: units at the product's first inspection are
    started, units finally passed at its last one are done."""
    cell[0] += units if station == first.get(product) else 0
    cell[1] += final_pass if station == last.get(product) else 0


def hourly_output(
    store: Store, plant: Plant, station: str, start: datetime, end: datetime
) -> list[tuple[datetime, int, int, float | None]]:
    """Per local hour of [start, end): (hour, units first tried at `station`, of them finally
    passed, units the levelled plan calls for in that hour or None without a plan)."""
    seen = store.hourly_station_output(start, end, station)
    recent = store.planned_orders(start - timedelta(days=RECENT_PLAN_DAYS), end)
    orders = [o for o in recent if o.due is not None and o.due > start]
    sched = scheduled_seconds(plant.spec.calendar, plant.tz, _span(orders, start, end))
    lead = planned_lead_times(plant, dict.fromkeys(plant.spec.products, station))  # to this station
    hours = []
    h = start.replace(minute=0, second=0, microsecond=0)
    while h < end:
        hours.append(h)
        h += timedelta(hours=1)
    cuts = [max(h, start) for h in hours] + [end]
    totals = planned_totals(orders, cuts, sched, lead) if orders else None
    return [
        (h, *seen.get(h, (0, 0)), None if totals is None else totals[k + 1] - totals[k])
        for k, h in enumerate(hours)
    ]


def station_oees(
    plant: Plant,
    splits: Mapping[str, TimeSplit],
    tallies: Mapping[tuple[str, str], StationTally],
) -> dict[str, Oee]:
    """Equipment OEE per station over its loaded time (`line.e10`): the plant file's process time
    per unit (station model) as the ideal cycle time for every attempt, first passes over attempts
    as quality. Stations without inspections have no counts (performance unknown)."""
    bound = bind_plant(plant)
    counts: dict[str, list[tuple[float, StationTally]]] = {}
    for (p, st), t in tallies.items():
        if st not in bound or p not in plant.spec.products:
            continue  # a station or product the plant file no longer has
        counts.setdefault(st, []).append((bound[st].seconds(plant.product(p)), t))
    out = {}
    for sid, split in splits.items():
        c = counts.get(sid, [])
        ideal = sum(ct * t.attempts for ct, t in c)
        out[sid] = loaded_oee(split, ideal, sum(t.attempts for _, t in c), sum(t.first_pass for _, t in c))
    return out
