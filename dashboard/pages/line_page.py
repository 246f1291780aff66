"""Line: each station's state timeline, availability over scheduled time, the downtime Pareto and
output per hour, for a line and a day or shift."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.context import current
from dashboard.figures import pareto_figure, state_timeline
from dashboard.periods import period_bounds
from dashboard.widgets import choice
from line.calendar import merge, overlap_seconds, scheduled_intervals
from line.config import Plant
from line.kpi import pareto
from line.status import COLOURS, Segment, downtime_minutes, segments

dash.register_page(__name__, path="/line", name="Line", order=1)

PERIODS = {"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days"}


def layout(**_: object) -> html.Div:
    plant = current().plant
    return html.Div(
        [
            dcc.Interval(id="line-tick", interval=30_000),
            dbc.Row(
                [
                    dbc.Col(html.H2("Line"), md=2),
                    dbc.Col(
                        choice(
                            "line-id",
                            {k: f"{k} · {v.name}" for k, v in plant.spec.lines.items()},
                            next(iter(plant.spec.lines)),
                        ),
                        md=6,
                    ),
                    dbc.Col(
                        choice("line-period", PERIODS, "today"),
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
)
def update(line_id: str, period: str, _n: int | None) -> tuple[object, ...]:
    ctx = current()
    plant = ctx.plant
    now = current().now()
    start, end = period_bounds(period, now.astimezone(plant.tz).date(), plant.tz, (None, None), now)
    end = min(end, now)
    stations = plant.spec.lines[line_id].stations
    changes = [c for c in ctx.store.state_changes(start, end) if c.station in stations]
    segs = segments(changes, start, end)
    title = (
        f"{line_id} states, {start.astimezone(plant.tz):%m-%d %H:%M} - {end.astimezone(plant.tz):%m-%d %H:%M}"
    )
    gantt = state_timeline(segs, plant.tz, COLOURS, title)
    down = pareto({k: round(v) for k, v in downtime_minutes(segs).items()})
    return (
        _availability(plant, segs, stations, start, end),
        gantt,
        pareto_figure(down, "Stops (scheduled and unscheduled)", unit="minutes"),
        _output_figure(plant, line_id, start, end),
    )


def _availability(
    plant: Plant, segs: list[Segment], stations: list[str], start: datetime, end: datetime
) -> object:
    """Share of scheduled time each station's equipment was productive (summed times, not averages)."""
    sched = merge(scheduled_intervals(plant.spec.calendar, plant.tz, start, end))
    sched_s = sum((b - a).total_seconds() for a, b in sched)
    badges = []
    for sid in stations:
        run = [(s.start, s.end) for s in segs if s.station == sid and s.display == "running"]
        eq = {s.equipment for s in segs if s.station == sid} or {sid}
        avail = overlap_seconds(merge(run), sched) / (sched_s * len(eq)) if sched_s and run else None
        text = "–" if avail is None else f"{avail * 100:.0f} %"
        colour = (
            "secondary"
            if avail is None
            else "success"
            if avail > 0.85
            else "warning"
            if avail >= 0.65
            else "danger"
        )
        badges.append(dbc.Badge(f"{sid} {text}", color=colour, className="me-2 fs-5", id=f"line-avail-{sid}"))
    return html.Div([html.Span("Availability (running / scheduled time): ", className="fs-5"), *badges])


def _output_figure(plant: Plant, line_id: str, start: datetime, end: datetime) -> object:
    """Units through the line's last inspection station per local hour (by their first attempt)."""
    import plotly.graph_objects as go

    stations = [s for s in plant.spec.lines[line_id].stations if plant.inspects(s)]
    last = stations[-1] if stations else None
    hours: list[datetime] = []
    counts: list[int] = []
    t = start.replace(minute=0, second=0, microsecond=0)
    while last and t < end and len(hours) < 24 * 8:
        tallies, _ = current().store.yield_tallies(t, t + timedelta(hours=1))
        hours.append(t.astimezone(plant.tz).replace(tzinfo=None))
        counts.append(sum(x.units for (_, s), x in tallies.items() if s == last))
        t += timedelta(hours=1)
    fig = go.Figure(go.Bar(x=hours, y=counts, name=f"units at {last}"))
    fig.update_layout(
        title=f"Output per hour at {last} (no plan loaded)", yaxis={"title": "units"}, margin={"t": 50}
    )
    return fig
