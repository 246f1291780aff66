"""Overview / andon: every station's state in colour and words, today's output, the current
shift's FPY, alarms, the last update and a stale-data banner. Refreshes every 5 s; `?tv=1`
gives large type for a TV wall."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from dashboard.periods import shift_label
from dashboard.queries import OrderRow, order_progress
from dashboard.spc_section import DriftAlarm, drift_alarms
from line.alarms import FpyAlarm, fpy_alarms
from line.calendar import ShiftInstance, local_day_bounds, shift_at
from line.config import Plant
from line.i18n import N_, lang_of, t
from line.kpi import StationTally, station_totals
from line.status import (
    COLOURS,
    LABELS,
    StationStatus,
    andon_status,
    data_freshness,
    down_too_long,
    rejecting_sources,
    source_problems,
    stations_run_since,
)
from store.base import SourceHealth, Store

dash.register_page(__name__, path="/overview", name=N_("Overview"), order=-1)

REFRESH_MS = 5_000


def layout(tv: str | None = None, lang: str | None = None, **_: object) -> html.Div:
    big = tv in ("1", "true", "yes")
    lang = lang_of(lang)
    return html.Div(
        [
            dcc.Store(id="ov-lang", data=lang),
            dcc.Store(id="ov-tv", data=big),
            dcc.Interval(id="ov-tick", interval=REFRESH_MS),
            html.Div(id="ov-stale"),
            dbc.Row(
                [
                    dbc.Col(html.H2(t("Line status", lang)), md=4),
                    dbc.Col(html.Div(id="ov-updated", className="fs-5 text-end"), md=8),
                ],
                className="align-items-center",
            ),
            html.Div(id="ov-lines"),
            dbc.Row(
                [
                    dbc.Col([html.H3(t("Alarms", lang)), html.Div(id="ov-alarms")], lg=5),
                    dbc.Col([html.H3(t("Work orders against plan", lang)), html.Div(id="ov-output")], lg=7),
                ]
            ),
        ],
        className="tv" if big else "",
        style={"fontSize": "1.2rem"} if big else None,
    )


@callback(
    Output("ov-updated", "children"),
    Output("ov-stale", "children"),
    Output("ov-lines", "children"),
    Output("ov-alarms", "children"),
    Output("ov-output", "children"),
    Input("ov-tick", "n_intervals"),
    State("ov-lang", "data"),
    State("ov-tv", "data"),
)
def refresh(_n: int | None, lang: str | None = "en", tv: bool | None = False) -> tuple[object, ...]:
    """The andon's figures, computed once per refresh tick for every screen showing the same
    page (language, TV mode): a hall of TV walls costs the store one query set per tick."""
    ctx = current()
    now = ctx.now()
    tick = int(time.time() // (REFRESH_MS / 1000))  # wall-clock ticks, whatever the plant's clock
    key = ("overview", lang_of(lang), bool(tv), tick)
    return ctx.cache.get(key, REFRESH_MS / 1000, lambda: _andon(ctx.plant, ctx.store, now, lang_of(lang), bool(tv)))


def _andon(plant: Plant, store: Store, now: datetime, lang: str, tv: bool) -> tuple[object, ...]:
    last = store.last_data_time()
    changes = store.state_changes(now - timedelta(days=1), now + timedelta(seconds=1))
    status = andon_status(changes, plant, now)
    shift = shift_at(plant.spec.calendar, plant.tz, now)
    shift_tallies: dict[str, StationTally] = {}
    fpy_alarm_list: list[FpyAlarm] = []
    drifting: list[DriftAlarm] = []
    if shift is not None:
        drifting = drift_alarms(store, plant, shift.start, now)
        upto, floors, a = now + timedelta(seconds=1), _floors(plant), plant.spec.alarms
        shift_tallies = station_totals(store.yield_tallies(shift.start, upto)[0])
        fpy_alarm_list = fpy_alarms(store.first_attempts(shift.start, upto, floors), floors, a.fpy_min_units,
                                    a.fpy_confidence, a.fpy_clear_margin)  # fmt: skip
    label = None if shift is None else _shift_text(plant, shift, now, lang)
    updated = _updated_text(plant, now, last, label, lang)
    health = store.source_health()
    ran = stations_run_since(changes, now - timedelta(minutes=plant.spec.alarms.hold_min), now)
    alarms = _alarms(plant, now, status, fpy_alarm_list, health, ran, lang, drifting)
    return (
        updated,
        _stale_banner(plant, now, last, health, lang),
        _lines(plant, now, status, shift_tallies, lang, tv),
        alarms,
        _output(plant, now, lang, TV_ORDERS if tv else None),
    )


def _shift_text(plant: Plant, shift: ShiftInstance, now: datetime, lang: str) -> str:
    """The shift as the reader calls it: "2026-12-04 주간 (휴식)"."""
    label = shift_label(plant, shift, lang)
    return t("{shift} (break)", lang, shift=label) if shift.on_break(now) else label


def _floors(plant: Plant) -> dict[str, float]:
    """The FPY floor of every inspection station (its own, else the plant's)."""
    sp = plant.spec
    return {
        sid: sp.stations[sid].fpy_alarm_min or sp.alarms.fpy_min for sid in plant.station_order if plant.inspects(sid)
    }


def _updated_text(
    plant: Plant, now: datetime, last: datetime | None, shift: str | None, lang: str
) -> list[object]:
    local = now.astimezone(plant.tz)
    newest = (
        t("no data yet", lang)
        if last is None
        else t("newest data {time}", lang, time=f"{last.astimezone(plant.tz):%H:%M:%S}")
    )
    return [
        html.Span(f"{local:%Y-%m-%d %H:%M:%S} {plant.spec.site.timezone} · ", id="ov-now"),
        html.Span(t("shift: {shift}", lang, shift=shift or t("none scheduled", lang)), id="ov-shift"),
        html.Span(f" · {newest}", id="ov-newest"),
    ]


def _stale_banner(
    plant: Plant, now: datetime, last: datetime | None, health: list[SourceHealth], lang: str
) -> object:
    """Red when the figures may be out of date; a grey note when the ingest is connected and the
    line has simply sent nothing for a while (a break, a starved line), so the red banner keeps
    its meaning."""
    freshness = data_freshness(now, last, health, timedelta(minutes=plant.spec.alarms.source_silent_min))
    if freshness == "live":
        return None
    since = (
        t("no data has arrived yet", lang)
        if last is None
        else t("no data since {time}", lang, time=f"{last.astimezone(plant.tz):%Y-%m-%d %H:%M:%S}")
    )
    if freshness == "quiet":
        text = t("{since} - the ingest is connected: the line has sent nothing new.", lang, since=since)
        return dbc.Alert(text, color="secondary", id="ov-quiet-banner")
    text = t("STALE: {since} - figures below are not live.", lang, since=since)
    return dbc.Alert(text, color="danger", id="ov-stale-banner", className="fs-4")


TV_ORDERS = 8  # work orders a TV wall shows (behind plan first); the rest are counted


def _lines(
    plant: Plant,
    now: datetime,
    status: dict[str, StationStatus],
    fpy: dict[str, StationTally],
    lang: str,
    tv: bool = False,
) -> list[object]:
    """Each line's station tiles. On a TV wall (1920 x 1080) a line's tiles share one row, so every
    station, the alarms and the work orders fit on the screen without scrolling."""
    out: list[object] = []
    for lid, line in plant.spec.lines.items():
        tiles = [_tile(plant, now, status[sid], fpy.get(sid), lang, tv) for sid in line.stations]
        head = html.H4(f"{lid} · {plant.name_of('line', lid, lang)}", className="mt-1 mb-1" if tv else "mt-2")
        if tv:
            grid = {"display": "grid", "gap": "0.4rem", "gridTemplateColumns": f"repeat({max(len(tiles), 6)}, 1fr)"}
            out += [head, html.Div(tiles, style=grid, className="mb-1")]
        else:
            out += [head, dbc.Row([dbc.Col(x, xs=6, md=4, lg=2, className="mb-2") for x in tiles])]
    return out


def _tile(
    plant: Plant, now: datetime, st: StationStatus, fpy: StationTally | None, lang: str, tv: bool = False
) -> dbc.Card:
    colour = COLOURS[st.display]
    dark_text = st.display in ("starved", "blocked", "idle", "unknown")
    since = "" if st.since is None else _duration(now - st.since, lang)
    body = [
        html.Div(st.station, className="fw-bold fs-4"),
        # a TV wall is read from across the hall: the station id and state, not the description
        None if tv else html.Div(plant.name_of("station", st.station, lang), className="small"),
        html.Div(t(LABELS[st.display], lang), id=f"ov-state-{st.station}", className="fs-3 fw-bold"),
        html.Div(since, className="small"),
    ]
    if plant.inspects(st.station):
        body.append(
            html.Div(
                t("FPY shift {fpy}", lang, fpy=fpy_with_n(fpy)),
                id=f"ov-fpy-{st.station}",
            )
        )
    return dbc.Card(
        dbc.CardBody([b for b in body if b is not None], className="p-2" if tv else None),
        id=f"ov-tile-{st.station}",
        style={"backgroundColor": colour, "color": "#000" if dark_text else "#fff", "height": "100%"},
    )


def _duration(d: timedelta, lang: str = "en") -> str:
    """How long a station has been in its state: "for 1 h 05 min"."""
    minutes = int(d.total_seconds() // 60)
    if minutes >= 60:
        return t("for {h} h {min:02d} min", lang, h=minutes // 60, min=minutes % 60)
    return t("for {min} min", lang, min=minutes)


def fpy_with_n(tally: StationTally | None) -> str:
    """An FPY with its sample, so one bad unit in four reads as what it is: "75.0 % (n=4)"."""
    if tally is None or tally.fpy is None:
        return "– (n=0)"
    return f"{tally.fpy * 100:.1f} % (n={tally.units})"


def _alarms(
    plant: Plant,
    now: datetime,
    status: dict[str, StationStatus],
    fpy: list[FpyAlarm],
    health: list[SourceHealth],
    ran: set[str],
    lang: str = "en",
    drifting: list[DriftAlarm] | None = None,
) -> object:
    """Active alarms, each with the time it began."""
    sp = plant.spec
    tz = plant.tz
    limits = {sid: st.down_alarm_min or sp.alarms.station_down_min for sid, st in sp.stations.items()}
    items = [
        t("{station} down for {minutes} min (limit {limit}), since {since}", lang).format(
            station=sid, minutes=f"{m:.0f}", limit=f"{limits[sid]:g}",
            since=f"{(now - timedelta(minutes=m)).astimezone(tz):%H:%M}",
        )
        for sid, m in down_too_long(status, now, limits)
    ]  # fmt: skip
    items += [
        t("{station} {name} on {product} drifting since {since}: rule {rules}, now {value} "
          "(baseline {mean} ± {spread})", lang, station=d.station, name=d.name, product=d.product,
          since=f"{d.since.astimezone(tz):%H:%M}", rules=",".join(map(str, d.rules)),
          value=f"{d.value:.4g} {d.unit or ''}".strip(), mean=f"{d.mean:.4g}", spread=f"{d.spread:.2g}")
        for d in drifting or []
    ]  # fmt: skip
    items += [
        t("{station} FPY this shift {fpy} (n={n}): alarm since {since} (floor {floor}, clears at {clear})", lang).format(
            station=a.station, fpy=f"{a.fpy * 100:.1f} %", n=a.n, floor=f"{a.floor * 100:.0f} %",
            since=f"{a.since.astimezone(tz):%H:%M}", clear=f"{(a.floor + sp.alarms.fpy_clear_margin) * 100:.0f} %",
        )
        for a in fpy
    ]  # fmt: skip
    silent = timedelta(minutes=sp.alarms.source_silent_min)
    stations = {b.id: b.station for b in sp.bindings}
    for p in source_problems(health, stations, ran, now, silent):
        if p.kind == "status":
            items.append(t("source {source}: {detail}", lang).format(source=p.source, detail=p.detail or ""))
        elif p.kind == "unbound":
            items.append(t("{count} messages on topics no binding takes", lang).format(count=p.count))
        elif p.since is not None:
            items.append(
                t("source {source} silent since {since}", lang).format(
                    source=p.source, since=f"{p.since.astimezone(tz):%H:%M}"
                )
            )
        else:
            items.append(t("source {source}: no message yet", lang).format(source=p.source))
    for p in rejecting_sources(health, sp.alarms.reject_share_max, sp.alarms.reject_min_messages):
        items.append(
            t("{source}: {share} of its input rejected over the last {m} min ({rejected} of {seen})", lang).format(
                source=p.source, share=f"{p.count / p.seen * 100:.0f} %", m=f"{sp.alarms.reject_window_min:g}",
                rejected=p.count, seen=p.seen,
            )
        )  # fmt: skip
    if not items:
        return html.Div(t("No active alarms", lang), id="ov-no-alarms", className="text-success fs-4")
    return html.Ul([html.Li(a, className="text-danger fs-4") for a in items], id="ov-alarm-list")


def _output(plant: Plant, now: datetime, lang: str = "en", most: int | None = None) -> object:
    """Work orders against the levelled plan (`line.plan`): plan, planned by now, done, ahead or
    behind, today's starts and completions, scrapped, and what is open. `most`: show at most this
    many (the furthest behind plan first), the rest counted in a last row (a TV wall)."""
    day = local_day_bounds(plant.tz, now.astimezone(plant.tz).date())
    rows = order_progress(current().store, plant, now, day)
    heads = (N_("Product"), N_("Work order"), N_("Plan"), N_("Plan by now"), N_("Done"), N_("+/- plan"),
             N_("Started today"), N_("Done today"), N_("Scrapped"), N_("Open"))  # fmt: skip
    head = html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads]))
    shown = rows
    if most is not None and len(rows) > most:
        shown = sorted(rows, key=lambda r: r.versus_plan if r.versus_plan is not None else 0.0)[:most]
    body = [_order_row(r) for r in shown] or [html.Tr(html.Td(t("No units today", lang), colSpan=len(heads)))]
    if len(shown) < len(rows):
        more = t("{n} more work orders (all on the overview without ?tv=1)", lang, n=len(rows) - len(shown))
        body.append(html.Tr(html.Td(more, colSpan=len(heads), className="text-muted"), id="ov-orders-more"))
    total = html.Tfoot(
        html.Tr(
            [html.Th(t("Total", lang), colSpan=4), html.Th(sum(r.done for r in rows)), html.Th(""),
             html.Th(sum(r.started_today for r in rows)), html.Th(sum(r.done_today for r in rows)),
             html.Th(sum(r.scrapped for r in rows), id="ov-scrapped"),
             html.Th(t("{n} WIP", lang, n=sum(r.open for r in rows)), id="ov-wip")]
        )
    )  # fmt: skip
    return dbc.Table(
        [head, html.Tbody(body), total], striped=True, size="sm", id="ov-orders",
        className="fs-6 text-nowrap" if most is not None else "fs-5",
    )  # fmt: skip


def _order_row(r: OrderRow) -> html.Tr:
    key = f"{r.product}-{r.work_order or 'none'}"
    diff = r.versus_plan
    tone = "" if diff is None else "text-success" if diff >= 0 else "text-danger fw-bold"
    return html.Tr(
        [
            html.Td(r.product),
            html.Td(r.work_order or "–"),
            html.Td("–" if r.quantity is None else r.quantity, id=f"ov-plan-{key}"),
            html.Td("–" if r.planned_now is None else f"{r.planned_now:.0f}", id=f"ov-plannow-{key}"),
            html.Td(r.done, id=f"ov-done-{key}"),
            html.Td("–" if diff is None else f"{diff:+.0f}", id=f"ov-diff-{key}", className=tone),
            html.Td(r.started_today),
            html.Td(r.done_today, id=f"ov-today-{key}"),
            html.Td(r.scrapped, id=f"ov-scrap-{key}"),
            html.Td(r.open, id=f"ov-open-{key}"),
        ]
    )
