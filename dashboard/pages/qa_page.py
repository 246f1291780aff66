"""QA: defect Pareto, p-chart with Western Electric rules, and a serial's or work order's history."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard import spc_section
from dashboard.context import current
from dashboard.figures import p_chart_figure, pareto_figure, weekly_failure_figure
from dashboard.periods import baseline_window, judged_window
from dashboard.queries import daily_subgroups
from dashboard.trends import weekly_failures
from dashboard.widgets import choice, graph
from line.config import Plant
from line.i18n import N_, lang_of, t
from line.kpi import pareto
from line.records import Defect, Measurement, ResultRecord
from line.spc import baseline_p, p_chart

dash.register_page(__name__, path="/qa", name=N_("QA"), order=2)

PERIODS = {"7d": N_("Last 7 days"), "30d": N_("Last 30 days")}
REFRESH_MS = 30_000  # the failure figures follow the line live, like the yield page
BY = {"code": N_("Defects by defect code"), "refdes": N_("Defects by reference designator"),
      "station": N_("Defects by station")}  # fmt: skip
BY_CHOICE = {"code": N_("Defect code"), "refdes": N_("Reference designator"), "station": N_("Station")}


def layout(lang: str | None = None, **_: object) -> html.Div:
    plant = current().plant
    products = [{"label": t("All products", lang_of(lang)), "value": ""}] + [
        {"label": c, "value": c} for c in plant.spec.products
    ]
    stations = [{"label": s, "value": s} for s in plant.station_order if plant.inspects(s)]
    return html.Div(
        [
            dcc.Store(id="qa-lang", data=lang_of(lang)),
            dcc.Interval(id="qa-tick", interval=REFRESH_MS),
            dbc.Row(
                [
                    dbc.Col(html.H2(t("Quality", lang_of(lang))), md=2),
                    dbc.Col(
                        # a week judged against the 4 weeks before it: the view with a baseline
                        # wherever a month of history exists (30 days needs 60)
                        choice("qa-period", PERIODS, "7d", lang=lang_of(lang)),
                        md=3,
                    ),
                    dbc.Col(dcc.Dropdown(id="qa-product", options=products, value="", clearable=False), md=3),
                    dbc.Col(
                        choice("qa-by", BY_CHOICE, "code", large=False, lang=lang_of(lang)),
                        md=4,
                    ),
                ],
                className="align-items-center mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(graph("qa-pareto", lang), lg=6),
                    dbc.Col(
                        [
                            dcc.Dropdown(id="qa-station", options=stations, value="FCT", clearable=False),
                            graph("qa-pchart", lang),
                        ],
                        lg=6,
                    ),
                ]
            ),
            html.Div(id="qa-top", className="fs-5 mb-3"),
            graph("qa-weekly", lang),
            spc_section.layout(lang_of(lang)),
            html.H3(t("Traceability", lang_of(lang))),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id="qa-serial",
                        placeholder=t("serial number or work order", lang_of(lang)),
                        debounce=True,
                    ),
                    dbc.Button(t("Search", lang_of(lang)), id="qa-search", n_clicks=0),
                ],
                className="mb-3",
                style={"maxWidth": "40rem"},
            ),
            html.Div(id="qa-history"),
        ]
    )


@callback(
    Output("qa-pareto", "figure"),
    Output("qa-top", "children"),
    Input("qa-tick", "n_intervals"),
    Input("qa-period", "value"),
    Input("qa-product", "value"),
    Input("qa-by", "value"),
    State("qa-lang", "data"),
)
def update_pareto(_n: int | None, period: str, product: str, by: str, lang: str | None = "en") -> tuple[object, ...]:
    lang = lang_of(lang)
    ctx = current()
    start, end = _window(period, ctx.plant)
    bars = pareto(ctx.store.defect_counts(start, end, by=by, product=product or None))
    title = t(BY[by], lang) + " · " + (product or t("All products", lang))
    top = html.Span(
        [html.Span(t("Top defect", lang) + ": "), html.B(bars[0].key if bars else "–", id="qa-top-key"),
         html.Span(f" ({bars[0].count} / {sum(b.count for b in bars)})" if bars
                   else " (" + t("no confirmed defects", lang) + ")"),
         html.Span(" · " + t("data as of {time}", lang, time=f"{ctx.now().astimezone(ctx.plant.tz):%H:%M:%S}"),
                   id="qa-as-of", className="text-muted")]
    )  # fmt: skip
    return pareto_figure(bars, title, lang=lang), top


@callback(
    Output("qa-pchart", "figure"),
    Input("qa-tick", "n_intervals"),
    Input("qa-period", "value"),
    Input("qa-product", "value"),
    Input("qa-station", "value"),
    State("qa-lang", "data"),
)
def update_pchart(_n: int | None, period: str, product: str, station: str, lang: str | None = "en") -> object:
    """The judged days are the chosen period; the limits come from the baseline before it
    (`baseline_window`), never from the days they judge. Without a baseline the points are shown
    without limits, and the title says why."""
    lang = lang_of(lang)
    ctx = current()
    start, end = _window(period, ctx.plant)
    b0, b1 = baseline_window(start, period)
    groups = daily_subgroups(ctx.store, ctx.plant, start, end, station, product or None)
    base = daily_subgroups(ctx.store, ctx.plant, b0, b1, station, product or None)
    title = t("p-chart · first-pass failures at {station}", lang, station=station) + " · " + (
        product or t("All products", lang)
    )
    if not groups:
        return p_chart_figure([], "", title + ": " + t("no units in this period", lang), lang)
    if len(base) < MIN_BASELINE_DAYS:
        note = t("no limits: the baseline ({a} to {b}, before the judged days) has {k} days with units, {m} needed", lang)
        note = note.format(a=f"{b0.astimezone(ctx.plant.tz):%m-%d}", b=f"{b1.astimezone(ctx.plant.tz):%m-%d}",
                           k=len(base), m=MIN_BASELINE_DAYS)  # fmt: skip
        return p_chart_figure(p_chart(groups, None), "", f"{title}<br><sub>{note}</sub>", lang)
    label = t("baseline {a}..{b}, n={n}", lang, a=base[0].label, b=base[-1].label, n=sum(g.n for g in base))
    return p_chart_figure(p_chart(groups, baseline_p(base)), label, title, lang)


MIN_BASELINE_DAYS = 5  # days with units a baseline needs before its limits are drawn


TREND_WEEKS = 12


@callback(
    Output("qa-weekly", "figure"), Input("qa-tick", "n_intervals"), Input("qa-product", "value"), State("qa-lang", "data")
)
def update_weekly(_n: int | None, product: str, lang: str | None = "en") -> object:
    """The failure trend over the last weeks, whatever the period chosen above."""
    lang = lang_of(lang)
    ctx = current()
    now = ctx.now()
    weeks = weekly_failures(
        ctx.store, ctx.plant, now - timedelta(weeks=TREND_WEEKS - 1), now, product or None
    )
    title = t("Failures per week", lang) + " · " + (product or t("All products", lang))
    return weekly_failure_figure(weeks[-TREND_WEEKS:], title, lang=lang)


def _window(period: str, plant: Plant) -> tuple[datetime, datetime]:
    return judged_window(period, plant, current().now())


@callback(
    Output("qa-history", "children"),
    Input("qa-search", "n_clicks"),
    Input("qa-serial", "value"),
    State("qa-serial", "value"),
    State("qa-lang", "data"),
    prevent_initial_call=True,
)
def search(_n: int, _v: str | None, text: str | None, lang: str | None = "en") -> object:
    lang = lang_of(lang)
    ctx = current()
    key = (text or "").strip()
    if not key:
        return html.Div(t("Enter a serial number or a work order.", lang), className="text-muted")
    history = ctx.store.unit_history(key)
    if history:
        return history_table(key, history, ctx.plant, lang)
    found = ctx.store.serials_starting(key, PREFIX_LIMIT + 1)
    if len(found) == 1:  # a unique prefix finds its serial
        return html.Div([
            html.Div(t("The only serial starting with {prefix}:", lang).format(prefix=key), className="text-muted"),
            history_table(found[0], ctx.store.unit_history(found[0]), ctx.plant, lang),
        ])  # fmt: skip
    if found:
        shown = ", ".join(found[:PREFIX_LIMIT]) + (" …" if len(found) > PREFIX_LIMIT else "")
        count = f"{PREFIX_LIMIT}+" if len(found) > PREFIX_LIMIT else str(len(found))
        text = t("{count} serials start with {prefix}: {serials}. Type more of it.", lang)
        return html.Div(text.format(count=count, prefix=key, serials=shown), id="qa-prefix-many", className="fs-5")
    units = ctx.store.work_order_units(key)
    if units:
        return html.Div(
            [html.H4(t("Work order {wo}: {n} units", lang, wo=key, n=len(units)), id="qa-wo-count")]
            + [history_table(s, h, ctx.plant, lang) for s, h in sorted(units.items())]
        )
    return html.Div(
        t("Not in the store: {key}", lang, key=repr(key)),
        id="qa-notfound",
        className="text-warning fs-5",
    )


PREFIX_LIMIT = 20  # serials listed for an ambiguous prefix


def _defect_text(d: Defect, lang: str) -> str:
    where = f"{d.code}@{d.refdes}" if d.refdes else d.code
    return where if d.confirmed else t("{defect} (false call)", lang, defect=where)


def _measurement_text(m: Measurement, plant: Plant, r: ResultRecord) -> str:
    """"V_TX 11.2 V [11.5, 12.5] ✗": the value, its limits (the record's own, else the plant
    file's for the product and station) and whether it is within them."""
    lo, hi, unit = m.lo, m.hi, m.unit
    spec = plant.spec_limits(r.product, r.station).get(m.name)
    if lo is None and hi is None and spec is not None:
        lo, hi, unit = spec.lsl, spec.usl, unit or spec.unit
    limits = "" if lo is None and hi is None else f" [{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
    out = (lo is not None and m.value < lo) or (hi is not None and m.value > hi)
    return f"{m.name} {m.value:g}{' ' + unit if unit else ''}{limits}{' ✗' if out else ''}"


def history_table(serial: str, history: list[ResultRecord], plant: Plant, lang: str = "en") -> dbc.Card:
    """Each attempt of a serial in time order, with its defects and its measurements."""
    rows = [
        html.Tr(
            [
                html.Td(f"{r.ts.astimezone(plant.tz):%Y-%m-%d %H:%M:%S}"),
                html.Td(r.station),
                html.Td(r.equipment or "–"),
                html.Td(r.result, className="text-success" if r.result == "PASS" else "text-danger fw-bold"),
                html.Td(", ".join(_defect_text(d, lang) for d in r.defects) or "–"),
                html.Td([html.Div(_measurement_text(m, plant, r)) for m in r.measurements] or "–", className="small"),
            ]
        )
        for r in history
    ]
    heads = (N_("Time"), N_("Station"), N_("Equipment"), N_("Result"), N_("Defects"), N_("Measurements"))
    head = html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads]))
    first = history[0]
    return dbc.Card(
        [
            dbc.CardHeader(
                f"{serial} · {first.product} · " + t("Work order {wo}", lang, wo=first.work_order or "–"),
                id=f"qa-hist-{serial}",
            ),
            dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-0 fs-5"),
        ],
        className="mb-3",
    )


# measurement SPC (layout and pieces in dashboard/spc_section.py)
@callback(
    Output("qa-measure", "options"),
    Output("qa-measure", "value"),
    Input("qa-period", "value"),
    Input("qa-product", "value"),
    Input("qa-station", "value"),
    State("qa-measure", "value"),
)
def measure_choices(period: str, product: str, station: str, chosen: str | None) -> tuple[object, ...]:
    return spc_section.measure_choices(period, product, station, chosen)


@callback(
    Output("qa-ichart", "figure"),
    Output("qa-histogram", "figure"),
    Output("qa-capability", "children"),
    Output("qa-ranked", "children"),
    Input("qa-tick", "n_intervals"),
    Input("qa-period", "value"),
    Input("qa-product", "value"),
    Input("qa-station", "value"),
    Input("qa-measure", "value"),
    Input("qa-chart-kind", "value"),
    State("qa-lang", "data"),
)
def update_spc(
    n: int | None, period: str, product: str, station: str, name: str | None, kind: str = "value",
    lang: str | None = "en",
) -> tuple[object, ...]:
    return spc_section.update_spc(n, period, product, station, name, lang, kind)
