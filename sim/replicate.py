"""Replications and scenarios: recorded seeds, parallel runs, means with 95 % intervals.

Every scenario runs with the same seeds (common random numbers), so a scenario's difference to
the baseline is a paired comparison and its interval is much tighter than comparing two means.
Replications run in this process, in a process pool (`jobs`), or on a Dask cluster (`dask`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.engine import Simulation, Sink
from sim.network import Network
from sim.results import figures
from sim.stats import mean_ci, paired_difference, summarise

Progress = Callable[[int], None]  # called with the number of replications just finished


@dataclass(frozen=True)
class Scenario:
    name: str
    network: Network
    hours: float
    warmup_h: float = 0.0


def replication_seeds(seed: int, n: int) -> list[int]:
    """Independent seeds for n replications, derived from one seed (numpy's SeedSequence)."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def run_once(
    net: Network, seed: int, hours: float, warmup_h: float = 0.0, sink: Sink | None = None
) -> dict[str, Any]:
    """One replication: a fresh environment and generator; identical seed, identical figures."""
    sim = Simulation(
        simpy.Environment(),
        net,
        random.Random(seed),
        sink=sink,
        warmup_s=warmup_h * 3600,
        wip_interval_s=wip_interval_h(hours) * 3600,
    )
    end = sim.run(hours * 3600)
    return figures(sim, end)


def wip_interval_h(hours: float) -> float:
    """Hourly WIP up to three months, daily beyond: the trace stays at most ~2,200 points."""
    return 1.0 if hours <= 24 * 92 else 24.0


def _run_args(args: tuple[Network, int, float, float]) -> dict[str, Any]:
    return run_once(*args)


def run_replications(
    scenarios: list[Scenario],
    seeds: list[int],
    jobs: int = 1,
    dask_address: str | None = None,
    progress: Progress | None = None,
) -> list[list[dict[str, Any]]]:
    """Figures of every replication of every scenario, in seed order."""
    tasks = [(s.network, seed, s.hours, s.warmup_h) for s in scenarios for seed in seeds]
    done = _execute(tasks, jobs, dask_address, progress)
    results = [done[i] for i in range(len(tasks))]
    r = len(seeds)
    return [results[i * r : (i + 1) * r] for i in range(len(scenarios))]


def _execute(
    tasks: list[tuple[Network, int, float, float]], jobs: int, dask: str | None, progress: Progress | None
) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for i, res in _completed(tasks, jobs, dask):
        out[i] = res
        if progress:
            progress(1)
    return out


def _completed(
    tasks: list[tuple[Network, int, float, float]], jobs: int, dask: str | None
) -> Iterator[tuple[int, dict[str, Any]]]:
    if dask:
        yield from _on_dask(tasks, dask)
    elif jobs <= 1 or len(tasks) == 1:
        yield from enumerate(map(_run_args, tasks))
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_run_args, t): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()


def _on_dask(
    tasks: list[tuple[Network, int, float, float]], address: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("--dask needs the 'distributed' package: pip install 'linemon[dask]'") from None
    with Client(address, timeout="10s") as client:
        futures = client.map(_run_args, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_completed(futures):
            yield index[fut.key], fut.result()


def scenario_report(sc: Scenario, seeds: list[int], reps: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON of one scenario: every figure as mean and 95 % interval over the replications,
    and the bottleneck: the station with the largest mean share (sole + shifting)."""
    s = summarise(reps)
    bottleneck = s.pop("bottleneck", {})
    sole, shifting = bottleneck.get("sole_share", {}), bottleneck.get("shifting_share", {})
    return {
        "name": sc.name,
        "hours": sc.hours,
        "warmup_h": sc.warmup_h,
        "replications": len(reps),
        "seeds": seeds,
        **s,
        "bottleneck": {**bottleneck_verdict(reps), "sole_share": sole, "shifting_share": shifting},
        "repair": {"technicians": sc.network.repair_technicians},  # None: unlimited, every unit at once
    }


def _shares(rep: dict[str, Any]) -> dict[str, float]:
    b = rep.get("bottleneck") or {}
    sole, shifting = b.get("sole_share") or {}, b.get("shifting_share") or {}
    return {k: float(sole.get(k) or 0) + float(shifting.get(k) or 0) for k in {*sole, *shifting}}


CANDIDATE = 0.25  # a rival for the bottleneck: at least this share of the top station's time as bottleneck


def bottleneck_verdict(reps: list[dict[str, Any]]) -> dict[str, Any]:
    """The station with the largest mean share of the time as bottleneck (sole + shifting), that
    share with its 95 % interval, and the stations it is statistically tied with: those whose
    paired difference to it over the same replications has an interval containing 0. A tie says
    the replications cannot tell which of them limits the line (more replications may)."""
    per_rep = [_shares(r) for r in reps]
    names = sorted({k for d in per_rep for k in d})
    if not names:
        return {"station": None, "share": None, "tied_with": []}
    mean = {k: sum(d.get(k, 0.0) for d in per_rep) / len(per_rep) for k in names}
    top = max(names, key=lambda k: mean[k])
    tied = []
    for k in sorted(names, key=lambda k: -mean[k]) if len(per_rep) > 1 else ():  # one run: no interval
        if k == top or mean[k] < CANDIDATE * mean[top]:
            continue  # a station seldom the bottleneck is no rival, however wide a few runs' interval
        diff = paired_difference([d.get(top, 0.0) - d.get(k, 0.0) for d in per_rep])
        if not diff["significant"]:
            tied.append({"station": k, "share": mean[k], "replications_needed": diff["replications_needed"]})
    share = mean_ci([d.get(top, 0.0) for d in per_rep], nonnegative=True)
    return {"station": top, "share": share, "tied_with": tied}


COMPARED = ("throughput_per_hour", "wip", "makespan_h", "completed")


def versus_baseline(base: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, Any]:
    """Paired differences (scenario minus baseline, same seeds) of the headline figures."""
    out: dict[str, Any] = {}
    for key in (*COMPARED, "lead_time_h"):
        pairs = _pairs(base, other, key)
        if pairs:
            out[key if key != "lead_time_h" else "lead_time_h_mean"] = paired_difference([b - a for a, b in pairs])
    return out


def _pairs(
    base: Iterable[dict[str, Any]], other: Iterable[dict[str, Any]], key: str
) -> list[tuple[float, float]]:
    def value(r: dict[str, Any]) -> float | None:
        v = r.get(key)
        return v.get("mean") if isinstance(v, dict) else v

    return [
        (a, b)
        for a, b in ((value(x), value(y)) for x, y in zip(base, other, strict=True))
        if a is not None and b is not None
    ]
