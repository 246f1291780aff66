"""Rough-cut capacity: how many server-seconds a set of lots needs at each station, and how far a
week's plan can be scaled to fill the week's scheduled time.

Planners size a week's orders this way (rough-cut capacity planning): the work content of every
station (process time per attempt, retests, setups per lot, breakdowns per busy hour) against its
available time (shifts × servers; around the clock for aging racks). The line twin uses it to keep
the reference mix but release as much as the week can take, so the demo's line is loaded on a
Friday afternoon as a real plant's is, instead of running dry once a fixed week is made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sim.network import Lot, Network, StationSpec


def attempts_per_unit(net: Network, spec: StationSpec, product: str) -> float:
    """Expected attempts of one unit at a station: the first, then a retest after each failure
    (first pass fails with 1 − FPY, a retest with 1 − retest_pass), at most `max_attempts`."""
    if not spec.inspects:
        return 1.0
    fail_first = 1.0 - spec.fpy.get(product, 1.0)
    fail_retest = 1.0 - net.retest_pass
    total, reach = 1.0, fail_first
    for _ in range(1, max(1, net.max_attempts)):
        total += reach
        reach *= fail_retest
    return total


def server_seconds(net: Network, lots: Iterable[Lot]) -> dict[str, float]:
    """Server-seconds each station needs for `lots`: process time × attempts, a setup per lot where
    the station has setups (the plan makes each lot in one run), and breakdowns at the station's
    busy-time MTBF (mean repair time per failure)."""
    need: dict[str, float] = defaultdict(float)
    for lot in lots:
        for sid in net.routings[lot.product]:
            spec = net.stations[sid]
            busy = lot.quantity * spec.time_for(lot.product).mean * attempts_per_unit(net, spec, lot.product)
            if spec.setup is not None:
                busy += spec.setup.mean
            if spec.mtbf_s and spec.mttr is not None:
                busy *= 1.0 + spec.mttr.mean / spec.mtbf_s
            need[sid] += busy
    return dict(need)


def fill_factor(
    net: Network, lots: Iterable[Lot], scheduled_s: float, around_clock_s: float, load: float
) -> float:
    """How many times `lots` fit into a week at `load` (0-1] of its capacity: the smallest ratio of
    available to needed server-seconds over the stations (crews pooled). `scheduled_s` is the
    week's shift time, `around_clock_s` its length for stations that never stop."""
    need = server_seconds(net, lots)
    pooled: dict[str, float] = defaultdict(float)
    ratios = []
    for sid, seconds in need.items():
        spec = net.stations[sid]
        if spec.crew is not None:
            pooled[spec.crew] += seconds
        available = (scheduled_s if spec.follows_clock else around_clock_s) * spec.servers
        if seconds > 0:
            ratios.append(available / seconds)
    ratios += [scheduled_s * net.crews[c] / s for c, s in pooled.items() if s > 0]
    return load * min(ratios) if ratios else 1.0


def scaled_quantities(quantities: Mapping[str, int], factor: float) -> dict[str, int]:
    """Each order's quantity times `factor`, at least one unit: the mix kept, the volume moved."""
    return {key: max(1, round(q * factor)) for key, q in quantities.items()}
