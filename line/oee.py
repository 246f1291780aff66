"""OEE from station state records over scheduled time only (reference/kpis-and-features.md §3).

Availability = productive (PRD) time / scheduled time; performance = ideal cycle time x total
count / productive time; quality = good / total. Times and counts are summed before dividing, so
rolling stations or shifts up never averages percentages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from line.calendar import Interval, merge, overlap_seconds


@dataclass(frozen=True)
class Oee:
    scheduled_s: float
    run_s: float
    ideal_s: float  # ideal cycle time x total count
    total: int
    good: int

    def __add__(self, o: Oee) -> Oee:
        return Oee(
            self.scheduled_s + o.scheduled_s,
            self.run_s + o.run_s,
            self.ideal_s + o.ideal_s,
            self.total + o.total,
            self.good + o.good,
        )

    @property
    def availability(self) -> float | None:
        return self.run_s / self.scheduled_s if self.scheduled_s else None

    @property
    def performance(self) -> float | None:
        return self.ideal_s / self.run_s if self.run_s else None

    @property
    def quality(self) -> float | None:
        return self.good / self.total if self.total else None

    @property
    def oee(self) -> float | None:
        """A x P x Q, which equals good x ideal cycle time / scheduled time."""
        a, p, q = self.availability, self.performance, self.quality
        return a * p * q if a is not None and p is not None and q is not None else None


def state_intervals(
    changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime, state: str
) -> list[Interval]:
    """Intervals within [start, end) during which the station was in `state`.

    `changes` are (time, state) records in any order; each state lasts until the next record.
    The state before the first record is unknown and counted as nothing.
    """
    ordered = sorted(changes)
    out = []
    for (t0, s), nxt in zip(ordered, [*ordered[1:], (end, "")], strict=True):
        a, b = max(t0, start), min(nxt[0], end)
        if s == state and a < b:
            out.append((a, b))
    return merge(out)


def oee_for(
    changes: Sequence[tuple[datetime, str]],
    scheduled: list[Interval],
    start: datetime,
    end: datetime,
    ideal_cycle_s: float,
    total: int,
    good: int,
) -> Oee:
    run = state_intervals(changes, start, end, "PRD")
    sched = merge([(max(a, start), min(b, end)) for a, b in scheduled if a < end and b > start])
    return Oee(
        scheduled_s=sum((b - a).total_seconds() for a, b in sched),
        run_s=overlap_seconds(run, sched),
        ideal_s=ideal_cycle_s * total,
        total=total,
        good=good,
    )
