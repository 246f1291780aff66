"""Simulation: pick a plan, change what-if settings, run replications in the background with
progress and cancel, and compare the what-if against the plan as it is (same seeds, paired)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from dashboard.auth import current_user
from dashboard.context import current
from dashboard.figures import time_split_figure
from line.config import load_plant
from line.errors import LinemonError
from sim.plan import parse_assignment
from sim.scenarios import compare_whatif

dash.register_page(__name__, path="/simulate", name="Simulation", order=3)


def plan_files(plant_path: str) -> list[Path]:
    return sorted((Path(plant_path).parent / "plans").glob("*.toml"))


def layout(**_: object) -> html.Div:
    plant = current().plant
    plans = [{"label": p.stem, "value": str(p)} for p in plan_files(plant.path)]
    user = current_user()
    can_run = user is None or user.role == "engineer"
    return html.Div(
        [
            dcc.Store(id="sim-plant", data=plant.path),
            html.H2("Simulation"),
            html.Div(
                "" if can_run else "Running simulations needs the engineer role.",
                id="sim-role-note",
                className="text-muted",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("Plan"),
                            dcc.Dropdown(
                                id="sim-plan",
                                options=plans,
                                value=plans[0]["value"] if plans else None,
                                clearable=False,
                            ),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Replications"),
                            dbc.Input(id="sim-reps", type="number", min=1, max=20, value=3),
                        ],
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("What-if (one KEY=VALUE per line)"),
                            dbc.Textarea(id="sim-whatif", value="stations.FT.machines=3", rows=3),
                        ],
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                "Run",
                                id="sim-run",
                                color="primary",
                                className="me-2 mt-4",
                                disabled=not can_run,
                            ),
                            dbc.Button("Cancel", id="sim-cancel", color="secondary", className="mt-4"),
                        ],
                        md=2,
                    ),
                ],
                className="mb-3",
            ),
            dbc.Progress(
                id="sim-progress", value=0, max=1, label="", className="mb-3", style={"height": "1.5rem"}
            ),
            html.Div(id="sim-results"),
        ]
    )


@callback(
    Output("sim-results", "children"),
    Input("sim-run", "n_clicks"),
    State("sim-plant", "data"),
    State("sim-plan", "value"),
    State("sim-reps", "value"),
    State("sim-whatif", "value"),
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
def run(
    set_progress: Callable[[tuple[int, int, str]], None],
    _n: int,
    plant_path: str,
    plan: str,
    reps: int | None,
    whatif: str | None,
) -> object:
    """Runs in the background worker (no request context: the plant is loaded from its path)."""
    try:
        overrides = dict(parse_assignment(line) for line in (whatif or "").splitlines() if line.strip())
        out = compare_whatif(
            load_plant(plant_path),
            plan,
            overrides,
            int(reps or 1),
            lambda p: set_progress((round(100 * p[0] / p[1]), 100, p[2])),
        )
    except (LinemonError, ValueError) as exc:
        return dbc.Alert(str(exc), color="danger", id="sim-error", style={"whiteSpace": "pre-wrap"})
    return results_view(out)


def _ci(v: dict[str, Any] | None, fmt: str = "{:.2f}") -> str:
    if not v:
        return "–"
    return f"{fmt.format(v['mean'])} [{fmt.format(v['ci95'][0])}, {fmt.format(v['ci95'][1])}]"


def results_view(out: dict[str, Any]) -> object:
    base, what = out["baseline"], out["whatif"]
    diff = what["versus_baseline"]
    rows = [
        ("Throughput per hour", "throughput_per_hour"),
        ("Makespan (h)", "makespan_h"),
        ("WIP (units)", "wip"),
    ]
    body = [
        html.Tr(
            [
                html.Td(label),
                html.Td(_ci(base.get(key))),
                html.Td(_ci(what.get(key))),
                html.Td(_ci(diff.get(key), "{:+.2f}")),
            ],
            id=f"sim-row-{key}",
        )
        for label, key in rows
    ]
    lt = (
        "Lead time mean (h)",
        _ci(base["lead_time_h"]["mean"]),
        _ci(what["lead_time_h"]["mean"]),
        _ci(diff.get("lead_time_h_mean"), "{:+.2f}"),
    )
    body.append(html.Tr([html.Td(x) for x in lt]))
    body.append(html.Tr([html.Td("Bottleneck"), html.Td(base["bottleneck"]["station"], id="sim-bottleneck-base"),
                         html.Td(what["bottleneck"]["station"], id="sim-bottleneck-whatif"), html.Td("")]))  # fmt: skip
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("", base["name"], what["name"], "what-if − plan (paired 95 % CI)")])
    )
    note = f"{base['replications']} replications each, seeds {base['seeds']}; means with 95 % confidence intervals."
    return html.Div(
        [
            dbc.Table([head, html.Tbody(body)], bordered=True, className="fs-5", id="sim-table"),
            html.Div(note, className="text-muted mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Graph(figure=time_split_figure(base["stations"], f"Time split · {base['name']}")),
                        lg=6,
                    ),
                    dbc.Col(
                        dcc.Graph(figure=time_split_figure(what["stations"], f"Time split · {what['name']}")),
                        lg=6,
                    ),
                ]
            ),
        ]
    )
