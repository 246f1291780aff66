"""Yield per marine-electronics product: RTY, final yield, DPMO, FPY per station for a period, a\nline or a work order, and the RTY trend by shift, day or week."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from dashboard.figures import GOOD, WARN, fpy_heatmap, rty_bars, trend_figure
from dashboard.i18n import lang_of, t
from dashboard.periods import page_window
from dashboard.trends import on_line, yield_trend
from dashboard.widgets import choice
from line.kpi import ProductYield, StationTally, station_totals, yield_report

dash.register_page(__name__, path="/", name="Yield", order=0)

PERIODS = {
    "shift": "This shift",
    "prev_shift": "Previous shift",
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "custom": "Custom",
}


TRENDS = {"shift": "by shift", "day": "by day", "week": "by week"}
REFRESH_MS = 30_000  # the yield figures follow the line live, like the andon (every 30 s)


def layout(lang: str | None = None, **_: object) -> html.Div:
    lang = lang_of(lang)
    lines = [{"label": t("All lines", lang), "value": ""}] + [
        {"label": f"{k} · {v.name}", "value": k} for k, v in current().plant.spec.lines.items()
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
            dbc.Row([dbc.Col(dcc.Graph(id="yield-heatmap"), lg=7), dbc.Col(dcc.Graph(id="yield-rty"), lg=5)]),
            dbc.Row(
                [
                    dbc.Col(html.H3(t("Trend", lang)), md=2),
                    dbc.Col(choice("yield-trend-by", TRENDS, "day", lang=lang), md=10),
                ],
                className="align-items-center mt-2",
            ),
            dcc.Graph(id="yield-trend"),
            html.Div(id="yield-tables"),
        ]
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f} %"


def _tone(x: float | None) -> str:
    if x is None:
        return "secondary"
    return "success" if x >= GOOD else "warning" if x >= WARN else "danger"


def product_card(py: ProductYield, lang: str = "en") -> dbc.Col:
    dpmo = "–" if py.dpmo is None else f"{py.dpmo:,.0f}"
    body = [
        html.H4(py.code, className="card-title mb-0"),
        html.Div(py.name, className="text-muted"),
        html.Div(
            [
                html.Span(t("RTY", lang) + " "),
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
    return t("RTY over {k} of {n} stations", lang).format(k=py.rty_stations, n=py.route_stations)


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


def station_table(py: ProductYield, lang: str = "en") -> dbc.Card:
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
                for h in ("Station", "Units", "FPY", "Final yield", "Retests", "False-call share")
            ]
        )
    )
    body = html.Tbody(
        [row(s, t) for s, t in py.stations.items()]
        or [html.Tr(html.Td(t("No units in this period", lang), colSpan=6))]
    )
    return dbc.Card(
        [
            dbc.CardHeader(f"{py.code} · {py.name}"),
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
        window = f"{t('Work order', lang)} {wo}: {t('all its units, whenever made', lang)}"
        if not tallies[0]:
            window = html.Span(
                t("No units for work order {wo}", lang).format(wo=wo), id="yield-wo-missing", className="text-warning"
            )
    else:
        start, end, shift = page_window(period, plant, (d0, d1), now)
        tallies = ctx.store.yield_tallies(start, end)
        window = (
            (f"{t('shift', lang)} {shift} · " if shift else "")
            + f"{start.astimezone(plant.tz):%Y-%m-%d %H:%M} – {end.astimezone(plant.tz):%Y-%m-%d %H:%M} "
            f"({plant.spec.site.timezone}) · {t('units counted by their first attempt in this period', lang)}"
        )
    if line and isinstance(window, str):
        window += f" · {t('line', lang)} {line}: {t('RTY over its stations', lang)}"
    within = set(plant.spec.lines[line].stations) if line else None
    stations, products = on_line(plant, tallies, line)
    figs = yield_report(plant, stations, products, within=within)
    cards = dbc.Row([product_card(py, lang) for py in figs.values()])
    inspection = [s for s in plant.station_order if plant.inspects(s) and (within is None or s in within)]
    tables = dbc.Row(
        [dbc.Col(all_products_table(station_totals(stations), inspection, lang), lg=6)]
        + [dbc.Col(station_table(py, lang), lg=6) for py in figs.values()]
    )
    as_of = html.Span(
        f" · {t('data as of', lang)} {now.astimezone(plant.tz):%H:%M:%S}", id="yield-as-of"
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
    title = f"{t('RTY', lang)} {t(TRENDS[by], lang)}" + (f" · {line}" if line else "")
    return trend_figure(points, title, lang)
