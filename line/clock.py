"""Plant clocks: the wall clock, or the accelerated clock of the line twin.

Everything that stamps or compares times (the ingest stamping frames that carry no time, the
health rows, the dashboard's "now", its stale banner and silence alarms) takes a clock instead
of calling `datetime.now`, so the twin's plant can run 60 times faster than the wall clock and
every part of the chain still agrees on what time it is at the plant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    @property
    def factor(self) -> float:
        """Plant seconds per wall-clock second."""
        ...

    def now(self) -> datetime: ...

    def at(self, epoch: float) -> datetime:
        """The plant time of a wall-clock instant (seconds since the epoch, as time.time())."""
        ...


@dataclass(frozen=True)
class SystemClock:
    factor: float = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    def at(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True)
class ScaledClock:
    """Plant time `origin` at wall-clock instant `real_origin`, running `factor` times faster.
    Plain data, so it crosses into the ingest's writer process unchanged."""

    origin: datetime
    real_origin: float
    factor: float

    def __post_init__(self) -> None:
        if self.origin.tzinfo is None:
            raise ValueError("ScaledClock: origin must carry a time zone")
        if self.factor <= 0:
            raise ValueError(f"ScaledClock: factor must be > 0, got {self.factor}")

    @classmethod
    def starting(cls, origin: datetime, factor: float) -> ScaledClock:
        return cls(origin, time.time(), factor)

    def now(self) -> datetime:
        return self.at(time.time())

    def at(self, epoch: float) -> datetime:
        return self.origin + timedelta(seconds=(epoch - self.real_origin) * self.factor)


HEARTBEAT_S = 2.0  # how often a running twin confirms its clock in its store
STALE_AFTER_S = 10.0  # a twin clock not confirmed for this long has stopped (the twin ended or died)


@dataclass(frozen=True)
class StoredClock:
    """A store's own clock, as the twin that writes it keeps it: plant time `origin` at wall
    instant `real_origin`, `factor` times faster, last confirmed at wall instant `heartbeat`.
    `factor` 0: the plant stopped at `origin`. A store without one runs on the wall clock."""

    origin: datetime
    real_origin: float
    factor: float
    heartbeat: float

    def at(self, epoch: float) -> datetime:
        """The plant time at wall instant `epoch`: extrapolated while the twin confirms its clock,
        standing where it was last confirmed once it does not (a twin killed without a word)."""
        if self.factor == 0:
            return self.origin
        upto = epoch if epoch - self.heartbeat <= STALE_AFTER_S else self.heartbeat
        return self.origin + timedelta(seconds=(upto - self.real_origin) * self.factor)
