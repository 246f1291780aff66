"""Measurement SPC: individuals / moving-range charts and process capability (Montgomery; AIAG SPC).

A measured value (an output voltage, an RF power, a paste volume) drifts days before the units it
measures start failing. The individuals chart's limits come from a frozen baseline (never from the
points judged): centre x̄ of the baseline, σ_within = MR̄ / d2 (d2 = 1.128 for moving ranges of
two), limits x̄ ± 3σ_within; Western Electric rules on z = (x − x̄) / σ_within. Capability: Cp, Cpk
from σ_within; Pp, Ppk from the overall sample standard deviation; one-sided specifications use
the side that exists. Intervals (95 %): Cp and Pp from the chi-square distribution of the
variance, Cpk and Ppk by Bissell's approximation. Below MIN_VALUES values an index is indicative.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from line.spc import WE_RULES, western_electric

D2 = 1.128  # d2 of a moving range of two
MR_D4 = 3.267  # D4 for n = 2: the moving-range chart's upper limit over MR̄
MIN_VALUES = 30  # fewer values: the indices are shown as indicative only
Interval = tuple[float, float]


@dataclass(frozen=True)
class Baseline:
    """What an individuals chart judges against: frozen from a period before the judged one."""

    mean: float
    mr_bar: float
    n: int

    @property
    def sigma(self) -> float:
        return self.mr_bar / D2


def baseline_of(values: Sequence[float]) -> Baseline | None:
    """The baseline of values in time order; None with fewer than two (no moving range)."""
    if len(values) < 2:
        return None
    return Baseline(statistics.fmean(values), _mr_bar(values), len(values))


def _mr_bar(values: Sequence[float]) -> float:
    return statistics.fmean(abs(b - a) for a, b in itertools.pairwise(values))


@dataclass(frozen=True)
class IPoint:
    label: str
    x: float
    mr: float | None  # |x − previous x|; None for the first point
    z: float | None  # standardised against the baseline; None without one
    violations: tuple[int, ...]


@dataclass(frozen=True)
class IChart:
    points: list[IPoint]
    center: float | None
    ucl: float | None
    lcl: float | None
    mr_ucl: float | None  # the moving-range chart's upper limit (its lower limit is 0)


def individuals_chart(
    points: Sequence[tuple[str, float]], base: Baseline | None, rules: Sequence[int] = WE_RULES
) -> IChart:
    """Each value with its moving range, judged against `base` (None: shown, not judged)."""
    xs = [x for _, x in points]
    mrs: list[float | None] = ([None] if xs else []) + [abs(b - a) for a, b in itertools.pairwise(xs)]
    if base is None or base.sigma <= 0:
        pts = [IPoint(label, x, mr, None, ()) for (label, x), mr in zip(points, mrs, strict=True)]
        center = base.mean if base is not None else None
        return IChart(pts, center, None, None, None)
    z = [(x - base.mean) / base.sigma for x in xs]
    flags = western_electric(z, rules)
    pts = [
        IPoint(label, x, mr, zi, tuple(sorted(f)))
        for (label, x), mr, zi, f in zip(points, mrs, z, flags, strict=True)
    ]
    spread = 3 * base.sigma
    return IChart(pts, base.mean, base.mean + spread, base.mean - spread, MR_D4 * base.mr_bar)


@dataclass(frozen=True)
class Capability:
    n: int
    mean: float
    sigma_within: float | None  # MR̄ / d2 (None: fewer than two values)
    sigma_overall: float | None  # sample standard deviation
    lsl: float | None
    usl: float | None
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None
    cp_ci: Interval | None
    cpk_ci: Interval | None
    pp_ci: Interval | None
    ppk_ci: Interval | None
    outside: int  # values outside the specification

    @property
    def indicative(self) -> bool:
        return self.n < MIN_VALUES


def capability(values: Sequence[float], lsl: float | None, usl: float | None, level: float = 0.95) -> Capability:
    """Capability indices of values in time order against their specification limits."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to judge")
    outside = sum(1 for v in values if (lsl is not None and v < lsl) or (usl is not None and v > usl))
    return capability_of(
        n, statistics.fmean(values), statistics.stdev(values) if n >= 2 else None,
        _mr_bar(values) if n >= 2 else None, lsl, usl, outside, level,
    )  # fmt: skip


def capability_of(
    n: int,
    mean: float,
    sd: float | None,
    mr_bar: float | None,
    lsl: float | None,
    usl: float | None,
    outside: int,
    level: float = 0.95,
) -> Capability:
    """The indices from a series' summary (a store can sum a year of values without returning
    them): its count, mean, sample standard deviation and mean moving range."""
    within = mr_bar / D2 if mr_bar is not None else None
    cp, cpk = _cp(lsl, usl, within), _cpk(mean, lsl, usl, within)
    pp, ppk = _cp(lsl, usl, sd), _cpk(mean, lsl, usl, sd)
    return Capability(
        n, mean, within, sd, lsl, usl, cp, cpk, pp, ppk,
        _cp_interval(cp, n, level), _cpk_interval(cpk, n, level),
        _cp_interval(pp, n, level), _cpk_interval(ppk, n, level), outside,
    )  # fmt: skip


def _cp(lsl: float | None, usl: float | None, sigma: float | None) -> float | None:
    if lsl is None or usl is None or not sigma:
        return None
    return (usl - lsl) / (6 * sigma)


def _cpk(mean: float, lsl: float | None, usl: float | None, sigma: float | None) -> float | None:
    sides = [s for s in ((usl - mean) if usl is not None else None, (mean - lsl) if lsl is not None else None) if s is not None]
    if not sides or not sigma:
        return None
    return min(sides) / (3 * sigma)


def _cp_interval(cp: float | None, n: int, level: float) -> Interval | None:
    """Cp·sqrt(χ²_{α/2, n−1} / (n−1)) .. Cp·sqrt(χ²_{1−α/2, n−1} / (n−1))."""
    if cp is None or n < 2:
        return None
    a, df = 1 - level, n - 1
    lo, hi = stats.chi2.ppf(a / 2, df), stats.chi2.ppf(1 - a / 2, df)
    return cp * math.sqrt(float(lo) / df), cp * math.sqrt(float(hi) / df)


def _cpk_interval(cpk: float | None, n: int, level: float) -> Interval | None:
    """Bissell: Cpk ± z·sqrt(1/(9n) + Cpk²/(2(n−1)))."""
    if cpk is None or n < 2:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2))
    half = z * math.sqrt(1 / (9 * n) + cpk**2 / (2 * (n - 1)))
    return cpk - half, cpk + half


@dataclass(frozen=True)
class XPoint:
    label: str
    n: int
    mean: float
    ucl: float | None  # each subgroup its own limits: x̿ ± 3σ/√n
    lcl: float | None
    z: float | None
    violations: tuple[int, ...]


def pooled_sigma(groups: Sequence[Sequence[float]]) -> float | None:
    """The within-subgroup standard deviation pooled over subgroups of any size:
    sqrt(Σ(nᵢ − 1)·sᵢ² / Σ(nᵢ − 1)); None without a subgroup of two or more."""
    dof = sum(len(g) - 1 for g in groups if len(g) > 1)
    if dof == 0:
        return None
    return math.sqrt(sum((len(g) - 1) * statistics.variance(g) for g in groups if len(g) > 1) / dof)


def xbar_chart(
    groups: Sequence[tuple[str, Sequence[float]]], base: Sequence[Sequence[float]], rules: Sequence[int] = WE_RULES
) -> tuple[list[XPoint], float | None]:
    """Subgroup means (an hour's values, a board's pads) judged against the baseline's grand mean
    and pooled within-subgroup sigma, each with limits for its own size; returns the points and
    the centre (None: no baseline, the means shown unjudged)."""
    values = [v for g in base for v in g]
    sigma = pooled_sigma(base)
    if not values or not sigma:
        return [XPoint(label, len(g), statistics.fmean(g), None, None, None, ()) for label, g in groups if g], None
    centre = statistics.fmean(values)
    pts = []
    for label, g in groups:
        if not g:
            continue
        spread = 3 * sigma / math.sqrt(len(g))
        mean = statistics.fmean(g)
        pts.append(XPoint(label, len(g), mean, centre + spread, centre - spread, (mean - centre) / (spread / 3), ()))
    flags = western_electric([p.z or 0.0 for p in pts], rules)
    return [XPoint(p.label, p.n, p.mean, p.ucl, p.lcl, p.z, tuple(sorted(f))) for p, f in zip(pts, flags, strict=True)], centre
