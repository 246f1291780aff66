"""Pure figure builders: data in, plotly figure out (unit-tested without a browser)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import plotly.graph_objects as go

from line.i18n import N_, t
from line.kpi import ParetoBar, ProductYield
from line.spc import PPoint
from line.status import LABELS, Segment

HOUR_MS = 3_600_000

# text colour bands used on the yield page (not colour alone: values are always printed)
GOOD, WARN = 0.95, 0.90


def fpy_heatmap(figs: dict[str, ProductYield], stations: Sequence[str], lang: str = "en") -> go.Figure:
    """FPY of every product (rows) at every inspection station (columns); blank = no units."""
    cols = [s for s in stations if any(s in py.stations for py in figs.values())]
    rows = list(figs)
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for code in rows:
        zr: list[float | None] = []
        tr: list[str] = []
        for s in cols:
            tally = figs[code].stations.get(s)
            f = tally.fpy if tally else None
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
            colorbar={"title": t("FPY %", lang)},
            hovertemplate="%{y} at %{x}: FPY %{z:.2f}%<extra></extra>",
        )
    )
    fig.update_layout(
        title=t("First-pass yield per product and station", lang),
        margin={"l": 90, "r": 20, "t": 50, "b": 40},
        height=120 + 60 * max(len(rows), 1),
        yaxis={"autorange": "reversed"},
        font={"size": 15},
    )
    return fig


def rty_bars(figs: dict[str, ProductYield], lang: str = "en") -> go.Figure:
    """RTY and final yield side by side for each product."""
    codes = [c for c, py in figs.items() if py.units]
    fig = go.Figure()
    for name, values in (
        (N_("RTY"), [figs[c].rty for c in codes]),
        (N_("Final yield"), [figs[c].final_yield for c in codes]),
    ):
        vals = [None if v is None else v * 100 for v in values]
        fig.add_bar(
            name=t(name, lang),
            x=codes,
            y=vals,
            text=[f"{v:.1f}%" if v is not None else "" for v in vals],
            textposition="outside",
        )
    fig.update_layout(
        barmode="group",
        yaxis={"title": "%", "range": [0, 105]},
        font={"size": 15},
        title=t("Rolled throughput yield and final yield", lang),
        margin={"t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


def pareto_figure(
    bars: Sequence[ParetoBar], title: str, unit: str = N_("defects"), lang: str = "en", empty: str | None = None
) -> go.Figure:
    """Bars by count, largest first, with the cumulative share as a line on a 0-100 % axis; with
    no bars, `empty` says so in words instead of drawing an empty axis."""
    if not bars:
        return message_figure(title, empty or t("nothing in this period", lang))
    keys = [b.key for b in bars]
    fig = go.Figure(
        [
            go.Bar(x=keys, y=[b.count for b in bars], name=t("Count", lang), text=[b.count for b in bars], textposition="outside"),
            go.Scatter(
                x=keys, y=[round(b.cumulative_share * 100, 1) for b in bars], name=t("Cumulative %", lang), yaxis="y2",
                mode="lines+markers", line={"color": "#d62728"},
            ),
        ]
    )  # fmt: skip
    fig.update_layout(
        title=title, yaxis=count_axis(t(unit, lang), max(b.count for b in bars)),
        yaxis2={"title": t("Cumulative %", lang), "overlaying": "y", "side": "right", "range": [0, 105], "ticksuffix": " %",
                "tickmode": "array", "tickvals": [0, 20, 40, 60, 80, 100], "ticktext": [f"{v} %" for v in range(0, 101, 20)]},
        margin={"t": 50, "b": 40}, legend={"orientation": "h", "y": -0.2}, font={"size": 15},
    )  # fmt: skip
    return fig


def count_axis(title: str, most: int) -> dict[str, Any]:
    """A y axis of whole counts: no 0.2 of a defect when there are only a few."""
    axis: dict[str, Any] = {"title": title, "rangemode": "tozero"}
    if most <= 10:
        axis.update(tick0=0, dtick=1, range=[0, most * 1.15 + 0.5])
    return axis


def message_figure(title: str, text: str) -> go.Figure:
    """A figure that says in words why there is nothing to draw (no empty -1..6 axes)."""
    fig = go.Figure()
    fig.update_layout(
        title=title, xaxis={"visible": False}, yaxis={"visible": False}, font={"size": 15}, height=320,
        annotations=[{"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                      "font": {"size": 20, "color": "#555"}, "name": "empty-message"}],
    )  # fmt: skip
    return fig


def p_chart_figure(points: Sequence[PPoint], baseline_label: str, title: str, lang: str = "en") -> go.Figure:
    """Fraction failing per subgroup (each point labelled with its n) with its own limits drawn
    as steps; rule violations marked. The subgroup axis is categorical, so one to three days
    read as days, not as a millisecond time axis."""
    x = [p.label for p in points]
    pct = [round(p.p * 100, 3) for p in points]
    n_text = [f"n={p.n}" for p in points]
    traces = [
        go.Scatter(x=x, y=pct, mode="lines+markers+text", name=t("p (% failing first pass)", lang),
                   line={"color": "#1f77b4"}, marker={"size": 9}, text=n_text, textposition="bottom center",
                   customdata=[[p.n, round(p.p * p.n)] for p in points],
                   hovertemplate="%{x}: %{y:.2f} % (%{customdata[1]} / %{customdata[0]})<extra></extra>"),
    ]  # fmt: skip
    if points and points[0].center is not None:
        step = {"shape": "hvh", "dash": "dash", "color": "#d62728"}
        traces += [
            go.Scatter(x=x, y=[_pct_or_none(p.ucl) for p in points], name="UCL", line=step, mode="lines+markers",
                       marker={"symbol": "line-ew-open", "size": 14, "color": "#d62728"}),
            go.Scatter(x=x, y=[_pct_or_none(p.center) for p in points], name=t("centre ({baseline})", lang, baseline=baseline_label),
                       line={"color": "#2ca02c"}, mode="lines+markers", marker={"symbol": "line-ew-open", "size": 14}),
            go.Scatter(x=x, y=[_pct_or_none(p.lcl) for p in points], name="LCL", line=step, mode="lines+markers",
                       marker={"symbol": "line-ew-open", "size": 14, "color": "#d62728"}),
        ]  # fmt: skip
    fig = go.Figure(traces)
    bad = [p for p in points if p.violations]
    if bad:
        fig.add_trace(
            go.Scatter(
                x=[p.label for p in bad], y=[p.p * 100 for p in bad], mode="markers+text", name=t("rule violation", lang),
                marker={"size": 16, "color": "#d62728", "symbol": "x"},
                text=[t("rule {rules}", lang, rules=",".join(map(str, p.violations))) for p in bad],
                textposition="top center",
            )
        )  # fmt: skip
    top = max([p.p for p in points] + [p.ucl or 0 for p in points] + [0.01]) * 100
    fig.update_layout(title=title, yaxis={"title": t("% failing", lang), "ticksuffix": " %", "range": [0, top * 1.25]},
                      xaxis={"type": "category"}, margin={"t": 70, "b": 40}, font={"size": 15},
                      legend={"orientation": "h", "y": -0.2})  # fmt: skip
    return fig


def _pct_or_none(x: float | None) -> float | None:
    return None if x is None else x * 100


def state_timeline(
    segs: Sequence[Segment],
    tz: tzinfo,
    colours: dict[str, str],
    title: str,
    lang: str = "en",
    flow: Sequence[str] = (),
) -> dict[str, Any]:
    """A Gantt of equipment states (one row per equipment), in the plant's local time, as a
    plain figure dict: a week of a line is ~10k segments, and plotly's validation and copying
    of them took most of the page's budget (dcc.Graph takes the dict as it is)."""
    place = {sid: i for i, sid in enumerate(flow)}  # stations in flow order from the top, then the rest
    rows = sorted({(s.station, s.equipment) for s in segs}, key=lambda r: (place.get(r[0], len(place)), r))
    labels = [f"{st} · {eq}" if eq != st else st for st, eq in rows]
    traces = []
    for state in sorted({s.display for s in segs}):
        mine = [s for s in segs if s.display == state]
        traces.append(
            {
                "type": "bar", "orientation": "h", "name": t(LABELS[state], lang), "marker": {"color": colours[state]},
                "base": [s.start.astimezone(tz).replace(tzinfo=None).isoformat() for s in mine],
                "x": [(s.end - s.start).total_seconds() * 1000 for s in mine],
                "y": [f"{s.station} · {s.equipment}" if s.equipment != s.station else s.station for s in mine],
                "hovertext": [s.reason or "" for s in mine],
            }
        )  # fmt: skip
    layout = {
        "title": {"text": title}, "barmode": "overlay", "xaxis": {"type": "date"},
        "yaxis": {"categoryorder": "array", "categoryarray": labels[::-1]},
        "height": max(300, 28 * len(labels) + 120), "margin": {"t": 50, "l": 140},
        "legend": {"orientation": "h", "y": -0.15},
    }  # fmt: skip
    return {"data": traces, "layout": layout}


SPLIT_COLOURS = {"busy": "#2ca02c", "setup": "#1f77b4", "down": "#d62728", "blocked": "#ff7f0e",
                 "starved": "#ffbf00", "off_shift": "#c7c7c7"}  # fmt: skip
SPLIT_LABELS = {"busy": N_("busy"), "setup": N_("setup"), "down": N_("down"), "blocked": N_("blocked"),
                "starved": N_("starved"), "off_shift": N_("off shift")}  # fmt: skip


def time_split_figure(stations: dict[str, Any], title: str, lang: str = "en") -> go.Figure:
    """Each station's time split (mean over replications) as stacked horizontal bars, in %."""
    names = list(stations)
    fig = go.Figure(
        [
            go.Bar(
                y=names, x=[round(stations[s]["time_split"][k]["mean"] * 100, 1) for s in names], name=t(SPLIT_LABELS[k], lang),
                orientation="h", marker={"color": colour},
            )
            for k, colour in SPLIT_COLOURS.items()
        ]
    )  # fmt: skip
    fig.update_layout(
        title=title, barmode="stack", xaxis={"title": t("% of time", lang), "range": [0, 100]},
        yaxis={"autorange": "reversed"}, height=max(320, 26 * len(names) + 140), legend={"orientation": "h", "y": -0.15},
    )  # fmt: skip
    return fig


def output_figure(
    hours: Sequence[tuple[datetime, int, int, float | None]], tz: tzinfo, station: str, lang: str = "en"
) -> go.Figure:
    """Units per hour at a station (finally passed, and not or not yet) stacked, with the levelled
    plan per hour as a step line when a plan is loaded. Bars and steps sit on the middle of their
    hour, so both cover [h, h + 1 h) on the time axis."""
    x = [(h + timedelta(minutes=30)).astimezone(tz).replace(tzinfo=None) for h, *_ in hours]
    fig = go.Figure(
        [
            go.Bar(x=x, y=[g for _, _, g, _ in hours], name=t("passed", lang), marker={"color": "#2ca02c"},
                   width=HOUR_MS * 0.9),
            go.Bar(x=x, y=[u - g for _, u, g, _ in hours], name=t("not passed (yet)", lang),
                   marker={"color": "#d62728"}, width=HOUR_MS * 0.9),
        ]
    )  # fmt: skip
    planned = [p for *_, p in hours]
    has_plan = any(p is not None for p in planned)
    if has_plan:
        fig.add_trace(
            go.Scatter(x=x, y=[None if p is None else round(p, 2) for p in planned], name=t("plan", lang),
                       mode="lines", line={"shape": "hvh", "color": "#1f1f1f", "width": 3})
        )  # fmt: skip
    title = t("Output per hour at {station}", lang, station=station) + (
        "" if has_plan else " (" + t("no plan loaded", lang) + ")"
    )
    fig.update_layout(title=title, barmode="stack", yaxis={"title": t("units", lang)}, margin={"t": 50},
                      legend={"orientation": "h", "y": -0.2}, font={"size": 15})  # fmt: skip
    return fig


def trend_figure(points: Sequence[Any], title: str, lang: str = "en") -> go.Figure:
    """RTY per product over periods (`TrendPoint`s), one line each; the period axis is categorical
    so shifts, days and weeks read the same way."""
    periods = list(dict.fromkeys(p.period for p in points))
    fig = go.Figure()
    for code in dict.fromkeys(p.product for p in points):
        by = {p.period: p for p in points if p.product == code}
        fig.add_scatter(
            x=periods, y=[None if (q := by.get(x)) is None or q.rty is None else round(q.rty * 100, 2) for x in periods],
            name=code, mode="lines+markers", connectgaps=False,
            customdata=[by[x].units if x in by else 0 for x in periods],
            hovertemplate=f"{code} %{{x}}: RTY %{{y:.1f}}% (" + t("%{customdata} units", lang) + ")<extra></extra>",
        )  # fmt: skip
    fig.update_layout(title=title, yaxis={"title": t("RTY %", lang)}, xaxis={"type": "category"},
                      margin={"t": 50, "b": 40}, legend={"orientation": "h", "y": -0.25}, font={"size": 15})  # fmt: skip
    return fig


def weekly_failure_figure(weeks: Sequence[Any], title: str, top: int = 6, lang: str = "en") -> go.Figure:
    """Confirmed defects per week stacked by code (the `top` codes over the span, the rest as
    "other"), with the share of first attempts that failed as a line on the right axis."""
    totals: dict[str, int] = {}
    for w in weeks:
        for code, n in w.defects.items():
            totals[code] = totals.get(code, 0) + n
    keep = [c for c, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    x = [w.week for w in weeks]
    fig = go.Figure()
    for code in keep:
        fig.add_bar(x=x, y=[w.defects.get(code, 0) for w in weeks], name=code)
    rest = [sum(n for c, n in w.defects.items() if c not in keep) for w in weeks]
    if any(rest):
        fig.add_bar(x=x, y=rest, name=t("other", lang), marker={"color": "#9e9e9e"})
    fig.add_scatter(
        x=x, y=[None if w.fail_rate is None else round(w.fail_rate * 100, 2) for w in weeks], yaxis="y2",
        name=t("first attempts failed %", lang), mode="lines+markers", line={"color": "#1f1f1f", "width": 3},
    )  # fmt: skip
    most = max([sum(w.defects.values()) for w in weeks] + [1])
    fig.update_layout(title=title, barmode="stack", yaxis=count_axis(t("defects", lang), most),
                      yaxis2={"title": t("first attempts failed %", lang), "overlaying": "y", "side": "right", "rangemode": "tozero",
                              "ticksuffix": " %", "tickmode": "auto", "showgrid": False},
                      margin={"t": 50, "b": 40}, legend={"orientation": "h", "y": -0.25}, font={"size": 15})  # fmt: skip
    return fig


def shift_marks(shifts: Sequence[Any], tz: tzinfo) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Shapes and labels that show the shift boundaries on a time axis: a dashed line at each
    shift's start and end (`ShiftInstance`s), the shift's name at its start."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for sh in shifts:
        a, b = (x.astimezone(tz).replace(tzinfo=None).isoformat() for x in (sh.start, sh.end))
        for x in (a, b):
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                           "line": {"color": "#555", "width": 1, "dash": "dash"}})  # fmt: skip
        notes.append({"x": a, "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom", "xanchor": "left",
                      "text": sh.name, "showarrow": False, "font": {"size": 12, "color": "#555"}})  # fmt: skip
    return shapes, notes
