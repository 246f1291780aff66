"""The figures of one finished run, as the nested dict that replications are summarised over."""

from __future__ import annotations

from typing import Any

from sim.engine import BUSY, OFF, STATE_NAMES, Simulation


def figures(sim: Simulation, end: float) -> dict[str, Any]:
    """Throughput, WIP, lead times, per-product completions and FPY, station time splits and
    utilisation, and bottleneck shares over the measured period [warm-up, end]."""
    hours = max(end - sim.measure_from, 1e-9) / 3600
    sole, shifting = sim.tally.shares()
    return {
        "measured_h": hours,
        "throughput_per_hour": sim.completed / hours,
        "makespan_h": (sim.last_exit / 3600)
        if sim.net.release.mode == "plan" and sim.to_release == 0
        else None,
        "wip": sim.wip_area / (hours * 3600),
        "wip_over_time": dict(sim.wip_trace),
        "released": sim.released,
        "completed": sim.completed,
        "scrapped": sim.scrapped,
        "lead_time_h": sim.lead.summary(),
        "products": {
            code: {
                "completed": sim.done.get(code, 0),
                "scrapped": sim.scrap.get(code, 0),
                "lead_time_h": sim.lead_by[code].summary() if code in sim.lead_by else None,
                "fpy": {
                    sid: st.first_pass[code] / st.first[code]
                    for sid, st in sim.stations.items()
                    if st.spec.inspects and st.first.get(code)
                },
            }
            for code in sim.net.routings
        },
        "stations": {sid: _station_figures(st.split, len(st.servers)) for sid, st in sim.stations.items()},
        "bottleneck": {
            "sole_share": {sid: sole.get(sid, 0.0) for sid in sim.stations},
            "shifting_share": {sid: shifting.get(sid, 0.0) for sid in sim.stations},
        },
    }


def _station_figures(split: list[float], servers: int) -> dict[str, Any]:
    total = sum(split) or 1.0
    scheduled = total - split[OFF]
    return {
        "utilization": split[BUSY] / scheduled if scheduled > 0 else 0.0,
        "time_split": {name: split[i] / total for i, name in enumerate(STATE_NAMES)},
    }
