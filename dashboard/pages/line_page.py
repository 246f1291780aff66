"""Line: each station's state timeline, availability over scheduled time, the downtime Pareto and
output per hour, for a line and a day or shift."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from dashboard.figures import output_figure, pareto_figure, shift_marks, state_timeline
from dashboard.i18n import lang_of, t
from dashboard.periods import period_bounds
from dashboard.queries import hourly_output, station_oees
from dashboard.widgets import choice
from line.calendar import Interval, merge, scheduled_intervals, shifts_between
from line.config import Plant
from line.kpi import pareto
from line.status import COLOURS, Segment, downtime_minutes, segments, segments_on_shift

dash.register_page(__name__, path="/line", name="Line", order=1)

PERIODS = {"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days"}


def layout(lang: str | None = None, **_: object) -> html.Div:
    plant = current().plant
    lang = lang_of(lang)
    return html.Div(
        [
            dcc.Interval(id="line-tick", interval=30_000),
            dcc.Store(id="line-lang", data=lang),
            dbc.Row(
                [
                    dbc.Col(html.H2(t("Line", lang)), md=2),
                    dbc.Col(
                        choice(
                            "line-id",
                            {k: f"{k} · {v.name}" for k, v in plant.spec.lines.items()},
                            next(iter(plant.spec.lines)),
                        ),
                        md=6,
                    ),
                    dbc.Col(
                        choice("line-period", PERIODS, "today", lang=lang),
                        md=4,
                    ),
                ],
                className="align-items-center mb-2",
            ),
            html.Div(id="line-avail", className="mb-2"),
            dcc.Graph(id="line-gantt"),
            dbc.Row(
                [dbc.Col(dcc.Graph(id="line-downtime"), lg=6), dbc.Col(dcc.Graph(id="line-output"), lg=6)]
            ),
        ]
    )


@callback(
    Output("line-avail", "children"),
    Output("line-gantt", "figure"),
    Output("line-downtime", "figure"),
    Output("line-output", "figure"),
    Input("line-id", "value"),
    Input("line-period", "value"),
    Input("line-tick", "n_intervals"),
    State("line-lang", "data"),
)
def update(line_id: str, period: str, _n: int | None, lang: str | None = "en") -> tuple[object, ...]:
    ctx = current()
    plant = ctx.plant
    now = current().now()
    start, end = period_bounds(period, now.astimezone(plant.tz).date(), plant.tz, (None, None), now)
    end = min(end, now)
    stations = plant.spec.lines[line_id].stations
    changes = ctx.store.state_changes(start, end, stations)
    sched = merge(scheduled_intervals(plant.spec.calendar, plant.tz, start, end))
    segs = segments_on_shift(segments(changes, start, end), sched)
    lang = lang_of(lang)
    title = f"{line_id} {t('states', lang)}, {start.astimezone(plant.tz):%m-%d %H:%M} - {end.astimezone(plant.tz):%m-%d %H:%M}"
    gantt = state_timeline(segs, plant.tz, COLOURS, title, lang, stations)
    marks = shift_marks(shifts_between(plant.spec.calendar, plant.tz, start, end), plant.tz)
    gantt["layout"].update(shapes=marks[0], annotations=marks[1])
    down = pareto({k: round(v) for k, v in downtime_minutes(segs).items()})
    return (
        _availability(plant, segs, stations, sched, start, end, lang),
        gantt,
        pareto_figure(down, t("Stops (scheduled and unscheduled)", lang), unit="minutes", lang=lang),
        _output_figure(plant, line_id, start, end, lang).update_layout(shapes=marks[0], annotations=marks[1]),
    )


def _availability(
    plant: Plant,
    segs: list[Segment],
    stations: list[str],
    sched: list[Interval],
    start: datetime,
    end: datetime,
    lang: str,
) -> object:
    """Per station: availability (running over scheduled time, summed machine by machine); for an
    inspection station also OEE = A x P x Q, with the plant file's process time per unit as the
    ideal cycle time and its first passes over its attempts as quality."""
    tallies, _ = current().store.yield_tallies(start, end)
    oees = station_oees(plant, segs, sched, tallies)
    avail_badges, oee_rows = [], []
    for sid in stations:
        o = oees[sid]
        runs = o.scheduled_s > 0 and any(seg.station == sid for seg in segs)
        a = o.availability if runs else None
        avail_badges.append(
            dbc.Badge(f"{sid} {_pct0(a)}", color=_tone(a), className="me-2 fs-5", id=f"line-avail-{sid}")
        )
        if plant.inspects(sid) and o.total and runs:
            oee_rows.append(
                html.Tr(
                    [
                        html.Td(sid),
                        html.Td(_pct0(o.oee), id=f"line-oee-{sid}", className="fw-bold"),
                        html.Td(_pct0(a)),
                        html.Td(_pct0(o.performance)),
                        html.Td(_pct0(o.quality)),
                    ]
                )
            )
    table = dbc.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(t(h, lang))
                        for h in ("Station", "OEE", "Availability", "Performance", "Quality")
                    ]
                )
            ),
            html.Tbody(oee_rows),
        ],
        bordered=False,
        hover=True,
        size="sm",
        className="mt-2",
        style={"maxWidth": "48rem"},
    )
    return html.Div(
        [html.Span(t("Availability (running / scheduled time)", lang) + ": ", className="fs-5"), *avail_badges,
         html.H4(t("OEE of the inspection and test stations", lang), className="mt-3"), table]
    )  # fmt: skip


def _pct0(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.0f} %"


def _tone(x: float | None) -> str:
    return "secondary" if x is None else "success" if x > 0.85 else "warning" if x >= 0.65 else "danger"


def _output_figure(plant: Plant, line_id: str, start: datetime, end: datetime, lang: str) -> go.Figure:
    """Units through the line's last inspection station per hour (by their first attempt there),
    against the levelled plan of the work orders loaded in the store."""
    stations = [s for s in plant.spec.lines[line_id].stations if plant.inspects(s)]
    if not stations:
        return output_figure([], plant.tz, line_id, lang)
    hours = hourly_output(current().store, plant, stations[-1], start, end)
    return output_figure(hours, plant.tz, stations[-1], lang)
