"""The process steps of the plant's flow and the parameters each one takes in the plant file.

This is the shared vocabulary: the config loader validates against it, `stations/` attaches the
behaviour (time model, capacity, setup, failures, defect spectrum) to each kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StationKind = Literal[
    "print",
    "spi",
    "mount",
    "reflow",
    "insertion",
    "visual",
    "wave",
    "fct",
    "assembly",
    "aging",
    "final_test",
    "oqa",
    "packing",
]
STATION_KINDS: tuple[str, ...] = StationKind.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class KindSpec:
    """What a kind of station is: whether it judges units, and its numeric parameters."""

    kind: str
    inspects: bool
    params: tuple[str, ...]  # allowed keys in the station's table, besides the common ones
    product_time: str | None = None  # the product attribute that sets this step's time, if any
    setups: bool = False  # a product change costs a setup (setup_min, setup_pair_min)


KINDS: dict[str, KindSpec] = {
    k.kind: k
    for k in (
        KindSpec("print", False, ("board_s",), setups=True),
        KindSpec("spi", True, ("board_s",)),
        KindSpec("mount", False, ("cph", "board_overhead_s"), setups=True),
        KindSpec("reflow", False, ("pitch_s", "transit_min")),
        KindSpec("insertion", False, ("part_s",)),
        KindSpec("visual", True, ("board_s", "method")),
        KindSpec("wave", False, ("pitch_s", "transit_min")),
        KindSpec("fct", True, (), product_time="fct_min"),
        KindSpec("assembly", False, (), product_time="assembly_min", setups=True),
        KindSpec("aging", True, ("slots",), product_time="aging_h"),
        KindSpec("final_test", True, (), product_time="final_test_min"),
        KindSpec("oqa", True, ("unit_min",)),
        KindSpec("packing", False, ("unit_min",)),
    )
}
