"""What the simulated testers measure: a value per specification the plant file gives a product and
station (`[products.X.limits.STATION]`), drawn around the middle of its limits with a capable
spread (Cp = 2), and moved toward the upper limit as a drift on that product and station takes
hold, as equipment drifts. The twin's FCT drift on FF-50 thus shows on V_TX's individuals chart
(a shift of one sigma at a quarter of the ramp) well before the FPY has fallen far enough for its
alarm.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from line.config import Plant
from sim.network import FpyDrift

CP = 2.0  # the spread of an undrifted process: (usl - lsl) / (6 sigma)
DRIFT_SHIFT = 0.35  # a full drift moves the mean by this share of the tolerance, toward usl


@dataclass(frozen=True)
class Spec:
    name: str
    lsl: float
    usl: float
    unit: str | None


@dataclass
class MeasureModel:
    specs: Mapping[tuple[str, str], tuple[Spec, ...]]  # (product, station) -> what is measured
    drifts: Mapping[tuple[str, str], FpyDrift]  # (station, product) -> its drift
    rng: random.Random

    @classmethod
    def of(cls, plant: Plant, drifts: tuple[FpyDrift, ...], rng: random.Random) -> MeasureModel:
        """The two-sided specifications of the plant file (one-sided ones are not simulated)."""
        specs: dict[tuple[str, str], tuple[Spec, ...]] = {}
        for code, p in plant.spec.products.items():
            for sid, limits in p.limits.items():
                two_sided = [
                    Spec(name, s.lsl, s.usl, s.unit)
                    for name, s in limits.items()
                    if s.lsl is not None and s.usl is not None
                ]
                if two_sided:
                    specs[(code, sid)] = tuple(two_sided)
        return cls(specs, {(d.station, d.product): d for d in drifts}, rng)

    def __call__(self, t: float, station: str, product: str) -> list[dict[str, Any]]:
        """The measurements of one attempt at `station` at simulation time `t`."""
        specs = self.specs.get((product, station))
        if not specs:
            return []
        drift = self.drifts.get((station, product))
        share = 0.0 if drift is None else drift.share(t)
        out = []
        for s in specs:
            width = s.usl - s.lsl
            mean = (s.lsl + s.usl) / 2 + share * DRIFT_SHIFT * width
            value = self.rng.gauss(mean, width / (6 * CP))
            out.append({"name": s.name, "value": round(value, 4), "unit": s.unit, "lo": s.lsl, "hi": s.usl})
        return out
