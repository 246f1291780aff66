"""Scheduled time in simulation seconds: when the plant works, from the shift calendar.

The engine asks two questions many times per unit, so both are a bisect over sorted intervals:
`next_on(t)` (now if scheduled, else the next shift start) and `on_until(t)` (end of the current
scheduled interval). `off_seconds(a, b)` splits a station's waiting time into scheduled and not.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

INF = float("inf")


@dataclass(frozen=True)
class WorkClock:
    """Scheduled intervals [start, end) in seconds from the simulation start, sorted, disjoint.
    After the last interval the plant is off for good (the horizon ends)."""

    intervals: tuple[tuple[float, float], ...]
    _starts: list[float] = field(init=False, repr=False, compare=False)
    _ends: list[float] = field(init=False, repr=False, compare=False)
    _on_before: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [a for a, _ in self.intervals]
        ends = [b for _, b in self.intervals]
        if any(b <= a for a, b in self.intervals) or any(
            ends[i] > starts[i + 1] for i in range(len(ends) - 1)
        ):
            raise ValueError("work clock intervals must be non-empty, sorted and disjoint")
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_ends", ends)
        cum = [0.0, *itertools.accumulate(b - a for a, b in self.intervals)]
        object.__setattr__(self, "_on_before", cum)

    def next_on(self, t: float) -> float:
        i = bisect.bisect_right(self._ends, t)
        if i == len(self._starts):
            return INF
        return max(t, self._starts[i])

    def on_until(self, t: float) -> float:
        """End of the scheduled interval containing t (t itself when t is not scheduled)."""
        i = bisect.bisect_right(self._ends, t)
        if i < len(self._starts) and self._starts[i] <= t:
            return self._ends[i]
        return t

    def on_seconds(self, a: float, b: float) -> float:
        return self._on_upto(b) - self._on_upto(a)

    def _on_upto(self, t: float) -> float:
        i = bisect.bisect_right(self._starts, t)
        if i == 0:
            return 0.0
        a, b = self.intervals[i - 1]
        return self._on_before[i - 1] + min(t, b) - a

    def after_on(self, a: float, seconds: float) -> float:
        """The moment `seconds` of scheduled time have passed since `a` (INF past the horizon)."""
        target = self._on_upto(a) + max(0.0, seconds)
        i = bisect.bisect_left(self._on_before, target, 1) - 1  # interval where the sum reaches it
        if i >= len(self.intervals):
            return INF
        start, _ = self.intervals[i]
        return max(a, start + target - self._on_before[i])
