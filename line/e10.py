"""A station's scheduled time split by SEMI E10 state, and what it means for the supervisor.

SEMI E10 counts starved and blocked time as standby (SBY): the equipment is up and waits on the
line, it is not down. So a station's figures are split into
- E10 availability = equipment uptime (productive + standby + engineering) / known scheduled time,
- utilisation = productive time / known scheduled time,
- its own losses (unscheduled down, setup and other scheduled down, engineering, standby with no
  line cause) apart from the line's (starved by upstream, blocked by downstream).

The OEE shown beside them is the equipment OEE over *loaded time*: scheduled time less the time
the line starved or blocked the station (the time the line gave it work and room). A healthy
station that waits on the bottleneck is then not shown as failing; the line's waiting is shown as
its own figure, and the bottleneck is the station that waits least (reference/kpis-and-features.md
§3: highest share of working time). Times are summed machine by machine, never averaged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from line.calendar import Interval, overlap_seconds
from line.oee import Oee
from line.status import Segment

# display state (line.status) -> the E10 bucket its time goes to
BUCKET = {
    "running": "productive", "starved": "starved", "blocked": "blocked", "idle": "idle",
    "setup": "setup", "planned_down": "planned_down", "down": "down", "engineering": "engineering",
    "not_scheduled": "not_scheduled", "unknown": "not_scheduled",
}  # fmt: skip


@dataclass(frozen=True)
class TimeSplit:
    """Seconds of scheduled time per E10 bucket, summed over a station's machines; `scheduled_s`
    less the buckets is time with no state reported (before a machine's first record), which
    no share counts."""

    scheduled_s: float = 0.0
    productive_s: float = 0.0
    starved_s: float = 0.0
    blocked_s: float = 0.0
    idle_s: float = 0.0
    setup_s: float = 0.0
    planned_down_s: float = 0.0
    engineering_s: float = 0.0
    down_s: float = 0.0
    not_scheduled_s: float = 0.0  # the equipment reported NST during the calendar's worked time

    @property
    def known_s(self) -> float:
        """Scheduled time with a reported state that is part of operations time."""
        return sum(getattr(self, f"{b}_s") for b in OPERATIONS)

    @property
    def line_wait_s(self) -> float:
        """Standby caused by the line: starved by upstream, blocked by downstream."""
        return self.starved_s + self.blocked_s

    @property
    def own_down_s(self) -> float:
        """Downtime of the equipment itself (E10 SDT + UDT)."""
        return self.down_s + self.setup_s + self.planned_down_s

    @property
    def loaded_s(self) -> float:
        """Known time less the line's waiting: the time the station had work and room."""
        return self.known_s - self.line_wait_s

    def share(self, seconds: float) -> float | None:
        return seconds / self.known_s if self.known_s > 0 else None

    @property
    def availability(self) -> float | None:
        """SEMI E10 availability: equipment uptime over known scheduled time."""
        return self.share(self.known_s - self.own_down_s)

    @property
    def utilisation(self) -> float | None:
        return self.share(self.productive_s)


OPERATIONS = ("productive", "starved", "blocked", "idle", "setup", "planned_down", "engineering", "down")


def time_splits(
    segs: Sequence[Segment], scheduled: list[Interval], stations: Sequence[str]
) -> dict[str, TimeSplit]:
    """Each station's scheduled time by bucket (`scheduled`: merged intervals), every machine
    that reported a state having the whole scheduled time."""
    secs: dict[str, dict[str, float]] = {s: {} for s in stations}
    machines: dict[str, set[str]] = {s: set() for s in stations}
    sched_s = sum((b - a).total_seconds() for a, b in scheduled)
    for seg in segs:
        if seg.station not in secs:
            continue
        machines[seg.station].add(seg.equipment)
        bucket = BUCKET[seg.display]
        cell = secs[seg.station]
        cell[bucket] = cell.get(bucket, 0.0) + overlap_seconds([(seg.start, seg.end)], scheduled)
    return {
        sid: TimeSplit(
            scheduled_s=len(machines[sid]) * sched_s, **{f"{b}_s": v for b, v in secs[sid].items()}
        )
        for sid in stations
    }


def bottleneck(splits: Mapping[str, TimeSplit], tie: float = 0.005) -> list[str]:
    """The station that waits least on the line (least starved + blocked share of its known
    time): the one the line's output is waiting for. Stations within `tie` of the least share are
    all returned (in the given order): the data does not tell them apart. Empty without data."""
    shares = {s: sp.share(sp.line_wait_s) for s, sp in splits.items()}
    known = {s: v for s, v in shares.items() if v is not None}
    if not known:
        return []
    least = min(known.values())
    return [s for s, v in known.items() if v <= least + tie]


def lacks_work(splits: Mapping[str, TimeSplit], necks: list[str], above: float = 0.5) -> bool:
    """Even the least-waiting station waited more than `above` of its time: the line lacked work
    (no orders released, or a line downstream blocking it), so no station is its bottleneck."""
    return bool(necks) and (splits[necks[0]].share(splits[necks[0]].line_wait_s) or 0.0) > above


def loaded_oee(split: TimeSplit, ideal_s: float, total: int, good: int) -> Oee:
    """Equipment OEE over loaded time: A = productive / loaded, P = ideal / productive,
    Q = good / total; so OEE = good x ideal cycle time / loaded time."""
    return Oee(scheduled_s=split.loaded_s, run_s=split.productive_s, ideal_s=ideal_s, total=total, good=good)


LOSSES = ("down", "setup", "idle", "speed", "quality")


def oee_losses(split: TimeSplit, oee: Oee) -> dict[str, float]:
    """Seconds of loaded time each loss took (they sum to loaded time - OEE x loaded time):
    down (unscheduled), setup (setup, scheduled down, engineering), idle (standby with no line
    cause: no operator, no order), speed (running slower than the ideal cycle) and quality (ideal
    time of attempts that did not pass first time)."""
    counted = oee.total > 0  # without counts (no inspection here) speed and quality are unknown
    speed = max(0.0, split.productive_s - oee.ideal_s) if counted else 0.0
    q = oee.quality
    return {
        "down": split.down_s,
        "setup": split.setup_s + split.planned_down_s + split.engineering_s,
        "idle": split.idle_s,
        "speed": speed,
        "quality": 0.0 if q is None else min(oee.ideal_s, split.productive_s) * (1 - q),
    }


def dominant_loss(losses: Mapping[str, float]) -> str | None:
    """The loss that took the most time (ties in LOSSES order); None when nothing was lost."""
    worst = max(LOSSES, key=lambda k: losses.get(k, 0.0))
    return worst if losses.get(worst, 0.0) > 0 else None
