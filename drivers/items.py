"""What a parser hands to the ingest service: record drafts, unit registrations and rejects.

Parsers are pure: bytes (and the binding's context) in, items out. A draft may lack the product
(CFX inspection messages and aging racks name only the serial); the ingest service resolves it
from the unit registry before validating the draft into a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from line.records import UnitSeen

DEFECT_ALIASES = {
    # vendor words and CFX DefectCategory values -> linemon's normalised codes (DESIGN.md §4.1)
    "componentmissing": "missing", "missing": "missing", "pinmissing": "missing",
    "wrongcomponent": "wrong_part", "wrongcode": "wrong_part", "wrong_part": "wrong_part",
    "componentrotated": "polarity", "polarity": "polarity", "facedowncomponent": "flipped",
    "componentshifted": "shift", "pinshifted": "shift", "shiftedpaste": "shift", "shift": "shift",
    "componenttilted": "skew", "skew": "skew", "tombstone": "tombstone", "billboard": "billboard",
    "flipped": "flipped", "liftedlead": "lifted_lead", "lifted_lead": "lifted_lead",
    "short": "bridge", "pasteshort": "bridge", "bridge": "bridge", "jumper": "bridge", "solderbridge": "bridge",
    "insufficientsolder": "insufficient_solder", "insufficient_solder": "insufficient_solder",
    "excessivesolder": "excess_solder", "excess_solder": "excess_solder",
    "solderball": "solder_ball", "solder_ball": "solder_ball", "componentdefective": "damaged",
    "damaged": "damaged", "contamination": "foreign_material", "foreign_material": "foreign_material",
    "open": "open", "function_fail": "function_fail", "functionfail": "function_fail",
}  # fmt: skip


def defect_code(raw: str) -> str:
    """The normalised code for a vendor's defect word ('other' when unknown; the word is kept in raw)."""
    return DEFECT_ALIASES.get(raw.strip().lower().replace(" ", "").replace("-", "_"), "other")


@dataclass
class Draft:
    """A record in the making: the JSON form of DESIGN.md §4, possibly without `product`."""

    data: dict[str, Any]
    raw: bytes = b""  # the input it came from, kept if the draft is rejected


# A unit seen at a station (a barcode scan, CFX WorkStarted, an aging load): the registry entry
# the stores keep, made by the parsers as it is.
Registration = UnitSeen


@dataclass(frozen=True)
class Reject:
    """Input that cannot become a record, with the reason; kept in the dead-letter table."""

    reason: str
    raw: bytes = b""


@dataclass
class Parsed:
    items: list[Draft | Registration | Reject] = field(default_factory=list)

    def add(self, item: Draft | Registration | Reject) -> None:
        self.items.append(item)
