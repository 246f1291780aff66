"""`linemon simulate`: run plans or scenarios on the simulated plant and compare them."""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

from line.config import Plant
from line.errors import LinemonError
from sim.plan import PlanFile, load_plan, parse_assignment, repeat_weeks
from sim.plant import plan_start
from sim.replicate import (
    Scenario,
    replication_seeds,
    run_once,
    run_replications,
    scenario_report,
    versus_baseline,
)
from sim.scenarios import add_flow_factors, scenario_from_plan
from sim.stats import decimals_for


def scenarios_from_args(args: argparse.Namespace, plant: Plant) -> list[tuple[Scenario, PlanFile, Plant]]:
    extra = dict(parse_assignment(a) for a in args.set)
    built = []
    for path in args.plans:
        plan = repeat_weeks(load_plan(path), args.weeks)
        built.append(scenario_from_plan(plant, plan, path, extra, args.hours, args.warmup))
        for sc in plan.scenarios:  # the plan's own what-ifs, each against it on the same seeds
            built.append(scenario_from_plan(plant, plan, path, {**extra, **sc.set}, args.hours, args.warmup, sc.name))
    return [(b.scenario, b.plan, b.plant) for b in built]


def cmd_simulate(args: argparse.Namespace, plant: Plant) -> dict[str, Any]:
    if args.replications < 1 or args.jobs < 1 or args.weeks < 1:
        raise LinemonError("--replications, --jobs and --weeks must be at least 1")
    built = scenarios_from_args(args, plant)
    scenarios = [s for s, _, _ in built]
    seeds = replication_seeds(args.seed, args.replications)
    reps = run_replications(
        scenarios, seeds, args.jobs, args.dask, _progress_bar(len(scenarios) * len(seeds), args.json)
    )
    reports = [scenario_report(s, seeds, r) for s, r in zip(scenarios, reps, strict=True)]
    for rep, (scenario, _, _) in zip(reports, built, strict=True):
        add_flow_factors(rep, scenario.network)
    for rep, runs in zip(reports[1:], reps[1:], strict=True):
        rep["versus_baseline"] = versus_baseline(reps[0], runs)
    if args.write_store:
        reports[0]["written_records"] = _write_store(args, built[0], seeds[0])
    return reports[0] if len(reports) == 1 else {"baseline": reports[0]["name"], "scenarios": reports}


def _write_store(args: argparse.Namespace, built: tuple[Scenario, PlanFile, Plant], seed: int) -> int:
    from sim.records_out import RecordSink
    from store.base import open_store, store_url

    sc, plan, plant = built
    store = open_store(store_url(args.store))
    try:
        sink = RecordSink(plan_start(plan, plant), store.write, random.Random(seed + 1))
        run_once(sc.network, seed, sc.hours, sc.warmup_h, sink=sink)
        sink.close()
    finally:
        store.close()
    return sink.written


def _progress_bar(total: int, quiet: bool) -> Any:
    """A tqdm bar on standard error when it is a terminal and the run has several parts."""
    if total < 2 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="run", desc="replications", file=sys.stderr, leave=not quiet)
    return bar.update


def as_text(out: dict[str, Any]) -> str:
    reports = out.get("scenarios", [out])
    lines = []
    for rep in reports:
        lines.append(f"== {rep['name']}  ({rep['replications']} replications, seeds {rep['seeds'][:3]}...)")
        lines.append(f"   throughput/h  {_fmt(rep.get('throughput_per_hour'))}")
        lines.append(f"   makespan h    {_fmt(rep.get('makespan_h'))}")
        lines.append(f"   WIP           {_fmt(rep.get('wip'))}")
        lines.append(f"   lead time h   {_fmt(rep.get('lead_time_h', {}).get('mean'))}")
        if rep["bottleneck"]["station"]:
            lines.append(f"   bottleneck    {bottleneck_text(rep['bottleneck'])}")
        techs = (rep.get("repair") or {}).get("technicians")
        lines.append(
            f"   repair        {techs} technicians on shift ([rework] technicians)" if techs
            else "   repair        unlimited: every failed unit is repaired at once (no [rework] technicians)"
        )
        lines.append("   station   util    busy setup  down block starve  off")
        for sid, s in rep["stations"].items():
            ts = s["time_split"]
            cells = " ".join(
                f"{ts[k]['mean']:5.0%}" for k in ("busy", "setup", "down", "blocked", "starved", "off_shift")
            )
            lines.append(f"   {sid:8s} {s['utilization']['mean']:5.0%}  {cells}")
        for code, p in rep["products"].items():
            done = p.get("completed", {}).get("mean", 0)
            lt = (p.get("lead_time_h") or {}).get("mean") or {"mean": 0.0}
            ff = p.get("flow_factor")
            flow = f"  flow factor {ff:4.1f} (raw {p['raw_process_h']:.1f} h)" if ff else ""
            lines.append(f"   {code:10s} completed {done:7.1f}  lead time h {lt['mean']:7.1f}{flow}")
        for key, d in rep.get("versus_baseline", {}).items():
            lines.append(f"   vs baseline {key}: {d['mean']:+.2f} [{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}]  "
                         + verdict(d))  # fmt: skip
    return "\n".join(lines)


def bottleneck_text(b: dict[str, Any]) -> str:
    """The bottleneck with its share of the time and interval, and any station tied with it."""
    sh = b["share"]
    text = (
        f"{b['station']} {sh['mean']:.0%} of the time [{sh['ci95'][0]:.0%}, {sh['ci95'][1]:.0%}] "
        f"(sole {b['sole_share'].get(b['station'], {}).get('mean', 0):.0%}, "
        f"shifting {b['shifting_share'].get(b['station'], {}).get('mean', 0):.0%})"
    )
    if b.get("tied_with"):
        others = ", ".join(f"{t['station']} {t['share']:.0%}" for t in b["tied_with"])
        text += f"; statistically tied with {others}: these replications cannot tell which limits the line"
    return text


def verdict(d: dict[str, Any]) -> str:
    """A paired difference in words: significant or not, and what would settle it."""
    if d.get("significant"):
        return "significant (the 95 % interval excludes 0)"
    need = d.get("replications_needed")
    if need:
        return f"not significant: about {need} replications would probably resolve a difference this size"
    return "no difference in these runs"


def _fmt(v: dict[str, Any] | None) -> str:
    if not v:
        return "-"
    d = decimals_for(v)
    runs = ""
    if v.get("n", 0) > 1:  # single runs, beside the mean's interval
        runs = "  every run the same" if v["min"] == v["max"] else f"  runs {v['min']:.{d}f}-{v['max']:.{d}f}"
    return f"{v['mean']:.{d}f}  [{v['ci95'][0]:.{d}f}, {v['ci95'][1]:.{d}f}]{runs}"
