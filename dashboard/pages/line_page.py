"""Line: each station's state timeline, its SEMI E10 time split and OEE over scheduled time, the
bottleneck, the stops Pareto and output per hour, for a line and a day or shift."""

from __future__ import annotations

from datetime import datetime

import dash
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from dashboard.figures import output_figure, pareto_figure, shift_marks, state_timeline
from dashboard.periods import period_bounds
from dashboard.queries import hourly_output, station_oees
from dashboard.widgets import choice, graph
from line.calendar import Interval, merge, scheduled_intervals, shifts_between
from line.config import Plant
from line.e10 import TimeSplit, bottleneck, dominant_loss, lacks_work, oee_losses, time_splits
from line.i18n import N_, lang_of, t
from line.kpi import pareto
from line.oee import Oee
from line.status import COLOURS, Segment, downtime_minutes, segments, segments_on_shift

dash.register_page(__name__, path="/line", name=N_("Line"), order=1)

PERIODS = {"today": N_("Today"), "yesterday": N_("Yesterday"), "7d": N_("Last 7 days")}


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
                            {k: f"{k} · {plant.name_of('line', k, lang)}" for k in plant.spec.lines},
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
            graph("line-gantt", lang),
            dbc.Row(
                [dbc.Col(graph("line-downtime", lang), lg=6), dbc.Col(graph("line-output", lang), lg=6)]
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
    title = t("{line} states, {start} - {end}", lang, line=line_id, start=f"{start.astimezone(plant.tz):%m-%d %H:%M}",
              end=f"{end.astimezone(plant.tz):%m-%d %H:%M}")  # fmt: skip
    gantt = state_timeline(segs, plant.tz, COLOURS, title, lang, stations)
    marks = shift_marks(shifts_between(plant.spec.calendar, plant.tz, start, end), plant.tz)
    gantt["layout"].update(shapes=marks[0], annotations=marks[1])
    down = pareto({k: round(v) for k, v in downtime_minutes(segs).items()})
    return (
        _availability(plant, segs, stations, sched, start, end, lang),
        gantt,
        pareto_figure(down, t("Stops (scheduled and unscheduled)", lang), unit=N_("minutes"), lang=lang,
                      empty=t("no stops in this period", lang)),
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
    """Per station, SEMI E10 over scheduled time (`line.e10`): availability (equipment up), the
    productive share, the equipment's own losses apart from the line's (starved, blocked), and the
    equipment OEE over loaded time with the loss that dominates it. The bottleneck is the station
    that waits least on the line."""
    tallies, _ = current().store.yield_tallies(start, end)
    splits = time_splits(segs, sched, stations)
    oees = station_oees(plant, splits, tallies)
    necks = bottleneck(splits)
    marked = [] if lacks_work(splits, necks) else necks  # a line without work has no bottleneck to mark
    rows = [_station_row(sid, splits[sid], oees[sid], sid in marked, lang) for sid in stations]
    heads = (N_("Station"), N_("E10 availability"), N_("Productive"), N_("Down"), N_("Setup / eng."), N_("Starved"),
             N_("Blocked"), N_("OEE (loaded time)"), N_("Main loss"))  # fmt: skip
    table = dbc.Table(
        [html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads])), html.Tbody(rows)],
        bordered=False, hover=True, size="sm", className="mt-2 fs-5", id="line-e10",
    )  # fmt: skip
    neck_text = _bottleneck_text(necks, splits, lang)
    return html.Div(
        [
            html.Div([html.Span(t("Bottleneck", lang) + ": ", className="fw-bold"),
                      html.Span(neck_text, id="line-bottleneck")], className="fs-5"),
            table,
            html.Div(t(OEE_NOTE, lang), className="text-muted small", id="line-oee-definition"),
        ]
    )  # fmt: skip


def _bottleneck_text(necks: list[str], splits: dict[str, TimeSplit], lang: str) -> str:
    if not necks:
        return t("no state data in this period", lang)
    share = _pct0(splits[necks[0]].share(splits[necks[0]].line_wait_s))
    if lacks_work(splits, necks):
        return t("none: the line waited for work (even {station} waited {share} of its time)", lang).format(
            station=necks[0], share=share
        )
    if len(necks) > 1:
        return t("not one station: {stations} waited least on the line ({share} starved or blocked)", lang).format(
            stations=", ".join(necks), share=share
        )
    return t("{station}: it waits least on the line ({share} starved or blocked)", lang).format(
        station=necks[0], share=share
    )


OEE_NOTE = N_(
    "SEMI E10: starved and blocked are standby, not downtime. E10 availability = equipment up (not down, "
    "not in setup) / scheduled time with data; productive = running / that time. OEE = availability x "
    "performance x quality over loaded time (scheduled time less the time the line starved or blocked the "
    "station): running / loaded time x ideal cycle time x attempts / running time x first passes / attempts. "
    "Only inspection and test stations count units, so only they have an OEE."
)


def _station_row(sid: str, sp: TimeSplit, o: Oee, is_neck: bool, lang: str) -> html.Tr:
    a = sp.availability
    loss = dominant_loss(oee_losses(sp, o)) if sp.known_s else None
    cells = [
        html.Td([sid, dbc.Badge(t("bottleneck", lang), color="dark", className="ms-2")] if is_neck else sid),
        html.Td(dbc.Badge(_pct0(a), color=_tone(a), id=f"line-avail-{sid}")),
        html.Td(_pct0(sp.utilisation), id=f"line-util-{sid}"),
        html.Td(_pct0(sp.share(sp.down_s)), id=f"line-down-{sid}"),
        html.Td(_pct0(sp.share(sp.setup_s + sp.planned_down_s + sp.engineering_s))),
        html.Td(_pct0(sp.share(sp.starved_s)), id=f"line-starved-{sid}"),
        html.Td(_pct0(sp.share(sp.blocked_s)), id=f"line-blocked-{sid}"),
        html.Td(_oee_text(o), id=f"line-oee-{sid}", className="fw-bold"),
        html.Td("–" if loss is None else t(LOSS_LABELS[loss], lang), id=f"line-loss-{sid}"),
    ]
    return html.Tr(cells, className="table-active" if is_neck else "")


LOSS_LABELS = {"down": N_("breakdowns"), "setup": N_("setup and scheduled stops"), "idle": N_("standby (no line cause)"),
               "speed": N_("slower than ideal cycle"), "quality": N_("first-pass failures")}  # fmt: skip


def _oee_text(o: Oee) -> str:
    if o.oee is None:
        return "–"
    return f"{_pct0(o.oee)} = {_pct0(o.availability)} × {_pct0(o.performance)} × {_pct0(o.quality)}"


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
