"""Simulation: pick a plan, change what-if settings, run replications in the background with
progress and cancel, and compare the what-if against the plan as it is (same seeds, paired)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html

from dashboard.auth import current_user
from dashboard.context import current
from dashboard.figures import time_split_figure
from dashboard.jobs import queue_job, take_job
from dashboard.widgets import graph
from line.calendar import next_week_start
from line.config import load_plant
from line.errors import LinemonError
from line.i18n import N_, lang_of, t
from sim.plan import PlanFile, mix_plan, parse_assignment
from sim.scenarios import compare_whatif
from sim.stats import decimals_for

dash.register_page(__name__, path="/simulate", name=N_("Simulation"), order=3)


def plan_files(plant_path: str) -> list[Path]:
    return sorted((Path(plant_path).parent / "plans").glob("*.toml"))


def layout(lang: str | None = None, **_: object) -> html.Div:
    plant = current().plant
    lang = lang_of(lang)
    plans = [{"label": p.stem, "value": p.stem} for p in plan_files(plant.path)]  # by name, never a path
    user = current_user()
    can_run = user is None or user.role == "engineer"
    return html.Div(
        [
            dcc.Store(id="sim-job"),
            dcc.Store(id="sim-lang", data=lang),
            html.H2(t("Simulation", lang)),
            html.Div(
                "" if can_run else t("Running simulations needs the engineer role.", lang),
                id="sim-role-note",
                className="text-muted",
            ),
            dbc.Row(
                [
                    dbc.Col(_source_choice(plans, list(plant.spec.products), lang), md=5),
                    dbc.Col(
                        [
                            dbc.Label(t("Replications", lang)),
                            dbc.Input(
                                id="sim-reps", type="number", min=1, max=plant.spec.simulation.max_replications, value=3
                            ),
                            dbc.Label(t("What-if (one KEY=VALUE per line)", lang), className="mt-2"),
                            dbc.Textarea(id="sim-whatif", value="stations.FT.machines=3", rows=3),
                        ],
                        md=5,
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                t("Run", lang),
                                id="sim-run",
                                color="primary",
                                className="me-2 mt-4",
                                disabled=not can_run,
                            ),
                            dbc.Button(
                                t("Cancel", lang), id="sim-cancel", color="secondary", className="mt-4"
                            ),
                        ],
                        md=2,
                    ),
                ],
                className="mb-3",
            ),
            dbc.Progress(
                id="sim-progress", value=0, max=1, label="", className="mb-3", style={"height": "1.5rem"}
            ),
            html.Div(id="sim-refused"),
            html.Div(id="sim-results"),
        ]
    )


def _source_choice(plans: list[dict[str, str]], products: list[str], lang: str) -> list[object]:
    """A plan file, or a product mix typed in: units per product, released in lots."""
    mix = [
        dbc.InputGroup(
            [
                dbc.InputGroupText(code, style={"minWidth": "7rem"}),
                dbc.Input(id={"type": "sim-mix", "product": code}, type="number", min=0, step=1, value=0),
            ],
            size="sm",
            className="mb-1",
        )
        for code in products
    ]
    return [
        dbc.RadioItems(
            id="sim-source",
            options=[
                {"label": t("Plan file", lang), "value": "plan"},
                {"label": t("Product mix", lang), "value": "mix"},
            ],
            value="plan",
            inline=True,
        ),
        dcc.Dropdown(
            id="sim-plan", options=plans, value=plans[0]["value"] if plans else None, clearable=False
        ),
        dbc.Collapse(
            [
                dbc.Label(t("Units per product", lang), className="mt-2"),
                *mix,
                dbc.InputGroup(
                    [
                        dbc.InputGroupText(t("Lot size", lang), style={"minWidth": "7rem"}),
                        dbc.Input(id="sim-lot", type="number", min=1, step=1, value=20),
                    ],
                    size="sm",
                ),
            ],
            id="sim-mix-box",
            is_open=False,
        ),
    ]


@callback(Output("sim-mix-box", "is_open"), Output("sim-plan", "disabled"), Input("sim-source", "value"))
def show_source(source: str) -> tuple[bool, bool]:
    return source == "mix", source == "mix"


@callback(
    Output("sim-job", "data"),
    Output("sim-refused", "children"),
    Input("sim-run", "n_clicks"),
    State("sim-source", "value"),
    State("sim-plan", "value"),
    State({"type": "sim-mix", "product": ALL}, "value"),
    State({"type": "sim-mix", "product": ALL}, "id"),
    State("sim-lot", "value"),
    State("sim-reps", "value"),
    State("sim-whatif", "value"),
    State("sim-lang", "data"),
    prevent_initial_call=True,
)
def request_run(
    _n: int,
    source: str,
    plan: str | None,
    mix: list[int | None],
    mix_ids: list[dict[str, str]],
    lot: int | None,
    reps: int | None,
    whatif: str | None,
    lang: str | None,
) -> tuple[object, object]:
    """In the request: the logged-in user's role is checked here, on the server, and the job is
    built from the server's own plant file, plans folder and limits; the browser gets a token."""
    lang = lang_of(lang)
    ctx = current()
    user = current_user()
    if user is not None and user.role != "engineer":
        return dash.no_update, _refusal(t("Running simulations needs the engineer role.", lang))
    limits = ctx.plant.spec.simulation
    names = {p.stem: p for p in plan_files(ctx.plant.path)}
    try:
        n = int(reps or 1)
        if not 1 <= n <= limits.max_replications:
            raise ValueError(f"replications: {n} is outside 1..{limits.max_replications} ([simulation] max_replications)")
        if source == "mix":
            quantities = {i["product"]: int(q or 0) for i, q in zip(mix_ids, mix, strict=True)}
            if not any(q > 0 for q in quantities.values()):
                raise ValueError(t("Enter units for at least one product.", lang))
            chosen: dict[str, Any] = {"mix": quantities, "lot": int(lot or 1)}
        elif plan in names:
            chosen = {"plan": str(names[plan])}
        else:
            raise ValueError(f"plan {plan!r}: not one of this server's plans ({', '.join(names) or 'none'})")
    except (TypeError, ValueError) as exc:
        return dash.no_update, _refusal(str(exc))
    spec = {"plant": ctx.plant.path, "reps": n, "whatif": whatif or "", "lang": lang,
            "now": ctx.now().isoformat(), "max_hours": limits.max_hours, **chosen}  # fmt: skip
    return queue_job(spec), None


def _refusal(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", id="sim-error", style={"whiteSpace": "pre-wrap"})


@callback(
    Output("sim-results", "children"),
    Input("sim-job", "data"),
    background=True,
    running=[(Output("sim-run", "disabled"), True, False), (Output("sim-cancel", "disabled"), False, True)],
    progress=[
        Output("sim-progress", "value"),
        Output("sim-progress", "max"),
        Output("sim-progress", "label"),
    ],
    cancel=[Input("sim-cancel", "n_clicks")],
    prevent_initial_call=True,
)
def run(set_progress: Callable[[tuple[int, int, str]], None], token: str | None) -> object:
    """Runs in the background worker (no request context): only a job the request queued."""
    lang = "en"
    try:
        job = take_job(token)
        lang = lang_of(job["lang"])
        plant = load_plant(job["plant"])
        chosen: str | PlanFile = job.get("plan", "")
        if "mix" in job:
            today = datetime.fromisoformat(job["now"])
            chosen = mix_plan(job["mix"], job["lot"], next_week_start(plant.spec.calendar, plant.tz, today),
                              t("Product mix", lang))  # fmt: skip
        overrides = dict(parse_assignment(line) for line in job["whatif"].splitlines() if line.strip())
        out = compare_whatif(
            plant, chosen, overrides, job["reps"],
            lambda p: set_progress((round(100 * p[0] / p[1]), 100, p[2])), max_hours=job["max_hours"],
        )  # fmt: skip
    except (LinemonError, ValueError) as exc:
        return _refusal(str(exc))
    return results_view(out, lang)


def _bottleneck(b: dict[str, Any], lang: str) -> str:
    """The bottleneck, its share of the time with its interval, and the stations tied with it."""
    if not b.get("station"):
        return "–"
    sh = b["share"]
    text = t("{station} {share} of the time [{lo}, {hi}]", lang, station=b["station"], share=f"{sh['mean']:.0%}",
             lo=f"{sh['ci95'][0]:.0%}", hi=f"{sh['ci95'][1]:.0%}")  # fmt: skip
    sole = (b.get("sole_share") or {}).get(b["station"]) or {"mean": 0.0}
    shifting = (b.get("shifting_share") or {}).get(b["station"]) or {"mean": 0.0}
    text += " " + t("(sole {sole}, shifting {shifting})", lang, sole=f"{sole['mean']:.0%}",
                    shifting=f"{shifting['mean']:.0%}")  # fmt: skip
    if b.get("tied_with"):
        others = ", ".join(f"{x['station']} {x['share']:.0%}" for x in b["tied_with"])
        text += " — " + t("statistically tied with {others}: more replications may tell them apart", lang, others=others)
    return text


def _ci(v: dict[str, Any] | None, fmt: str = "{:.2f}", lang: str = "en") -> str:
    if not v:
        return "–"
    fmt = fmt.replace(".2f", f".{decimals_for(v)}f")  # as many decimals as show the interval's width
    text = f"{fmt.format(v['mean'])} [{fmt.format(v['ci95'][0])}, {fmt.format(v['ci95'][1])}]"
    if "min" in v and v.get("n", 0) > 1:  # what single runs gave, beside the interval of the mean
        if v["min"] == v["max"]:
            text += " (" + t("every run the same", lang) + ")"
        else:
            text += f" (runs {fmt.format(v['min'])}–{fmt.format(v['max'])})"
    return text


def _verdict(d: dict[str, Any] | None, lang: str) -> str:
    """A paired difference in words (sim.stats.paired_difference)."""
    if not d:
        return ""
    if d.get("significant"):
        return t("significant (95 % interval excludes 0)", lang)
    if d.get("replications_needed"):
        return t("not significant: about {n} replications would resolve it", lang, n=d["replications_needed"])
    return t("no difference in these runs", lang)


def results_view(out: dict[str, Any], lang: str = "en") -> object:
    base, what = out["baseline"], out["whatif"]
    diff = what["versus_baseline"]
    rows = [
        (N_("Throughput per hour"), "throughput_per_hour"),
        (N_("Makespan (h)"), "makespan_h"),
        (N_("WIP (units)"), "wip"),
    ]
    body = [
        html.Tr(
            [
                html.Td(t(label, lang)),
                html.Td(_ci(base.get(key), lang=lang)),
                html.Td(_ci(what.get(key), lang=lang)),
                html.Td([_ci(diff.get(key), "{:+.2f}", lang), html.Div(_verdict(diff.get(key), lang), className="small")],
                        id=f"sim-diff-{key}"),
            ],
            id=f"sim-row-{key}",
        )
        for label, key in rows
    ]
    lt = (
        t("Lead time mean (h)", lang),
        _ci(base["lead_time_h"]["mean"], lang=lang),
        _ci(what["lead_time_h"]["mean"], lang=lang),
        _ci(diff.get("lead_time_h_mean"), "{:+.2f}", lang),
    )
    body.append(html.Tr([html.Td(x) for x in lt]))
    body.append(
        html.Tr(
            [
                html.Td(t("Bottleneck", lang)),
                html.Td(_bottleneck(base["bottleneck"], lang), id="sim-bottleneck-base"),
                html.Td(_bottleneck(what["bottleneck"], lang), id="sim-bottleneck-whatif"),
                html.Td(""),
            ]
        )
    )
    head = html.Thead(
        html.Tr(
            [html.Th(h) for h in ("", base["name"], what["name"], t("what-if − plan (paired 95 % CI)", lang))]
        )
    )
    note = t("{n} replications each, seeds {seeds}; means with 95 % confidence intervals.", lang,
             n=base["replications"], seeds=base["seeds"])  # fmt: skip
    return html.Div(
        [
            dbc.Table([head, html.Tbody(body)], bordered=True, className="fs-5", id="sim-table"),
            html.Div(note, className="text-muted mb-2"),
            flow_table(base, what, lang),
            dbc.Row(
                [
                    dbc.Col(
                        graph(
                            lang=lang, figure=time_split_figure(
                                base["stations"], t("Time split · {scenario}", lang, scenario=base["name"]), lang
                            )
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        graph(
                            lang=lang, figure=time_split_figure(
                                what["stations"], t("Time split · {scenario}", lang, scenario=what["name"]), lang
                            )
                        ),
                        lg=6,
                    ),
                ]
            ),
        ]
    )


def flow_table(base: dict[str, Any], what: dict[str, Any], lang: str = "en") -> html.Div:
    """Per product, the mean lead time and the flow factor (lead time over the routing's raw
    process time) of both runs: what the plant file's `[planning] flow_factor` can be set from."""

    def cells(rep: dict[str, Any], code: str) -> list[html.Td]:
        p = rep["products"].get(code, {})
        lead = ((p.get("lead_time_h") or {}).get("mean") or {}).get("mean")
        ff = p.get("flow_factor")
        return [html.Td("–" if lead is None else f"{lead:.1f}"), html.Td("–" if ff is None else f"{ff:.1f}")]

    head = html.Thead(
        html.Tr(
            [html.Th(t("Product", lang))]
            + [html.Th(f"{t(label, lang)} · {rep['name']}") for rep in (base, what) for label in FLOW_COLUMNS]
        )
    )
    rows = [
        html.Tr([html.Td(code), *cells(base, code), *cells(what, code)], id=f"sim-flow-{code}")
        for code in base["products"]
    ]
    return html.Div(
        [
            dbc.Table([head, html.Tbody(rows)], bordered=True, size="sm", id="sim-flow"),
            html.Div(
                t(FLOW_NOTE, lang),
                className="text-muted mb-2",
            ),
        ]
    )


FLOW_COLUMNS = (N_("Lead time (h)"), N_("Flow factor"))
FLOW_NOTE = N_(
    "Flow factor: lead time over the routing's raw process time. Set in the plant file ([planning] "
    "flow_factor, or a product's own), it lets the andon's plan allow for the queueing."
)
