"""Simulator benchmarks, each next to the physical limit measured in the same run.

- raw: SimPy's bare event rate on this machine (one process yielding timeouts).
- tandem: station visits per second of a minimal hand-written SimPy line (5 M/M/1 stations as
  Resources, one process per unit) and of linemon's engine on the same line; target >= 50 %.
- plant: one replication of a simulated year of the reference plant (CONWIP at the plant's mix),
  wall time and visits per second; and peak memory of a month against a year (flat = streamed).
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Generator
from typing import Any

import simpy

from line.config import load_plant
from sim.dists import exponential
from sim.engine import Simulation
from sim.network import Release, StationSpec, single_product
from sim.plan import PlanFile
from sim.plant import build_network
from sim.results import figures

STATIONS = 5
TU = 60.0


def raw_event_rate(n: int = 2_000_000) -> float:
    env = simpy.Environment()

    def loop() -> Generator[simpy.Event, Any, None]:
        for _ in range(n):
            yield env.timeout(1)

    env.process(loop())
    t = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t)


def minimal_tandem(units: int, seed: int = 1) -> float:
    """Visits per second of the textbook SimPy line (Resources, a process per unit)."""
    env, rng = simpy.Environment(), random.Random(seed)
    machines = [simpy.Resource(env, 1) for _ in range(STATIONS)]
    visits = 0

    def unit() -> Generator[simpy.Event, Any, None]:
        nonlocal visits
        for m in machines:
            with m.request() as req:
                yield req
                yield env.timeout(rng.expovariate(1 / TU))
            visits += 1

    def source() -> Generator[simpy.Event, Any, None]:
        for _ in range(units):
            yield env.timeout(rng.expovariate(0.8 / TU))
            env.process(unit())

    env.process(source())
    t = time.perf_counter()
    env.run()
    return visits / (time.perf_counter() - t)


def model_tandem(units: int, seed: int = 1) -> float:
    """Visits per second of linemon's engine on the same line (runs until the same number of
    arrivals, then counts completed visits: every unit's stations plus those still inside)."""
    stations = [StationSpec(f"S{i}", {"*": exponential(TU)}) for i in range(STATIONS)]
    net = single_product(stations, Release("arrivals", arrival=exponential(TU / 0.8), mix={"P": 1.0}))
    sim = Simulation(simpy.Environment(), net, random.Random(seed))
    horizon = units * TU / 0.8
    t = time.perf_counter()
    sim.run(horizon)
    wall = time.perf_counter() - t
    visits = sim.left * STATIONS + sum(u.step for st in sim.stations.values() for u in st.inbox.items)
    return visits / wall


def plant_year_plan(hours: float) -> PlanFile:
    return PlanFile.model_validate(
        {
            "plan": {
                "name": "benchmark year",
                "start": "2027-01-04T08:30:00+09:00",
                "release": "conwip",
                "wip_cap": 150,
                "lot_size": 30,
                "hours": hours,
                "mix": {"FF-50": 3, "AIS-300": 2.5, "GPS-70": 2, "MR-1200": 1.5, "VDR-900": 1},
            }
        }
    )


def plant_run(hours: float) -> dict[str, Any]:
    plant = load_plant("config/jincheon.toml")
    net = build_network(plant, plant_year_plan(hours), hours)
    sim = Simulation(simpy.Environment(), net, random.Random(1))
    t = time.perf_counter()
    end = sim.run(hours * 3600)
    wall = time.perf_counter() - t
    fig = figures(sim, end)
    visits = sum(len(r) for r in net.routings.values()) / len(net.routings) * sim.left
    return {
        "hours": hours,
        "wall_s": wall,
        "completed": fig["completed"],
        "visits_per_s": visits / wall,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(hours: float) -> dict[str, Any]:
    """Run the plant in a fresh process so its peak memory is its own."""
    code = f"import json; from benchmarks.simulation import plant_run; print(json.dumps(plant_run({hours})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def bench_simulation(units: int = 100_000) -> None:
    raw = raw_event_rate()
    print(f"simpy raw event rate:      {raw:12,.0f} events/s (a bare timeout loop; the physical limit)")
    ref = minimal_tandem(units)
    own = model_tandem(units)
    print(
        f"tandem, minimal SimPy:     {ref:12,.0f} station visits/s ({STATIONS} M/M/1 stations, {units:,} units)"
    )
    print(
        f"tandem, linemon engine:    {own:12,.0f} station visits/s = {own / ref:.0%} of minimal (target >= 50 %)"
    )
    month, year = _child(24 * 30), _child(24 * 365)
    for r in (month, year):
        print(
            f"plant, {r['hours'] / 24:5.0f} days:         {r['wall_s']:8.1f} s wall, {r['completed']:,} units, "
            f"{r['visits_per_s']:,.0f} visits/s, peak memory {r['maxrss_mb']:.0f} MB"
        )
    print(
        f"plant year under a minute: {'yes' if year['wall_s'] < 60 else 'NO'}; "
        f"memory year/month = {year['maxrss_mb'] / month['maxrss_mb']:.2f} (flat = about 1)"
    )
