"""Figures over time for the yield and QA pages: RTY per product by shift, day or week, and the
weekly failure trend. One store query per period (each served by the hourly roll-ups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from line.calendar import buckets
from line.config import Plant
from line.kpi import StationTally, ratio, yield_report
from store.base import Store, Tallies

MAX_BUCKETS = 120  # a trend wider than this is cut to its latest periods


def on_line(plant: Plant, tallies: Tallies, line: str | None) -> Tallies:
    """Tallies of one line's stations only (None: every station); unit-level totals unchanged."""
    if not line:
        return tallies
    own = set(plant.spec.lines[line].stations)
    return {k: v for k, v in tallies[0].items() if k[1] in own}, tallies[1]


@dataclass(frozen=True)
class TrendPoint:
    period: str
    product: str
    units: int
    rty: float | None


def yield_trend(
    store: Store, plant: Plant, start: datetime, end: datetime, kind: str, line: str | None = None
) -> list[TrendPoint]:
    """RTY of every product with units, per shift/day/week of [start, end) (units by their first
    attempt in the period), over the line's stations when a line is chosen."""
    out = []
    for label, (a, b) in buckets(plant.spec.calendar, plant.tz, start, end, kind)[-MAX_BUCKETS:]:
        figs = yield_report(plant, *on_line(plant, store.yield_tallies(a, b), line))
        out += [TrendPoint(label, code, py.units, py.rty) for code, py in figs.items() if py.stations]
    return out


@dataclass(frozen=True)
class WeekFailures:
    week: str
    defects: dict[str, int]  # confirmed defects by code
    units: int  # units inspected (first attempts at every inspection station)
    failed_first: int  # of them, failed their first attempt

    @property
    def fail_rate(self) -> float | None:
        return ratio(self.failed_first, self.units)


def weekly_failures(
    store: Store, plant: Plant, start: datetime, end: datetime, product: str | None = None
) -> list[WeekFailures]:
    """Per ISO week: confirmed defects by code, and the first-pass failure share over all
    inspection attempts of the week."""
    out = []
    for label, (a, b) in buckets(plant.spec.calendar, plant.tz, start, end, "week"):
        stations, _ = store.yield_tallies(a, b, product)
        total = sum((t for t in stations.values()), StationTally())
        codes = store.defect_counts(a, b, "code", product)
        out.append(WeekFailures(label, codes, total.units, total.units - total.first_pass))
    return out
