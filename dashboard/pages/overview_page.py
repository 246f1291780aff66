"""Overview / andon: every station's state in colour and words, today's output, the current
shift's FPY, alarms, the last update and a stale-data banner. Refreshes every 5 s; `?tv=1`
gives large type for a TV wall."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from dashboard.context import current
from dashboard.queries import today_output
from line.calendar import local_day_bounds, shift_at
from line.config import Plant
from line.status import COLOURS, StationStatus, down_too_long, station_status
from store.base import SourceHealth

dash.register_page(__name__, path="/overview", name="Overview", order=-1)

REFRESH_MS = 5_000
LABELS = {
    "running": "Running", "starved": "Starved", "blocked": "Blocked", "idle": "Standby", "setup": "Setup",
    "planned_down": "Planned stop", "down": "DOWN", "engineering": "Engineering", "not_scheduled": "Not scheduled",
    "unknown": "No data",
}  # fmt: skip


def layout(tv: str | None = None, **_: object) -> html.Div:
    big = tv in ("1", "true", "yes")
    return html.Div(
        [
            dcc.Interval(id="ov-tick", interval=REFRESH_MS),
            html.Div(id="ov-stale"),
            dbc.Row(
                [
                    dbc.Col(html.H2("Line status"), md=4),
                    dbc.Col(html.Div(id="ov-updated", className="fs-5 text-end"), md=8),
                ],
                className="align-items-center",
            ),
            html.Div(id="ov-lines"),
            dbc.Row(
                [
                    dbc.Col([html.H3("Alarms"), html.Div(id="ov-alarms")], lg=5),
                    dbc.Col([html.H3("Today"), html.Div(id="ov-output")], lg=7),
                ]
            ),
        ],
        className="tv" if big else "",
        style={"fontSize": "1.6rem"} if big else None,
    )


@callback(
    Output("ov-updated", "children"),
    Output("ov-stale", "children"),
    Output("ov-lines", "children"),
    Output("ov-alarms", "children"),
    Output("ov-output", "children"),
    Input("ov-tick", "n_intervals"),
)
def refresh(_n: int | None) -> tuple[object, ...]:
    ctx = current()
    plant, store = ctx.plant, ctx.store
    now = current().now()
    last = store.last_data_time()
    changes = store.state_changes(now - timedelta(days=1), now + timedelta(seconds=1))
    status = station_status(changes, plant.station_order)
    shift = shift_at(plant.spec.calendar, plant.tz, now)
    fpy: dict[str, float | None] = {}
    if shift is not None:
        tallies, _ = store.yield_tallies(shift.start, now + timedelta(seconds=1))
        for sid in plant.station_order:
            units = sum(t.units for (_, s), t in tallies.items() if s == sid)
            ok = sum(t.first_pass for (_, s), t in tallies.items() if s == sid)
            fpy[sid] = ok / units if units else None
    updated = _updated_text(plant, now, last, shift.label if shift else None)
    alarms = _alarms(plant, now, status, fpy, store.source_health())
    return (
        updated,
        _stale_banner(plant, now, last),
        _lines(plant, now, status, fpy),
        alarms,
        _output(plant, now),
    )


def _updated_text(plant: Plant, now: datetime, last: datetime | None, shift: str | None) -> list[object]:
    local = now.astimezone(plant.tz)
    newest = "no data yet" if last is None else f"newest data {last.astimezone(plant.tz):%H:%M:%S}"
    return [
        html.Span(f"{local:%Y-%m-%d %H:%M:%S} {plant.spec.site.timezone} · ", id="ov-now"),
        html.Span(f"shift: {shift or 'none scheduled'}", id="ov-shift"),
        html.Span(f" · {newest}", id="ov-newest"),
    ]


def _stale_banner(plant: Plant, now: datetime, last: datetime | None) -> object:
    limit = timedelta(minutes=plant.spec.alarms.source_silent_min)
    if last is not None and now - last <= limit:
        return None
    since = (
        "no data has arrived yet"
        if last is None
        else f"no data since {last.astimezone(plant.tz):%Y-%m-%d %H:%M:%S}"
    )
    return dbc.Alert(
        f"STALE: {since} - figures below are not live.",
        color="danger",
        id="ov-stale-banner",
        className="fs-4",
    )


def _lines(
    plant: Plant, now: datetime, status: dict[str, StationStatus], fpy: dict[str, float | None]
) -> list[object]:
    out: list[object] = []
    for lid, line in plant.spec.lines.items():
        tiles = [
            dbc.Col(_tile(plant, now, status[sid], fpy.get(sid)), xs=6, md=4, lg=2, className="mb-2")
            for sid in line.stations
        ]
        out += [html.H4(f"{lid} · {line.name}", className="mt-2"), dbc.Row(tiles)]
    return out


def _tile(plant: Plant, now: datetime, st: StationStatus, fpy: float | None) -> dbc.Card:
    colour = COLOURS[st.display]
    dark_text = st.display in ("starved", "blocked", "idle", "unknown")
    since = "" if st.since is None else _duration(now - st.since)
    body = [
        html.Div(st.station, className="fw-bold fs-4"),
        html.Div(plant.station(st.station).name, className="small"),
        html.Div(LABELS[st.display], id=f"ov-state-{st.station}", className="fs-3 fw-bold"),
        html.Div(since, className="small"),
    ]
    if plant.inspects(st.station):
        body.append(
            html.Div(f"FPY shift {'–' if fpy is None else f'{fpy * 100:.1f} %'}", id=f"ov-fpy-{st.station}")
        )
    return dbc.Card(
        dbc.CardBody(body),
        id=f"ov-tile-{st.station}",
        style={"backgroundColor": colour, "color": "#000" if dark_text else "#fff", "height": "100%"},
    )


def _duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"for {minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"for {minutes} min"


def _alarms(
    plant: Plant,
    now: datetime,
    status: dict[str, StationStatus],
    fpy: dict[str, float | None],
    health: list[SourceHealth],
) -> object:
    sp = plant.spec
    limits = {sid: st.down_alarm_min or sp.alarms.station_down_min for sid, st in sp.stations.items()}
    items = [
        f"{sid} down for {m:.0f} min (limit {limits[sid]:g})" for sid, m in down_too_long(status, now, limits)
    ]
    for sid, f in fpy.items():
        floor = sp.stations[sid].fpy_alarm_min or sp.alarms.fpy_min
        if f is not None and f < floor:
            items.append(f"{sid} FPY this shift {f * 100:.1f} % (below {floor * 100:.0f} %)")
    silent = timedelta(minutes=sp.alarms.source_silent_min)
    for h in health:
        if h.status == "stopped":
            continue
        if h.status != "connected":
            items.append(f"source {h.source}: {h.status} ({h.detail or ''})")
        elif h.last_message is None or now - h.last_message > silent:
            items.append(
                f"source {h.source} silent since {h.last_message.astimezone(plant.tz):%H:%M}"
                if h.last_message
                else f"source {h.source}: no message yet"
            )
    if not items:
        return html.Div("No active alarms", id="ov-no-alarms", className="text-success fs-4")
    return html.Ul([html.Li(a, className="text-danger fs-4") for a in items], id="ov-alarm-list")


def _output(plant: Plant, now: datetime) -> object:
    ctx = current()
    day = local_day_bounds(plant.tz, now.astimezone(plant.tz).date())
    rows = today_output(ctx.store, plant, day[0], min(day[1], now + timedelta(seconds=1)))
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Product", "Work order", "Started", "Completed (good)", "In process")])
    )
    body = [
        html.Tr(
            [
                html.Td(r.product),
                html.Td(r.work_order or "–"),
                html.Td(r.started),
                html.Td(r.completed, id=f"ov-done-{r.product}-{r.work_order or 'none'}"),
                html.Td(r.started - r.completed),
            ]
        )
        for r in rows
    ] or [html.Tr(html.Td("No units today", colSpan=5))]
    return dbc.Table([head, html.Tbody(body)], striped=True, size="sm", className="fs-5")
