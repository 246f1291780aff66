"""`linemon report yield`: the yield figures of a window, as a table or as stable JSON."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from line.config import Plant
from line.i18n import N_, t
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
    plant: Plant,
    tz_start: datetime,
    tz_end: datetime,
    lang: str = "en",
) -> str:
    """The figures as a floor user reads them, in `lang` (`LANG=ko_KR.UTF-8` gives Korean)."""
    head = t("Yield {start} - {end} ({tz})", lang, start=f"{tz_start:%Y-%m-%d %H:%M}",
             end=f"{tz_end:%Y-%m-%d %H:%M}", tz=plant.spec.site.timezone)  # fmt: skip
    out = [head, ""]
    cols = [t(c, lang) for c in (N_("station"), N_("units"), N_("FPY"), N_("final"), N_("retests"))]
    for code, py in figs.items():
        dpmo = "-" if py.dpmo is None else f"{py.dpmo:,.0f}"
        out.append(f"{code}  {plant.name_of('product', code, lang)}")
        out.append("  " + t("units {units}   RTY {rty}   final yield {final}   DPMO {dpmo}", lang,
                             units=f"{py.units:>7}", rty=pct(py.rty), final=pct(py.final_yield), dpmo=dpmo))  # fmt: skip
        if py.stations:
            out.append("  " + " ".join(_pad(c, w, i == 0) for i, (c, w) in enumerate(zip(cols, WIDTHS, strict=True))))
            for sid, tl in py.stations.items():
                out.append(f"  {sid:<8} {tl.units:>7} {pct(tl.fpy):>8} {pct(tl.final_yield):>8} {tl.retests:>8}")
        else:
            out.append("  " + t("(no units in this period)", lang))
        out.append("")
    return "\n".join(out)


WIDTHS = (8, 7, 8, 8, 8)


def _pad(label: str, width: int, left: bool) -> str:
    """A column head padded to `width` terminal cells (a Hangul syllable takes two)."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in label)
    fill = " " * max(0, width - cells)
    return label + fill if left else fill + label
