"""Sources: every equipment binding's health as the ingest last wrote it (status, last message,
received, stored, rejected, errors, reject share over the alarm's window) and the input it
rejected (dead letters: counts per source and reason, and the latest ones with the reason and
the raw bytes shown safely). What a plant needs to see why its equipment's data is not there."""

from __future__ import annotations

from datetime import datetime, timedelta

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.context import current
from line.config import Plant
from line.i18n import N_, lang_of, t
from line.rawtext import safe_text
from line.status import rejecting_sources
from store.base import DeadLetter, SourceHealth

dash.register_page(__name__, path="/sources", name=N_("Sources"), order=4)

REFRESH_MS = 10_000
COUNT_DAYS = 7  # dead letters counted per source and reason over this many days
LATEST = 100


STATUS = {  # what the ingest reports for each source (drivers.ingest.Health)
    "starting": N_("starting"), "connecting": N_("connecting"), "subscribing": N_("subscribing"),
    "connected": N_("connected"), "reconnecting": N_("reconnecting"), "stopped": N_("stopped"),
}  # fmt: skip


def layout(lang: str | None = None, **_: object) -> html.Div:
    lang = lang_of(lang)
    return html.Div(
        [
            dcc.Store(id="src-lang", data=lang),
            dcc.Interval(id="src-tick", interval=REFRESH_MS),
            html.H2(t("Equipment sources", lang)),
            html.Div(id="src-health", className="mb-4"),
            html.H3(t("Rejected input (dead letters)", lang)),
            html.Div(id="dl-counts", className="mb-3"),
            dag.AgGrid(
                id="dl-grid",
                columnDefs=[
                    {"field": "received", "headerName": t("Received", lang), "width": 170},
                    {"field": "source", "headerName": t("Source", lang), "width": 140, "filter": True},
                    {"field": "location", "headerName": t("Port or topic", lang), "width": 220},
                    {"field": "size", "headerName": t("Size (bytes)", lang), "width": 120, "type": "rightAligned"},
                    {"field": "reason", "headerName": t("Reason", lang), "flex": 2, "filter": True, "wrapText": True, "autoHeight": True},
                    {"field": "raw", "headerName": t("Raw input (start)", lang), "flex": 1},
                ],
                rowData=[],
                defaultColDef={"sortable": True, "resizable": True},
                style={"height": "420px"},
            ),
        ]
    )


@callback(
    Output("src-health", "children"),
    Output("dl-counts", "children"),
    Output("dl-grid", "rowData"),
    Input("src-tick", "n_intervals"),
    State("src-lang", "data"),
)
def refresh(_n: int | None, lang: str | None = "en") -> tuple[object, ...]:
    ctx = current()
    lang = lang_of(lang)
    now = ctx.now()
    letters = ctx.store.dead_letters(LATEST)
    counts = ctx.store.dead_letter_counts(datetime.now(now.tzinfo) - timedelta(days=COUNT_DAYS))
    return (
        health_table(ctx.plant, ctx.store.source_health(), lang),
        counts_table(counts, lang),
        [dead_letter_row(d, ctx.plant) for d in letters],
    )


def health_table(plant: Plant, health: list[SourceHealth], lang: str) -> object:
    if not health:
        return html.Div(t("No ingest has reported yet (linemon ingest writes this every 2 s).", lang),
                        className="text-muted", id="src-none")  # fmt: skip
    station = {b.id: b.station or "–" for b in plant.spec.bindings}
    a = plant.spec.alarms
    heads = (N_("Source"), N_("Station"), N_("Status"), N_("Last message"), N_("Received"), N_("Stored"),
             N_("Rejected"), N_("Errors"), N_("Rejected, last {m} min"), N_("Detail"))  # fmt: skip
    rejecting = {p.source for p in rejecting_sources(health, a.reject_share_max, a.reject_min_messages)}
    rows = []
    for h in health:
        share, bad = h.recent_reject_share, h.source in rejecting
        rows.append(html.Tr([
            html.Td(h.source), html.Td(station.get(h.source, "–")), html.Td(t(STATUS.get(h.status, h.status), lang)),
            html.Td("–" if h.last_message is None else f"{h.last_message.astimezone(plant.tz):%m-%d %H:%M:%S}"),
            html.Td(f"{h.received:,}"), html.Td(f"{h.stored:,}"), html.Td(f"{h.rejected:,}"), html.Td(f"{h.errors:,}"),
            html.Td("–" if share is None else f"{share * 100:.1f} % ({h.recent_rejected}/{h.recent_stored + h.recent_rejected})",
                    id=f"src-share-{h.source}", className="text-danger fw-bold" if bad else ""),
            html.Td(h.detail or "", className="small"),
        ], id=f"src-row-{h.source}"))  # fmt: skip
    head = html.Thead(html.Tr([html.Th(t(x, lang, m=f"{a.reject_window_min:g}")) for x in heads]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="fs-6")


def counts_table(counts: list[tuple[str, str, int]], lang: str) -> object:
    if not counts:
        return html.Div(t("No rejected input in the last {d} days.", lang).format(d=COUNT_DAYS),
                        className="text-success", id="dl-none")  # fmt: skip
    head = html.Thead(html.Tr([html.Th(t(x, lang)) for x in (N_("Source"), N_("Reason"), N_("Count"))]))
    rows = [html.Tr([html.Td(s), html.Td(r), html.Td(n)]) for s, r, n in counts]
    title = html.Div(t("Last {d} days, per source and reason", lang).format(d=COUNT_DAYS), className="text-muted")
    return html.Div([title, dbc.Table([head, html.Tbody(rows)], size="sm", className="fs-6", id="dl-count-table",
                                      style={"maxWidth": "60rem"})])  # fmt: skip


def dead_letter_row(d: DeadLetter, plant: Plant) -> dict[str, object]:
    return {"received": f"{d.received.astimezone(plant.tz):%Y-%m-%d %H:%M:%S}", "source": d.source,
            "location": d.location or "", "size": d.size, "reason": d.reason, "raw": safe_text(d.raw, 120)}  # fmt: skip
