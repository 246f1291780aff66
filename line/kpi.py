"""Yield figures from tallies (DESIGN.md §5, reference/kpis-and-features.md §4).

Definitions, per station, product and window (the window selects units by their FIRST attempt at
the station, so a unit belongs to exactly one window however long its repair loop takes):
- FPY = units whose first attempt passed / units.
- Final yield = units whose last attempt (as of now) passed / units.
- Retests = attempts beyond the first; retest rate = retests / units.
- DPU = confirmed defects / units. A defect call the operator rejected is a false call, not a
  defect; false-call rate = false calls / all calls (defects + false calls).
Per product: RTY = product of the FPYs of the inspection stations on its routing that have units
in the window; units = distinct serials whose first record falls in the window; final yield =
units whose last attempt passed at every station they visited / units;
DPMO = confirmed defects / (units x opportunities) x 10^6, opportunities per IPC-7912A.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from line.config import Plant


@dataclass(frozen=True)
class StationTally:
    """Counts for one product at one station over a window of first attempts."""

    units: int = 0
    first_pass: int = 0
    final_pass: int = 0
    attempts: int = 0
    defects: int = 0
    false_calls: int = 0

    def __add__(self, o: StationTally) -> StationTally:
        return StationTally(*(a + b for a, b in zip(self.astuple(), o.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.units, self.first_pass, self.final_pass, self.attempts, self.defects, self.false_calls)

    @property
    def fpy(self) -> float | None:
        return ratio(self.first_pass, self.units)

    @property
    def final_yield(self) -> float | None:
        return ratio(self.final_pass, self.units)

    @property
    def retests(self) -> int:
        return self.attempts - self.units

    @property
    def retest_rate(self) -> float | None:
        return ratio(self.retests, self.units)

    @property
    def dpu(self) -> float | None:
        return ratio(self.defects, self.units)

    @property
    def false_call_rate(self) -> float | None:
        return ratio(self.false_calls, self.defects + self.false_calls)


@dataclass(frozen=True)
class ProductTally:
    """Counts over the distinct units of one product whose first record falls in the window."""

    units: int = 0
    final_good: int = 0
    defects: int = 0

    def __add__(self, o: ProductTally) -> ProductTally:
        return ProductTally(self.units + o.units, self.final_good + o.final_good, self.defects + o.defects)


def ratio(num: float, den: float) -> float | None:
    """num/den, or None when there is nothing to divide by (shown as "no data", never as 0 %)."""
    return num / den if den else None


def rty(fpys: list[float]) -> float | None:
    """Rolled throughput yield: the product of the step FPYs; None with no step."""
    return math.prod(fpys) if fpys else None


def dpmo(defects: int, units: int, opportunities: int) -> float | None:
    return ratio(defects * 1_000_000, units * opportunities)


@dataclass(frozen=True)
class ProductYield:
    code: str
    name: str
    units: int
    rty: float | None
    final_yield: float | None
    dpmo: float | None
    dpu: float | None
    stations: dict[str, StationTally] = field(default_factory=dict)
    route_stations: int = 0  # inspection stations on the routing (within the chosen line)
    rty_stations: int = 0  # of them, those whose FPY the RTY multiplies (units in the window)

    def to_json(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "rty": self.rty,
            "final_yield": self.final_yield,
            "dpmo": self.dpmo,
            "rty_stations": self.rty_stations,
            "route_stations": self.route_stations,
            "stations": {
                sid: {
                    "units": t.units,
                    "fpy": t.fpy,
                    "final_yield": t.final_yield,
                    "retests": t.retests,
                    "dpu": t.dpu,
                    "false_call_rate": t.false_call_rate,
                }
                for sid, t in self.stations.items()
            },
        }


def product_yield(
    plant: Plant,
    code: str,
    stations: Mapping[str, StationTally],
    totals: ProductTally,
    within: Collection[str] | None = None,
) -> ProductYield:
    """Combine one product's tallies into its yield figures (stations in routing order; only
    those `within` a line when given). No unit of the product entered the window: no RTY (a
    figure without units), though stations may show units that entered earlier."""
    prod = plant.product(code)
    route = [s for s in plant.inspection_route(code) if within is None or s in within]
    ordered = {s: stations[s] for s in route if s in stations and stations[s].units}
    fpys = [t.fpy for t in ordered.values() if t.fpy is not None]
    return ProductYield(
        code=code,
        name=prod.name,
        units=totals.units,
        rty=rty(fpys) if totals.units else None,
        final_yield=ratio(totals.final_good, totals.units),
        dpmo=dpmo(totals.defects, totals.units, prod.opportunities),
        dpu=ratio(totals.defects, totals.units),
        stations=ordered,
        route_stations=len(route),
        rty_stations=len(fpys),
    )


def yield_report(
    plant: Plant,
    stations: Mapping[tuple[str, str], StationTally],
    products: Mapping[str, ProductTally],
    only: str | None = None,
    within: Collection[str] | None = None,
) -> dict[str, ProductYield]:
    """Yield figures for every configured product (or `only` one), over the stations `within`
    a line when given; products without data are listed with zero units so that "no data" is
    visible rather than silently missing."""
    out = {}
    for code in plant.spec.products:
        if only and code != only:
            continue
        per_station = {sid: t for (p, sid), t in stations.items() if p == code}
        out[code] = product_yield(plant, code, per_station, products.get(code, ProductTally()), within)
    return out


@dataclass(frozen=True)
class ParetoBar:
    key: str
    count: int
    cumulative_share: float


def pareto(counts: Mapping[str, int]) -> list[ParetoBar]:
    """Bars sorted by count (ties by key, for a stable order) with the cumulative share."""
    total = sum(counts.values())
    bars, cum = [], 0
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n <= 0:
            continue
        cum += n
        bars.append(ParetoBar(key, n, cum / total))
    return bars


def line_yield(plant: Plant, stations: Mapping[tuple[str, str], StationTally], line: str) -> dict[str, Any]:
    """A line's figures from the station tallies: per product, the RTY over the line's inspection
    stations on its routing; for the line, FPY per station over all products (summed counts)."""
    own = [s for s in plant.spec.lines[line].stations if plant.inspects(s)]
    per_product = {}
    for code in plant.spec.products:
        fpys = [
            t.fpy for s in own if (t := stations.get((code, s))) is not None and t.units and t.fpy is not None
        ]
        per_product[code] = rty(fpys)
    totals = {sid: t for sid, t in station_totals(stations).items() if sid in own}
    return {"rty": per_product, "fpy": {s: totals[s].fpy for s in own if s in totals}}


def station_totals(stations: Mapping[tuple[str, str], StationTally]) -> dict[str, StationTally]:
    """Tallies per station over all products (counts summed, never percentages averaged)."""
    out: dict[str, StationTally] = {}
    for (_code, sid), t in stations.items():
        out[sid] = out.get(sid, StationTally()) + t
    return out
