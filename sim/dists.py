"""Time distributions the simulator draws from, described as data so plans and tests can state them.

Each distribution is given by its mean and shape (as factory-physics texts state process times):
constant, exponential, triangular, lognormal by mean and coefficient of variation, or empirical
(resampled observations). Draws use a `random.Random` passed in by the caller, never a global.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

DistKind = Literal["constant", "exponential", "triangular", "lognormal", "empirical"]


@dataclass(frozen=True)
class Dist:
    kind: DistKind
    mean: float
    cv: float = 0.0  # lognormal only
    low: float = 0.0  # triangular only
    mode: float = 0.0
    high: float = 0.0
    values: tuple[float, ...] = ()  # empirical only

    def sample(self, rng: random.Random) -> float:
        k = self.kind
        if k == "constant":
            return self.mean
        if k == "exponential":
            return rng.expovariate(1.0 / self.mean) if self.mean > 0 else 0.0
        if k == "lognormal":
            if self.cv <= 0:
                return self.mean
            s2 = math.log1p(self.cv * self.cv)
            return rng.lognormvariate(math.log(self.mean) - s2 / 2, math.sqrt(s2))
        if k == "triangular":
            return rng.triangular(self.low, self.high, self.mode)
        return rng.choice(self.values)

    def scaled(self, factor: float) -> Dist:
        """The same shape with every time multiplied by `factor` (unit conversions)."""
        return Dist(
            self.kind,
            self.mean * factor,
            self.cv,
            self.low * factor,
            self.mode * factor,
            self.high * factor,
            tuple(v * factor for v in self.values),
        )


def constant(mean: float) -> Dist:
    return Dist("constant", mean)


def exponential(mean: float) -> Dist:
    return Dist("exponential", mean)


def lognormal(mean: float, cv: float) -> Dist:
    return Dist("lognormal", mean, cv=cv)


def triangular(low: float, mode: float, high: float) -> Dist:
    if not low <= mode <= high or high <= 0:
        raise ValueError(f"triangular needs 0 <= low <= mode <= high, got {low}, {mode}, {high}")
    return Dist("triangular", (low + mode + high) / 3, low=low, mode=mode, high=high)


def empirical(values: list[float] | tuple[float, ...]) -> Dist:
    if not values or min(values) < 0:
        raise ValueError("empirical needs at least one observation, none negative")
    return Dist("empirical", sum(values) / len(values), values=tuple(float(v) for v in values))


def dist_from_spec(spec: Any, where: str) -> Dist:
    """A distribution from a plan file entry: a number (constant) or a table with `dist` and its
    parameters. Raises ValueError naming `where` and what was expected."""
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return constant(float(spec))
    if not isinstance(spec, dict) or "dist" not in spec:
        raise ValueError(f"{where}: expected a number or a table with 'dist' (constant, exponential, ...)")
    kind = spec["dist"]
    try:
        if kind == "constant":
            return constant(float(spec["mean"]))
        if kind == "exponential":
            return exponential(float(spec["mean"]))
        if kind == "lognormal":
            return lognormal(float(spec["mean"]), float(spec["cv"]))
        if kind == "triangular":
            return triangular(float(spec["low"]), float(spec["mode"]), float(spec["high"]))
        if kind == "empirical":
            return empirical([float(v) for v in spec["values"]])
    except KeyError as exc:
        raise ValueError(f"{where}: a {kind} distribution needs {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    raise ValueError(
        f"{where}.dist: unknown distribution {kind!r} "
        "(expected constant, exponential, triangular, lognormal or empirical)"
    )
