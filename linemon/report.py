"""`linemon report yield`: the yield figures of a window, as a table or as stable JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from line.config import Plant
from line.kpi import ProductYield, line_yield, yield_report
from store.base import Store


def yield_figures(
    store: Store, plant: Plant, start: datetime, end: datetime, product: str | None = None
) -> dict[str, ProductYield]:
    stations, products = store.yield_tallies(start, end, product)
    return yield_report(plant, stations, products, only=product)


def as_json(figs: dict[str, ProductYield], start: datetime, end: datetime, plant: Plant) -> dict[str, Any]:
    tallies = {(code, sid): t for code, py in figs.items() for sid, t in py.stations.items()}
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "products": {code: py.to_json() for code, py in figs.items()},
        "lines": {line: line_yield(plant, tallies, line) for line in plant.spec.lines},
    }


def pct(x: float | None) -> str:
    return "   -  " if x is None else f"{x * 100:6.2f}%"


def as_table(
    figs: dict[str, ProductYield],
    start: datetime,
    end: datetime,
    tz_name: str,
    tz_start: datetime,
    tz_end: datetime,
) -> str:
    out = [f"Yield {tz_start:%Y-%m-%d %H:%M} - {tz_end:%Y-%m-%d %H:%M} ({tz_name})", ""]
    for code, py in figs.items():
        dpmo = "-" if py.dpmo is None else f"{py.dpmo:,.0f}"
        out.append(f"{code}  {py.name}")
        out.append(
            f"  units {py.units:>7}   RTY {pct(py.rty)}   final yield {pct(py.final_yield)}   DPMO {dpmo}"
        )
        if py.stations:
            out.append(f"  {'station':<8} {'units':>7} {'FPY':>8} {'final':>8} {'retests':>8}")
            for sid, t in py.stations.items():
                out.append(f"  {sid:<8} {t.units:>7} {pct(t.fpy):>8} {pct(t.final_yield):>8} {t.retests:>8}")
        else:
            out.append("  (no units in this period)")
        out.append("")
    return "\n".join(out)
