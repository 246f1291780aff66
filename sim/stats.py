"""Streaming statistics: memory does not grow with the horizon.

Lead times go into a log-spaced histogram (percentiles interpolated within one bin, about 4.7 % wide) beside exact
count, sum and sum of squares; WIP is a time-weighted area. Replication summaries (mean and a
Student-t 95 % interval) are computed over nested result dicts, so every figure gets one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as st

_LOG_LO, _PER_DECADE, _DECADES = -3.0, 50, 8  # 0.001 h .. 100,000 h


class Streaming:
    """Count, mean and percentiles of a positive quantity without keeping the values."""

    __slots__ = ("bins", "n", "total")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.bins = np.zeros(_PER_DECADE * _DECADES + 2, dtype=np.int64)

    def add(self, x: float) -> None:
        self.n += 1
        self.total += x
        if x <= 0:
            self.bins[0] += 1
            return
        k = int((math.log10(x) - _LOG_LO) * _PER_DECADE) + 1
        self.bins[min(max(k, 0), len(self.bins) - 1)] += 1

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0..100), interpolated within the bin it falls in (log-linearly, the
        values spread evenly over the bin's width): a bin's centre for every value in it gave
        replications the same figure and their interval a width of 0."""
        if not self.n:
            return None
        cum = np.cumsum(self.bins)
        target = q / 100 * self.n
        k = int(np.searchsorted(cum, target, side="left"))
        if k == 0:
            return 0.0
        below = float(cum[k - 1]) if k > 0 else 0.0
        share = (target - below) / float(self.bins[k]) if self.bins[k] else 0.5
        return float(10 ** (_LOG_LO + (k - 1 + min(max(share, 0.0), 1.0)) / _PER_DECADE))

    def summary(self) -> dict[str, float | None]:
        return {
            "mean": self.mean,
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p95": self.percentile(95),
        }


def mean_ci(values: Sequence[float], level: float = 0.95, nonnegative: bool = False) -> dict[str, Any]:
    """Mean and Student-t confidence interval over replications (a point interval for one).
    `nonnegative`: the quantity cannot be below 0 (WIP, times, counts), so neither is its interval's
    lower bound. Beside the interval of the mean, the replications' own spread (min, median, max):
    the interval says where the mean is, not where one run lands."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    spread = {"min": float(x.min()), "median": float(np.median(x)), "max": float(x.max()), "n": len(x)}
    if len(x) < 2 or float(x.std()) == 0.0:
        return {"mean": m, "ci95": [m, m], **spread}
    half = float(st.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    lo = max(0.0, m - half) if nonnegative else m - half
    return {"mean": m, "ci95": [lo, m + half], **spread}


def decimals_for(v: dict[str, Any], least: int = 2, most: int = 6) -> int:
    """Decimals that show an interval as it is: more than `least` when its ends differ but
    would print the same (a long plan's throughput varies in the third decimal: "4.36 [4.36,
    4.36]" read as if every run gave one value)."""
    lo, hi = v["ci95"]
    d = least
    while d < most and lo != hi and round(lo, d) == round(hi, d):
        d += 1
    return d


def paired_difference(diffs: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """A what-if's paired differences (same seeds) with the verdict an engineer asks for: whether
    the interval excludes 0 (`significant`), and if not, about how many replications would make
    an interval that narrow around this mean (`replications_needed`: n with t·s/√n < |mean|;
    None when the mean is 0 or the runs do not vary)."""
    out = mean_ci(diffs, level)
    lo, hi = out["ci95"]
    x = np.asarray(diffs, dtype=float)
    out["significant"] = bool(len(x) > 1 and (lo > 0 or hi < 0))
    out["replications_needed"] = None
    s = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    if not out["significant"] and out["mean"] != 0 and s > 0:
        n = max(2, len(x))
        while n < 100_000 and float(st.t.ppf((1 + level) / 2, n - 1)) * s / math.sqrt(n) >= abs(out["mean"]):
            n += 1
        out["replications_needed"] = n
    return out


def summarise(reps: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The same nested shape as one replication, each number replaced by mean and ci95 over the
    replications that have it (a figure missing or None in some, e.g. FPY of a product that never
    reached a station, is summarised over the others; missing in all, it is left out)."""
    out: dict[str, Any] = {}
    keys = list(dict.fromkeys(k for r in reps for k in r))
    for k in keys:
        vals = [r[k] for r in reps if r.get(k) is not None]
        if not vals:
            continue
        if isinstance(vals[0], dict):
            out[k] = summarise(vals)
        elif isinstance(vals[0], (int, float)) and not isinstance(vals[0], bool):
            # a run's figures are counts, times, rates and shares: none can be negative
            out[k] = mean_ci([float(v) for v in vals], nonnegative=True)
        else:
            out[k] = vals[0]
    return out
