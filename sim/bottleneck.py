"""Bottleneck detection by the active-period method (Roser, Nakano & Tanaka, 2001/2002).

A station is *active* while it has no idle capacity: all its servers are working, in setup or
down (not starved, not blocked, not off shift). At each instant the bottleneck is the station whose
current active period is the longest. Where the active periods of consecutive bottlenecks overlap,
the bottleneck is *shifting* (the overlap counts for both stations); elsewhere it is *sole*.
Pure functions over periods, so the engine can feed them a day at a time and keep memory flat.
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

Period = tuple[str, float, float]  # station, start, end


@dataclass
class BottleneckTally:
    """Sole and shifting bottleneck seconds per station, over the time some station was active."""

    sole: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    shifting: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    observed_s: float = 0.0

    def add(self, periods: Sequence[Period]) -> None:
        reigns = momentary_bottlenecks(periods)
        self.observed_s += sum(e - s for _, s, e in reigns)
        for i, (p, s, e) in enumerate(reigns):
            station = periods[p][0]
            shifting_here = 0.0
            for j in (i - 1, i + 1):
                if 0 <= j < len(reigns) and periods[reigns[j][0]][0] != station:
                    q = periods[reigns[j][0]]
                    lo, hi = max(q[1], s), min(q[2], e)  # part of this reign inside the neighbour's period
                    shifting_here += max(0.0, hi - lo)
                    if j == i + 1:
                        self.shifting[station] += _overlap(periods[p], q)
                        self.shifting[q[0]] += _overlap(periods[p], q)
            self.sole[station] += max(0.0, (e - s) - shifting_here)

    def shares(self) -> tuple[dict[str, float], dict[str, float]]:
        t = self.observed_s or 1.0
        return ({k: v / t for k, v in self.sole.items()}, {k: v / t for k, v in self.shifting.items()})


def _overlap(a: Period, b: Period) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[1], b[1]))


def momentary_bottlenecks(periods: Sequence[Period]) -> list[tuple[int, float, float]]:
    """The bottleneck over time as reigns (index of its active period, start, end), in time order;
    times when no station is active are left out."""
    events = sorted({t for _, s, e in periods for t in (s, e)})
    order = sorted(range(len(periods)), key=lambda k: periods[k][1])
    heap: list[tuple[float, int]] = []  # (-duration, index) of periods started so far
    reigns: list[tuple[int, float, float]] = []
    nxt = 0
    for a, b in itertools.pairwise(events):
        while nxt < len(order) and periods[order[nxt]][1] <= a:
            k = order[nxt]
            heapq.heappush(heap, (-(periods[k][2] - periods[k][1]), k))
            nxt += 1
        top = _longest_covering(heap, periods, a)
        if top is None:
            continue
        k = top
        if reigns and reigns[-1][0] == k and reigns[-1][2] == a:
            reigns[-1] = (k, reigns[-1][1], b)
        else:
            reigns.append((k, a, b))
    return reigns


def _longest_covering(heap: list[tuple[float, int]], periods: Sequence[Period], t: float) -> int | None:
    """The longest period covering t; ended periods below the top are removed lazily."""
    while heap:
        k = heap[0][1]
        if periods[k][2] > t:
            return k
        heapq.heappop(heap)
    return None
