"""The QA page's measurement SPC: for a product, station and measurement, the individuals chart
judged against a frozen baseline (the days before the judged period), the histogram against the
specification, capability indices with their intervals, and every measurement of the station
ranked by Cpk so QA sees the worst first. The section's layout and its pieces; its callbacks live
in the QA page (`dashboard/pages/qa_page.py`: Dash registers a page's callbacks with each app);
figures in `dashboard.figures_spc`, the maths in `line.capability`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.context import current
from dashboard.figures_spc import histogram_figure, individuals_figure, xbar_figure
from dashboard.periods import baseline_window, judged_window
from dashboard.widgets import choice, graph
from line.capability import (
    Baseline,
    Capability,
    IChart,
    baseline_of,
    capability,
    capability_of,
    individuals_chart,
    xbar_chart,
)
from line.config import Plant
from line.i18n import N_, lang_of, t
from store.base import MeasuredValue, MeasureSummary, Store

CHARTS = {"value": N_("each value"), "hour": N_("hourly means")}
MIN_BASELINE_VALUES = 20  # values a baseline needs before the chart's limits are drawn
RANKED = 20  # measurements listed in the ranked table


def layout(lang: str) -> html.Div:
    return html.Div(
        [
            html.H3(t("Measurements (SPC)", lang), className="mt-3"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Dropdown(id="qa-measure", options=[], value=None, clearable=False,
                                     placeholder=t("measurement", lang)),
                        md=4,
                    ),
                    dbc.Col(choice("qa-chart-kind", CHARTS, "value", large=False, lang=lang), md=3),
                    dbc.Col(html.Div(id="qa-capability", className="fs-5"), md=5),
                ],
                className="align-items-center mb-2",
            ),
            dbc.Row([dbc.Col(graph("qa-ichart", lang), lg=7), dbc.Col(graph("qa-histogram", lang), lg=5)]),
            html.Div(id="qa-ranked"),
        ]
    )


def measure_choices(period: str, product: str, station: str, chosen: str | None) -> tuple[object, ...]:
    """The measurements the station took in the judged period (the chosen one kept if there)."""
    ctx = current()
    start, end = judged_window(period, ctx.plant, ctx.now())
    names = ctx.store.measurement_names(start, end, station, product or None)
    options = [{"label": f"{n} ({unit})" if unit else n, "value": n} for n, unit, _ in names]
    keep = chosen if any(n == chosen for n, _, _ in names) else (names[0][0] if names else None)
    return options, keep


def update_spc(
    _n: int | None, period: str, product: str, station: str, name: str | None, lang: str | None = "en",
    kind: str = "value",
) -> tuple[object, ...]:
    lang = lang_of(lang)
    ctx = current()
    start, end = judged_window(period, ctx.plant, ctx.now())
    file_limits = plant_limits(ctx.plant, product or None, station)
    sums = ctx.store.measurement_summaries(start, end, station, product or None, file_limits)
    ranked = ranked_table(sums, file_limits, lang)
    if not name:
        empty = t("no measurements at {station} in this period", lang, station=station)
        return _empty(empty), _empty(empty), "", ranked
    judged = ctx.store.measurement_values(start, end, station, name, product or None)
    b0, b1 = baseline_window(start, period)
    base_all = ctx.store.measurement_values(b0, b1, station, name, product or None)
    base_values = [v.value for v in base_all]
    base = baseline_of(base_values) if len(base_values) >= MIN_BASELINE_VALUES else None
    chart = individuals_chart([(v.serial, v.value) for v in judged], base)
    lsl, usl, unit = spec_for(ctx.plant, product or None, station, name, judged)
    title = f"{name} · {station} · {product or t('All products', lang)}"
    note = "" if base is not None else "<br><sub>" + t(
        "no limits: the baseline before the judged days has {k} values, {m} needed", lang,
        k=len(base_values), m=MIN_BASELINE_VALUES) + "</sub>"  # fmt: skip
    times = [f"{v.ts.astimezone(ctx.plant.tz):%m-%d %H:%M}" for v in judged]
    if kind == "hour":  # X̄ of each hour's values, against the baseline's hours
        hourly = _by_hour(judged, ctx.plant)
        points, centre = xbar_chart(hourly, [g for _, g in _by_hour(base_all, ctx.plant)])
        ichart = xbar_figure(points, centre, title, unit, lang)
    else:
        ichart = individuals_figure(chart, times, title + note, unit, lang)
    hist = histogram_figure([v.value for v in judged], lsl, usl, title, unit, lang)
    cap = capability([v.value for v in judged], lsl, usl) if judged else None
    return ichart, hist, capability_text(cap, chart, lang), ranked


def _by_hour(values: list[MeasuredValue], plant: Plant) -> list[tuple[str, list[float]]]:
    """Values grouped by the plant-local hour they were measured in, oldest first."""
    groups: dict[str, list[float]] = {}
    for v in values:
        groups.setdefault(f"{v.ts.astimezone(plant.tz):%m-%d %Hh}", []).append(v.value)
    return list(groups.items())


def _empty(text: str) -> dict[str, object]:
    return {"data": [], "layout": {"annotations": [{"text": text, "showarrow": False, "font": {"size": 18}}],
                                   "xaxis": {"visible": False}, "yaxis": {"visible": False}}}  # fmt: skip


def spec_for(
    plant: Plant, product: str | None, station: str, name: str, values: list[MeasuredValue]
) -> tuple[float | None, float | None, str | None]:
    """The specification a measurement is judged against: the plant file's limits for the product
    and station when it gives them, else the limits its newest record carried."""
    spec = plant.spec_limits(product, station).get(name)
    if spec is not None:
        return spec.lsl, spec.usl, spec.unit or (values[-1].unit if values else None)
    if not values:
        return None, None, None
    last = values[-1]
    return last.lo, last.hi, last.unit


def _fmt(x: float | None, ci: tuple[float, float] | None = None) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def capability_text(cap: Capability | None, chart: IChart, lang: str) -> object:
    if cap is None:
        return ""
    rules = sum(1 for p in chart.points if p.violations)
    parts = [
        html.Span(["Cpk ", html.B(_fmt(cap.cpk, cap.cpk_ci), id="qa-cpk")]),
        html.Span(f" · Cp {_fmt(cap.cp, cap.cp_ci)} · Ppk {_fmt(cap.ppk, cap.ppk_ci)} · Pp {_fmt(cap.pp, cap.pp_ci)}"),
        html.Span(
            " · " + t("n={n}, mean {mean}, outside spec {out}", lang, n=cap.n, mean=f"{cap.mean:.4g}", out=cap.outside),
            id="qa-cap-n",
        ),
        html.Span(" · " + t("{k} points break a rule", lang, k=rules), id="qa-rules") if rules else None,
        html.Div(t("fewer than 30 values: indicative only", lang), className="text-warning small")
        if cap.indicative else None,
    ]
    return html.Div([p for p in parts if p is not None])


def _ranked_row(name: str, unit: str | None, c: Capability | None) -> html.Tr:
    if c is None:
        return html.Tr([html.Td(name), html.Td(unit or "")] + [html.Td("–") for _ in range(7)])
    cells: list[str | int] = [name, unit or "", c.n, f"{c.mean:.4g}", _fmt(c.lsl), _fmt(c.usl)]
    return html.Tr([html.Td(x) for x in cells] + [html.Td(_fmt(c.cpk), id=f"qa-rank-cpk-{name}"),
                                                  html.Td(_fmt(c.ppk)), html.Td(c.outside)])  # fmt: skip


def plant_limits(plant: Plant, product: str | None, station: str) -> dict[str, tuple[float | None, float | None]]:
    """The plant file's specification per measurement of a product at a station (none without a
    product: products differ)."""
    return {n: (s.lsl, s.usl) for n, s in plant.spec_limits(product, station).items()}


def ranked_table(
    sums: list[MeasureSummary], limits: dict[str, tuple[float | None, float | None]], lang: str
) -> object:
    """Every measurement of the station with its capability, the lowest Cpk first (from the
    store's one-pass summaries: a year of pads is never fetched value by value)."""
    rows = []
    for m in sums:
        lsl, usl = limits.get(m.name, (m.lo, m.hi))
        rows.append((m.name, m.unit, capability_of(m.n, m.mean, m.sd, m.mr_bar, lsl, usl, m.outside)))
    rows.sort(key=lambda r: (r[2] is None or r[2].cpk is None, r[2].cpk if r[2] and r[2].cpk is not None else 0.0))
    heads = [t(h, lang) for h in (N_("Measurement"), N_("Unit"), "n", N_("mean"), "LSL", "USL", "Cpk", "Ppk",
                                  N_("outside spec"))]  # fmt: skip
    body = [_ranked_row(n, u, c) for n, u, c in rows[:RANKED]]
    if not body:
        return None
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(body)],
                     size="sm", striped=True, className="fs-6", id="qa-ranked-table")  # fmt: skip


ANDON_RULES = (2, 3, 4)  # runs that mean a shift; one point past 3 sigma is the QA page's business
ANDON_RECENT = 3  # the alarm holds while one of the newest values still breaks a rule


@dataclass(frozen=True)
class DriftAlarm:
    product: str
    station: str
    name: str
    since: datetime  # the first value of the shift that broke a rule
    value: float  # the newest value
    unit: str | None
    rules: tuple[int, ...]
    mean: float  # the baseline's
    spread: float  # 3 sigma_within of the baseline


def drift_alarms(store: Store, plant: Plant, shift_start: datetime, now: datetime) -> list[DriftAlarm]:
    """Measurements whose plant-file specification asks for it (`drift_alarm = true`) on the
    QA page's 7-day chart (judged against the 4 weeks before the last 7 days): an alarm while one
    of the newest values breaks a run rule, since the first value of the shift that broke one. A
    drift shows here days before it fails units."""
    j0, _ = judged_window("7d", plant, now)
    b0, b1 = baseline_window(j0, "7d")
    out = []
    for code, product in plant.spec.products.items():
        for sid in product.limits:
            alarmed = {n: s for n, s in plant.spec_limits(code, sid).items() if s.drift_alarm}
            # the baselines summed by the store (this runs on every andon refresh: 4 weeks of
            # values are not fetched to be averaged)
            bases = {m.name: m for m in store.measurement_summaries(b0, b1, sid, code)} if alarmed else {}
            for name, spec in alarmed.items():
                m = bases.get(name)
                if m is None or m.n < MIN_BASELINE_VALUES or m.mr_bar is None:
                    continue
                alarm = _drift(store, code, sid, name, Baseline(m.mean, m.mr_bar, m.n), j0, shift_start, now)
                if alarm is not None:
                    out.append(replace(alarm, unit=spec.unit or alarm.unit))
    return out


def _drift(
    store: Store, code: str, sid: str, name: str, base: Baseline, j0: datetime, shift_start: datetime, now: datetime
) -> DriftAlarm | None:
    """The alarm of one measurement: one of its newest values breaks a run rule (since the first
    value of the shift that broke one)."""
    vals = store.measurement_values(j0, now + timedelta(seconds=1), sid, name, code)
    chart = individuals_chart([(v.serial, v.value) for v in vals], base, ANDON_RULES)
    hits = [i for i, p in enumerate(chart.points) if p.violations]
    if not hits or hits[-1] < len(vals) - ANDON_RECENT or vals[hits[-1]].ts < shift_start:
        return None
    first = next(i for i in hits if vals[i].ts >= shift_start)
    rules = tuple(sorted({r for i in hits if i >= first for r in chart.points[i].violations}))
    return DriftAlarm(code, sid, name, vals[first].ts, vals[-1].value, vals[-1].unit, rules, base.mean, 3 * base.sigma)
