"""A plan file (plus what-if overrides) turned into a runnable scenario: shared by the command
line and the dashboard's simulation page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from line.config import Plant
from line.errors import ConfigError, LinemonError
from sim.network import Network
from sim.plan import PlanFile, apply_overrides, load_plan, plan_problems
from sim.plant import build_network
from sim.replicate import Scenario, replication_seeds, run_once, scenario_report, versus_baseline

UNTIL_DONE_H = 24 * 90.0  # a plan release stops when its last unit leaves; this is only a cap


@dataclass(frozen=True)
class Built:
    scenario: Scenario
    plan: PlanFile
    plant: Plant  # the plant with the what-if overrides applied


def scenario_from_plan(
    plant: Plant,
    plan: PlanFile,
    path: str,
    overrides: dict[str, Any],
    hours: float | None = None,
    warmup: float | None = None,
    name: str | None = None,
) -> Built:
    """Check and build one scenario from a plan (`path` names it in errors: the plan file, or
    what stands for a plan built in memory); `name` names it (else the plan's name and the
    overrides)."""
    source = f"the [set] of {path} and --set" if name is None else f"{path} [[scenarios]] {name!r}"
    what_if = apply_overrides(plant, {**plan.set, **overrides}, source)
    problems = plan_problems(plan, what_if)
    if problems:
        raise ConfigError(path, problems)
    # until done: capped UNTIL_DONE_H after the last release (a plan repeated for a year releases late)
    last_release_h = max((wo.release_h or 0.0 for wo in plan.work_orders), default=0.0)
    h = hours or plan.plan.hours or UNTIL_DONE_H + last_release_h
    w = warmup if warmup is not None else plan.plan.warmup_h
    if w >= h:
        raise LinemonError(f"{path}: the warm-up ({w} h) must be shorter than the horizon ({h} h)")
    if name is None:
        name = plan.plan.name + (" + " + ", ".join(f"{k}={v}" for k, v in overrides.items()) if overrides else "")
    return Built(Scenario(name, build_network(what_if, plan, h, path), h, w), plan, what_if)


def compare_whatif(
    plant: Plant,
    plan: str | PlanFile,
    overrides: dict[str, Any],
    reps: int,
    progress: Callable[[tuple[int, int, str]], None] | None = None,
    seed: int = 2611,
    max_hours: float | None = None,
) -> dict[str, Any]:
    """The plan (a file or a built plan) as it is and with `overrides`, `reps` replications each with the same seeds:
    both reports and the what-if's paired difference (`whatif.versus_baseline`). A scenario
    longer than `max_hours` is refused before it runs (a served page must not take the server's
    CPU for days)."""
    plan_file, source = (load_plan(plan), plan) if isinstance(plan, str) else (plan, "<product mix>")
    built = [
        scenario_from_plan(plant, plan_file, source, {}),
        scenario_from_plan(plant, plan_file, source, overrides),
    ]
    for b in built:
        if max_hours is not None and b.scenario.hours > max_hours:
            raise ValueError(
                f"the scenario runs {b.scenario.hours:g} plant hours, more than [simulation] max_hours = {max_hours:g}"
            )
    seeds = replication_seeds(seed, reps)
    total = len(built) * reps
    runs: list[list[dict[str, Any]]] = [[], []]
    for i, b in enumerate(built):
        for s in seeds:
            runs[i].append(run_once(b.scenario.network, s, b.scenario.hours, b.scenario.warmup_h))
            done = sum(len(r) for r in runs)
            if progress:
                progress((done, total, f"{done}/{total} runs"))
    base, what = (scenario_report(b.scenario, seeds, r) for b, r in zip(built, runs, strict=True))
    add_flow_factors(base, built[0].scenario.network)
    add_flow_factors(what, built[1].scenario.network)
    what["versus_baseline"] = versus_baseline(runs[0], runs[1])
    return {"baseline": base, "whatif": what}


def raw_process_hours(net: Network, product: str) -> float:
    """The raw process time of a product in a scenario (Hopp & Spearman's T0): the mean time of
    each step of its routing as this scenario runs it (the plan's [times] and what-ifs included),
    plus the ride through conveyor ovens."""
    return sum(net.stations[s].time_for(product).mean + net.stations[s].transit_s for s in net.routings[product]) / 3600


def add_flow_factors(rep: dict[str, Any], net: Network) -> None:
    """Per product, the raw process time of its whole routing in this scenario and the flow
    factor, mean lead time over it: what the plant file's `[planning] flow_factor` can be set
    from, so the andon's plan allows for the queueing this plan shows."""
    for code, p in rep["products"].items():
        hours = raw_process_hours(net, code) if code in net.routings else None
        lead = ((p.get("lead_time_h") or {}).get("mean") or {}).get("mean")
        p["raw_process_h"] = hours
        p["flow_factor"] = lead / hours if lead and hours else None
