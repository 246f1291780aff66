"""Yield per marine-electronics product: RTY, final yield, DPMO, FPY per station for a period, a\nline or a work order, and the RTY trend by shift, day or week."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from dashboard.figures import GOOD, WARN, fpy_heatmap, rty_bars, trend_figure
from dashboard.periods import page_window
from dashboard.trends import on_line, yield_trend
from dashboard.widgets import choice, graph
from line.i18n import N_, lang_of, t
from line.kpi import ProductYield, StationTally, station_totals, yield_report

dash.register_page(__name__, path="/", name=N_("Yield"), order=0)

PERIODS = {
    "shift": N_("This shift"),
    "prev_shift": N_("Previous shift"),
    "today": N_("Today"),
    "yesterday": N_("Yesterday"),
    "7d": N_("Last 7 days"),
    "30d": N_("Last 30 days"),
    "custom": N_("Custom"),
}


TRENDS = {"shift": N_("by shift"), "day": N_("by day"), "week": N_("by week")}
TREND_TITLES = {"shift": N_("RTY by shift"), "day": N_("RTY by day"), "week": N_("RTY by week")}
REFRESH_MS = 30_000  # the yield figures follow the line live, like the andon (every 30 s)


def layout(lang: str | None = None, **_: object) -> html.Div:
    lang = lang_of(lang)
    lines = [{"label": t("All lines", lang), "value": ""}] + [
        {"label": f"{k} · {current().plant.name_of('line', k, lang)}", "value": k} for k in current().plant.spec.lines
    ]
    return html.Div(
        [
            dcc.Store(id="yield-lang", data=lang),
            dcc.Interval(id="yield-tick", interval=REFRESH_MS),
            dbc.Row(
                [
                    dbc.Col(html.H2(t("Yield per product", lang)), md=4),
                    dbc.Col(
                        choice("yield-period", PERIODS, "7d", lang=lang),
                        md=5,
                    ),
                    dbc.Col(
                        dcc.DatePickerRange(
                            id="yield-dates",
                            display_format="YYYY-MM-DD",
                            start_date_placeholder_text=t("Start date", lang),
                            end_date_placeholder_text=t("End date", lang),
                        ),
                        md=3,
                    ),
                ],
                className="align-items-center mb-2",
            ),
            dbc.Row(
                [
                    dbc.Col(dcc.Dropdown(id="yield-line", options=lines, value="", clearable=False), md=4),
                    dbc.Col(
                        dbc.Input(
                            id="yield-wo", placeholder=t("work order (all units of it)", lang), debounce=True
                        ),
                        md=4,
                    ),
                ],
                className="mb-2",
            ),
            html.Div(id="yield-window", className="text-muted mb-3 fs-5"),
            html.Div(id="yield-cards"),
            dbc.Row([dbc.Col(graph("yield-heatmap", lang), lg=7), dbc.Col(graph("yield-rty", lang), lg=5)]),
            dbc.Row(
                [
                    dbc.Col(html.H3(t("Trend", lang)), md=2),
                    dbc.Col(choice("yield-trend-by", TRENDS, "day", lang=lang), md=10),
                ],
                className="align-items-center mt-2",
            ),
            graph("yield-trend", lang),
            html.Div(id="yield-tables"),
        ]
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def _tone(x: float | None) -> str:
    if x is None:
        return "secondary"
    return "success" if x >= GOOD else "warning" if x >= WARN else "danger"


def product_card(py: ProductYield, lang: str = "en", name: str | None = None) -> dbc.Col:
    dpmo = "–" if py.dpmo is None else f"{py.dpmo:,.0f}"
    body = [
        html.H4(py.code, className="card-title mb-0"),
        html.Div(name or py.name, className="text-muted"),
        html.Div(
            [
                html.Span(t("RTY", lang) + " "),  # a label and its figure
                html.Span(_pct(py.rty), id=f"rty-{py.code}", className="fw-bold"),
            ],
            className="fs-3 text-primary",
        ),
        html.Div(_coverage(py, lang), id=f"rty-cover-{py.code}", className="small text-muted"),
        html.Div(
            [html.Span(t("Final yield", lang) + " "), html.Span(_pct(py.final_yield), id=f"final-{py.code}")],
            className="fs-5",
        ),
        html.Div([html.Span("DPMO "), html.Span(dpmo, id=f"dpmo-{py.code}")], className="fs-5"),
        html.Div(
            [html.Span(t("Units", lang) + " "), html.Span(str(py.units), id=f"units-{py.code}")],
            className="fs-5",
        ),
    ]
    return dbc.Col(
        dbc.Card(dbc.CardBody(body), id=f"card-{py.code}", className="h-100"), md=4, lg=True, className="mb-3"
    )


def _coverage(py: ProductYield, lang: str) -> str:
    """What the RTY multiplies, when not every inspection station of the routing had units."""
    if py.rty is None or py.rty_stations >= py.route_stations:
        return ""
    return t("RTY over {k} of {n} stations", lang, k=py.rty_stations, n=py.route_stations)


def all_products_table(totals: dict[str, StationTally], stations: list[str], lang: str = "en") -> dbc.Card:
    """FPY per station over all products (summed counts): the andon's shift FPY, found here."""
    rows = [
        html.Tr([html.Td(sid), html.Td(tl.units), html.Td(_pct(tl.fpy), id=f"fpy-ALL-{sid}"),
                 html.Td(_pct(tl.final_yield)), html.Td(tl.retests)])
        for sid in stations if (tl := totals.get(sid)) is not None
    ]  # fmt: skip
    head = html.Thead(html.Tr([html.Th(t(h, lang)) for h in ("Station", "Units", "FPY", "Final yield", "Retests")]))
    body = html.Tbody(rows or [html.Tr(html.Td(t("No units in this period", lang), colSpan=5))])
    return dbc.Card(
        [dbc.CardHeader(t("All products", lang)),
         dbc.Table([head, body], striped=True, size="sm", className="mb-0 fs-5")],
        className="mb-3", id="yield-all-products",
    )  # fmt: skip


def station_table(py: ProductYield, lang: str = "en", name: str | None = None) -> dbc.Card:
    def row(sid: str, t: StationTally) -> html.Tr:
        return html.Tr(
            [
                html.Td(sid),
                html.Td(t.units),
                html.Td(_pct(t.fpy), id=f"fpy-{py.code}-{sid}"),
                html.Td(_pct(t.final_yield)),
                html.Td(t.retests),
                html.Td(_pct(t.false_call_rate)),
            ]
        )

    head = html.Thead(
        html.Tr(
            [
                html.Th(t(h, lang))
                for h in (N_("Station"), N_("Units"), N_("FPY"), N_("Final yield"), N_("Retests"), N_("False-call share"))
            ]
        )
    )
    body = html.Tbody(
        [row(s, t) for s, t in py.stations.items()]
        or [html.Tr(html.Td(t("No units in this period", lang), colSpan=6))]
    )
    return dbc.Card(
        [
            dbc.CardHeader(f"{py.code} · {name or py.name}"),
            dbc.Table([head, body], striped=True, size="sm", className="mb-0 fs-5"),
        ],
        className="mb-3",
    )


@callback(
    Output("yield-period", "value"),
    Input("yield-dates", "start_date"),
    Input("yield-dates", "end_date"),
    prevent_initial_call=True,
)
def dates_typed(d0: str | None, d1: str | None) -> object:
    """Dates typed or picked apply at once: the period becomes "Custom"."""
    return "custom" if d0 and d1 else dash.no_update


@callback(
    Output("yield-window", "children"),
    Output("yield-cards", "children"),
    Output("yield-heatmap", "figure"),
    Output("yield-rty", "figure"),
    Output("yield-tables", "children"),
    Input("yield-period", "value"),
    Input("yield-dates", "start_date"),
    Input("yield-dates", "end_date"),
    Input("yield-line", "value"),
    Input("yield-wo", "value"),
    Input("yield-tick", "n_intervals"),
    State("yield-lang", "data"),
)
def update(
    period: str,
    d0: str | None,
    d1: str | None,
    line: str | None = None,
    wo: str | None = None,
    _n: int | None = None,
    lang: str | None = "en",
) -> tuple[object, ...]:
    lang = lang_of(lang)
    ctx = current()
    plant = ctx.plant
    wo = (wo or "").strip()
    now = ctx.now()
    window: object
    if wo:
        tallies = ctx.store.work_order_tallies(wo)
        window = t("Work order {wo}: all its units, whenever made", lang, wo=wo)
        if not tallies[0]:
            window = html.Span(
                t("No units for work order {wo}", lang).format(wo=wo), id="yield-wo-missing", className="text-warning"
            )
    else:
        start, end, shift = page_window(period, plant, (d0, d1), now, lang)
        tallies = ctx.store.yield_tallies(start, end)
        window = (
            (t("shift {shift}", lang, shift=shift) + " · " if shift else "")
            + f"{start.astimezone(plant.tz):%Y-%m-%d %H:%M} – {end.astimezone(plant.tz):%Y-%m-%d %H:%M} "
            f"({plant.spec.site.timezone}) · " + t("units counted by their first attempt in this period", lang)
        )
    if line and isinstance(window, str):
        window += " · " + t("line {line}: RTY over its stations", lang, line=line)
    within = set(plant.spec.lines[line].stations) if line else None
    stations, products = on_line(plant, tallies, line)
    figs = yield_report(plant, stations, products, within=within)
    cards = dbc.Row([product_card(py, lang, plant.name_of("product", py.code, lang)) for py in figs.values()])
    inspection = [s for s in plant.station_order if plant.inspects(s) and (within is None or s in within)]
    tables = dbc.Row(
        [dbc.Col(all_products_table(station_totals(stations), inspection, lang), lg=6)]
        + [dbc.Col(station_table(py, lang, plant.name_of("product", py.code, lang)), lg=6) for py in figs.values()]
    )
    as_of = html.Span(
        " · " + t("data as of {time}", lang, time=f"{now.astimezone(plant.tz):%H:%M:%S}"), id="yield-as-of"
    )
    return [window, as_of], cards, fpy_heatmap(figs, inspection, lang), rty_bars(figs, lang), tables


@callback(
    Output("yield-trend", "figure"),
    Input("yield-period", "value"),
    Input("yield-dates", "start_date"),
    Input("yield-dates", "end_date"),
    Input("yield-line", "value"),
    Input("yield-trend-by", "value"),
    Input("yield-tick", "n_intervals"),
    State("yield-lang", "data"),
)
def update_trend(
    period: str,
    d0: str | None,
    d1: str | None,
    line: str | None,
    by: str,
    _n: int | None = None,
    lang: str | None = "en",
) -> object:
    """RTY per product by shift, day or week over the chosen period (and line)."""
    lang = lang_of(lang)
    ctx = current()
    plant = ctx.plant
    now = ctx.now()
    start, end, _ = page_window(period, plant, (d0, d1), now)
    points = yield_trend(ctx.store, plant, start, min(end, now), by, line or None)
    title = t(TREND_TITLES[by], lang) + (f" · {line}" if line else "")
    return trend_figure(points, title, lang)
