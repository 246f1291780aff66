"""Yield alarms that need evidence and do not flap (DESIGN.md §5).

A shift's FPY at a station raises an alarm only when the data shows it is below the floor: the
upper bound of a one-sided Clopper-Pearson interval for the true first-pass rate is below the
floor, or the shift has at least `min_units` units and its FPY is below the floor. One bad unit
among four (75 %) is not evidence against a 90 % floor: its upper bound is 98.7 %.

Once raised, the alarm holds until the FPY is back at the floor plus a margin (hysteresis), so a
station hovering at the floor does not blink on and off. The andon keeps no state between
refreshes: the alarm's state is found by replaying the shift's first attempts in time order,
which also gives the time the alarm was raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


def fpy_upper_bound(passed: int, n: int, confidence: float) -> float:
    """One-sided upper confidence bound of a binomial proportion (Clopper-Pearson, exact)."""
    if n <= 0:
        return 1.0
    if passed >= n:
        return 1.0
    from scipy.stats import beta  # imported here: the andon needs it, the CLI's start-up does not

    return float(beta.ppf(confidence, passed + 1, n - passed))


def below_with_evidence(passed: int, n: int, floor: float, min_units: int, confidence: float) -> bool:
    """True when `passed` of `n` shows an FPY below `floor`: by the interval, or by a sample of at
    least `min_units` units (0: the interval alone decides)."""
    if n == 0 or passed >= floor * n:
        return False
    if min_units and n >= min_units:
        return True
    return fpy_upper_bound(passed, n, confidence) < floor


@dataclass(frozen=True)
class FpyAlarm:
    station: str
    passed: int
    n: int
    floor: float
    since: datetime  # the attempt that raised it

    @property
    def fpy(self) -> float:
        return self.passed / self.n


def fpy_alarms(
    first_attempts: Iterable[tuple[datetime, str, bool]],
    floors: Mapping[str, float],
    min_units: int,
    confidence: float,
    clear_margin: float,
) -> list[FpyAlarm]:
    """The FPY alarms active after replaying first attempts (time, station, passed) in time order;
    stations without a floor are not judged."""
    counts: dict[str, list[int]] = {}
    raised: dict[str, datetime] = {}
    for ts, sid, ok in first_attempts:
        if sid not in floors:
            continue
        c = counts.setdefault(sid, [0, 0])
        c[0] += ok
        c[1] += 1
        floor = floors[sid]
        if sid not in raised and below_with_evidence(c[0], c[1], floor, min_units, confidence):
            raised[sid] = ts
        elif sid in raised and c[0] >= (floor + clear_margin) * c[1]:
            del raised[sid]
    return [
        FpyAlarm(sid, counts[sid][0], counts[sid][1], floors[sid], since)
        for sid, since in sorted(raised.items())
    ]
