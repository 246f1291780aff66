"""Pure figure builders: data in, plotly figure out (unit-tested without a browser)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from line.kpi import ProductYield

# text colour bands used on the yield page (not colour alone: values are always printed)
GOOD, WARN = 0.95, 0.90


def fpy_heatmap(figs: dict[str, ProductYield], stations: Sequence[str]) -> go.Figure:
    """FPY of every product (rows) at every inspection station (columns); blank = no units."""
    cols = [s for s in stations if any(s in py.stations for py in figs.values())]
    rows = list(figs)
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for code in rows:
        zr: list[float | None] = []
        tr: list[str] = []
        for s in cols:
            t = figs[code].stations.get(s)
            f = t.fpy if t else None
            zr.append(None if f is None else round(f * 100, 2))
            tr.append("" if f is None else f"{f * 100:.1f}%")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 16},
            colorscale=[[0, "#d62728"], [0.5, "#ffbf00"], [1, "#2ca02c"]],
            zmin=85,
            zmax=100,
            colorbar={"title": "FPY %"},
            hovertemplate="%{y} at %{x}: FPY %{z:.2f}%<extra></extra>",
        )
    )
    fig.update_layout(
        title="First-pass yield per product and station",
        margin={"l": 90, "r": 20, "t": 50, "b": 40},
        height=120 + 60 * max(len(rows), 1),
        yaxis={"autorange": "reversed"},
        font={"size": 15},
    )
    return fig


def rty_bars(figs: dict[str, ProductYield]) -> go.Figure:
    """RTY and final yield side by side for each product."""
    codes = [c for c, py in figs.items() if py.units]
    fig = go.Figure()
    for name, values in (
        ("RTY", [figs[c].rty for c in codes]),
        ("Final yield", [figs[c].final_yield for c in codes]),
    ):
        vals = [None if v is None else v * 100 for v in values]
        fig.add_bar(
            name=name,
            x=codes,
            y=vals,
            text=[f"{v:.1f}%" if v is not None else "" for v in vals],
            textposition="outside",
        )
    fig.update_layout(
        barmode="group",
        yaxis={"title": "%", "range": [0, 105]},
        font={"size": 15},
        title="Rolled throughput yield and final yield",
        margin={"t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
