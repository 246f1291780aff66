"""p-chart with limits frozen from a baseline (Phase I) and Western Electric rules (Phase II).

Limits are never computed from the points being judged: the caller passes the baseline's total
defectives and units. With varying subgroup sizes each point has its own limits (drawn as steps),
so the rules are applied to standardised values z = (p - p̄) / σᵢ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

WE_RULES = (1, 2, 3, 4)


@dataclass(frozen=True)
class Subgroup:
    label: str
    defective: int
    n: int


@dataclass(frozen=True)
class PPoint:
    label: str
    n: int
    p: float
    center: float | None  # None: no baseline, so no limits (the point is shown, not judged)
    ucl: float | None
    lcl: float | None
    z: float | None
    violations: tuple[int, ...]  # Western Electric rule numbers this point completes


def baseline_p(subgroups: Sequence[Subgroup]) -> float:
    """p̄ of a baseline period: total defectives over total units (not a mean of fractions)."""
    n = sum(s.n for s in subgroups)
    if n == 0:
        raise ValueError("the baseline period has no units; choose a period with data")
    return sum(s.defective for s in subgroups) / n


def p_chart(
    subgroups: Sequence[Subgroup], pbar: float | None, rules: Sequence[int] = WE_RULES
) -> list[PPoint]:
    """Points with their own 3σ limits (LCL floored at 0) and the rule violations marked; with
    no baseline p̄ (None), the points alone, unjudged."""
    if pbar is None:
        return [PPoint(s.label, s.n, s.defective / s.n, None, None, None, None, ()) for s in subgroups if s.n > 0]
    pts = []
    for s in subgroups:
        if s.n <= 0:
            continue
        sigma = math.sqrt(pbar * (1 - pbar) / s.n)
        p = s.defective / s.n
        z = (p - pbar) / sigma if sigma > 0 else (0.0 if p == pbar else math.copysign(math.inf, p - pbar))
        pts.append(
            PPoint(s.label, s.n, p, pbar, min(1.0, pbar + 3 * sigma), max(0.0, pbar - 3 * sigma), z, ())
        )
    flags = western_electric([pt.z for pt in pts if pt.z is not None], rules)
    return [replace(pt, violations=tuple(sorted(f))) for pt, f in zip(pts, flags, strict=True)]


def western_electric(z: Sequence[float], rules: Sequence[int] = WE_RULES) -> list[set[int]]:
    """For each point, the rules it triggers (as the last point of the run):
    1: one point beyond 3σ; 2: 2 of 3 beyond 2σ on one side; 3: 4 of 5 beyond 1σ on one side;
    4: 8 in a row on one side of the centre line."""
    out: list[set[int]] = [set() for _ in z]
    for i, zi in enumerate(z):
        if 1 in rules and abs(zi) > 3:
            out[i].add(1)
        for rule, window, need, limit in ((2, 3, 2, 2.0), (3, 5, 4, 1.0), (4, 8, 8, 0.0)):
            if rule not in rules or i + 1 < window:
                continue
            run = z[i + 1 - window : i + 1]
            for sign in (1, -1):
                if sign * zi > limit and sum(1 for v in run if sign * v > limit) >= need:
                    out[i].add(rule)
    return out
