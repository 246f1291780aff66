"""Pure figure builders for measurement SPC: the individuals and moving-range chart, and the
histogram against the specification (data in, plotly figure out; tested as functions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from line.capability import IChart, XPoint
from line.i18n import t

LIMIT = {"color": "#d62728", "dash": "dash"}
SPEC = {"color": "#9467bd", "width": 3}


def individuals_figure(chart: IChart, times: Sequence[str], title: str, unit: str | None, lang: str = "en") -> go.Figure:
    """Each value in time order with the baseline's centre and 3σ limits (top), its moving range
    with the MR chart's upper limit (bottom); rule violations marked with their rule numbers."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.06)
    xs = list(range(1, len(chart.points) + 1))
    # arrays, not lists: plotly checks a list element by element (most of the page's time on a
    # month of SPI boards), an array as a whole
    x_arr = np.arange(1, len(chart.points) + 1)
    fig.add_trace(
        go.Scatter(x=x_arr, y=np.array([p.x for p in chart.points]), mode="lines+markers", name=t("value", lang),
                   hovertext=np.array([f"{p.label} · {tm}" for p, tm in zip(chart.points, times, strict=True)]),
                   hovertemplate="%{hovertext}: %{y}<extra></extra>", line={"color": "#1f77b4"}),
        row=1, col=1,
    )  # fmt: skip
    for name, y, style in ((t("UCL", lang), chart.ucl, LIMIT), (t("LCL", lang), chart.lcl, LIMIT)):
        if y is not None:
            fig.add_trace(go.Scatter(x=[xs[0], xs[-1]] if xs else [], y=[y, y], mode="lines", name=name, line=style), 1, 1)
    if chart.center is not None:
        fig.add_trace(go.Scatter(x=[xs[0], xs[-1]] if xs else [], y=[chart.center] * 2, mode="lines",
                                 name=t("baseline mean", lang), line={"color": "#2ca02c"}), 1, 1)  # fmt: skip
    bad = [(i, p) for i, p in zip(xs, chart.points, strict=True) if p.violations]
    if bad:
        fig.add_trace(
            go.Scatter(x=[i for i, _ in bad], y=[p.x for _, p in bad], mode="markers+text", name=t("rule violation", lang),
                       marker={"size": 14, "color": "#d62728", "symbol": "x"}, textposition="top center",
                       text=[t("rule {rules}", lang, rules=",".join(map(str, p.violations))) for _, p in bad]),
            row=1, col=1,
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=x_arr, y=np.array([np.nan if p.mr is None else p.mr for p in chart.points]),
                   mode="lines+markers", name=t("moving range", lang),
                   line={"color": "#7f7f7f"}),
        row=2, col=1,
    )  # fmt: skip
    if chart.mr_ucl is not None and xs:
        fig.add_trace(go.Scatter(x=[xs[0], xs[-1]], y=[chart.mr_ucl] * 2, mode="lines", name=t("MR UCL", lang),
                                 line=LIMIT, showlegend=False), 2, 1)  # fmt: skip
    fig.update_layout(title=title, margin={"t": 60, "b": 40}, font={"size": 14}, legend={"orientation": "h", "y": -0.15})
    fig.update_yaxes(title_text=unit or "", row=1, col=1)
    fig.update_yaxes(title_text=t("moving range", lang), row=2, col=1)
    fig.update_xaxes(title_text=t("value number (time order)", lang), row=2, col=1)
    return fig


def histogram_figure(
    values: Sequence[float], lsl: float | None, usl: float | None, title: str, unit: str | None, lang: str = "en"
) -> go.Figure:
    """The values' distribution with the specification limits drawn across it."""
    fig = go.Figure(go.Histogram(x=np.asarray(values, dtype=float), name=t("values", lang),
                                 marker={"color": "#1f77b4"}, nbinsx=30))  # fmt: skip
    for label, x in (("LSL", lsl), ("USL", usl)):
        if x is not None:
            fig.add_vline(x=x, line=SPEC, annotation_text=f"{label} {x:g}", annotation_position="top")
    fig.update_layout(title=title, xaxis={"title": unit or ""}, yaxis={"title": t("Count", lang)},
                      margin={"t": 60, "b": 40}, font={"size": 14}, showlegend=False)  # fmt: skip
    return fig


def xbar_figure(points: Sequence[XPoint], centre: float | None, title: str, unit: str | None, lang: str = "en") -> go.Figure:
    """Subgroup means with their size and their own limits (steps: a subgroup of 40 values has
    narrower limits than one of 4); rule violations marked."""
    x = [p.label for p in points]
    fig = go.Figure(go.Scatter(x=x, y=np.array([p.mean for p in points]), mode="lines+markers+text",
                               name=t("subgroup mean", lang), text=[f"n={p.n}" for p in points],
                               textposition="bottom center", line={"color": "#1f77b4"}))  # fmt: skip
    if centre is not None:
        step = {"shape": "hvh", "dash": "dash", "color": "#d62728"}
        fig.add_scatter(x=x, y=np.array([p.ucl for p in points], dtype=float), name=t("UCL", lang), line=step, mode="lines")
        fig.add_scatter(x=x, y=np.array([p.lcl for p in points], dtype=float), name=t("LCL", lang), line=step, mode="lines")
        fig.add_scatter(x=x, y=[centre] * len(x), name=t("baseline mean", lang), mode="lines", line={"color": "#2ca02c"})
    bad = [p for p in points if p.violations]
    if bad:
        fig.add_scatter(x=[p.label for p in bad], y=[p.mean for p in bad], mode="markers", name=t("rule violation", lang),
                        marker={"size": 14, "color": "#d62728", "symbol": "x"},
                        hovertext=[t("rule {rules}", lang, rules=",".join(map(str, p.violations))) for p in bad])  # fmt: skip
    fig.update_layout(title=title, xaxis={"type": "category"}, yaxis={"title": unit or ""}, margin={"t": 60, "b": 40},
                      font={"size": 14}, legend={"orientation": "h", "y": -0.2})  # fmt: skip
    return fig
