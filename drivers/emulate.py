"""Equipment emulators for every supported format: tests, demos and commissioning.

A unit source (random units of the plant's products, or units handed in by the simulator) drives
the emulator of a binding: a line/framed tester writes one frame per unit; a scanner writes the
serial with its prefix; an aging-rack controller answers polls from its slots; an MQTT station
publishes native records or IPC-CFX envelopes. Frames are built from the same format description
the parser reads, so the two cannot drift apart.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from drivers.framing import frame
from line.config import Plant
from line.config_model import BindingDef, FormatDef


@dataclass(frozen=True)
class EmuUnit:
    serial: str
    product: str
    work_order: str
    passed: bool
    defects: tuple[tuple[str, str], ...] = ()  # (code, refdes)
    false_calls: tuple[tuple[str, str], ...] = ()  # calls the operator rejected (AOI/SPI)
    measurements: tuple[tuple[str, float, str | None], ...] = ()  # (name, value, unit); none: random ones


def random_units(
    plant: Plant, station: str, rng: random.Random, fail_rate: float = 0.05
) -> Iterator[EmuUnit]:
    """Endless random units of the products whose routing visits `station`."""
    codes = [c for c, p in plant.spec.products.items() if station in p.routing] or list(plant.spec.products)
    n = 0
    while True:
        n += 1
        code = rng.choice(codes)
        prefix = plant.product(code).serial_prefix or f"{code.replace('-', '')}-"
        passed = rng.random() >= fail_rate
        defects = (
            ()
            if passed
            else ((rng.choice(("bridge", "missing", "open", "function_fail")), f"U{rng.randint(1, 60)}"),)
        )
        yield EmuUnit(
            f"{prefix}E{rng.randint(0, 9999):04d}-{n:06d}", code, f"WO-EMU-{n // 50 + 1:03d}", passed, defects
        )


def line_payload(fmt: FormatDef, values: dict[str, str]) -> bytes:
    """The text of one frame for a separator format: each mapped field in its column."""
    if fmt.regex or not fmt.fields:
        raise ValueError("emulating a regex format is not supported; use a separator format")
    width = max(int(i) for i in fmt.fields.values()) + 1
    cols = [""] * width
    for name, col in fmt.fields.items():
        cols[int(col)] = values.get(name, "")
    text = (fmt.separator or "").join(cols)
    return f"{fmt.strip_prefix or ''}{text}{fmt.strip_suffix or ''}".encode("ascii")


def unit_frame(
    fmt: FormatDef, b: BindingDef, u: EmuUnit, rng: random.Random, equipment: str | None = None
) -> bytes:
    values = {
        "equipment": equipment or b.equipment or f"{b.station_id}-01",
        "serial": u.serial,
        "product": u.product,
        "work_order": u.work_order,
        "result": fmt.pass_tokens[0] if u.passed else fmt.fail_tokens[0],
        "defects": "|".join(f"{c}@{r}" for c, r in u.defects),
        "measurements": "|".join(f"{n}={v:g}{unit or ''}" for n, v, unit in u.measurements)
        if u.measurements
        else f"V_TX={rng.uniform(11.5, 12.5):.2f}V|I_RX={rng.uniform(80, 120):.1f}mA",
    }
    return frame(line_payload(fmt, values), b.terminator, fmt.checksum)


def scanner_frame(fmt: FormatDef, b: BindingDef, u: EmuUnit) -> bytes:
    return frame(line_payload(fmt, {"serial": u.serial}), b.terminator, fmt.checksum)


class RackEmulator:
    """An aging-rack controller: units are loaded into free slots, age for `polls` polls (RUN),
    then report OK or NG until unloaded on the next poll after being reported."""

    def __init__(
        self, fmt: FormatDef, slots: int, units: Iterator[EmuUnit], polls: int = 3, load_every: int = 1
    ) -> None:
        self.fmt, self.slots, self.units, self.polls, self.load_every = fmt, slots, units, polls, load_every
        self.slot: dict[int, list[Any]] = {}  # slot -> [unit, polls left, reported]
        self.finished: list[EmuUnit] = []

    def answer(self, request: bytes, rng: random.Random) -> bytes | None:
        text = request.decode("ascii", "replace").strip()
        digits = "".join(c for c in text if c.isdigit())
        if not digits:
            return None
        n = int(digits)
        state = self.slot.get(n)
        if state is None:
            if n % self.load_every == 0:
                state = self.slot[n] = [next(self.units), self.polls, False]
            else:
                return f"R01S{n:02d},,0.0,{self.fmt.empty_tokens[0]}".encode()
        unit, left, reported = state
        temp = f"{rng.uniform(44.0, 46.0):.1f}"
        if left > 0:
            state[1] -= 1
            return f"R01S{n:02d},{unit.serial},{temp},{self.fmt.running_tokens[0]}".encode()
        if reported:
            del self.slot[n]
            self.finished.append(unit)
            return f"R01S{n:02d},,0.0,{self.fmt.empty_tokens[0]}".encode()
        state[2] = True
        verdict = self.fmt.pass_tokens[0] if unit.passed else self.fmt.fail_tokens[0]
        return f"R01S{n:02d},{unit.serial},{temp},{verdict}".encode()


def native_message(
    plant: Plant, b: BindingDef, u: EmuUnit, ts: datetime, equipment: str
) -> tuple[str, bytes]:
    line = plant.station(b.station_id).line
    topic = f"linemon/{plant.spec.site.id}/{line}/{b.station_id}/{equipment}/result"
    rec = {
        "schema": "linemon.result/1", "id": uuid.uuid4().hex, "ts": ts.isoformat(), "line": line,
        "station": b.station_id, "equipment": equipment, "serial": u.serial, "product": u.product,
        "work_order": u.work_order, "result": "PASS" if u.passed else "FAIL",
        "defects": [{"code": c, "refdes": r} for c, r in u.defects],
    }  # fmt: skip
    return topic, orjson.dumps(rec)


def topic_under(pattern: str, tail: str) -> str:
    """A concrete topic under a binding's subscription: '+' levels filled, '#' replaced by `tail`."""
    parts = [("EMU" if p == "+" else p) for p in pattern.split("/")]
    if parts and parts[-1] == "#":
        parts[-1:] = tail.split("/")
    return "/".join(parts)


def cfx_inspected(b: BindingDef, u: EmuUnit, ts: datetime, source: str) -> tuple[str, bytes]:
    """A CFX UnitsInspected envelope as a current .NET producer writes it ($type, 7-digit fraction)."""
    env = {
        "MessageName": "CFX.Production.TestAndInspection.UnitsInspected", "Version": "2.1",
        "TimeStamp": ts.isoformat(),
        "UniqueID": str(uuid.uuid4()), "Source": source, "Target": None, "RequestID": None,
        "MessageBody": {
            "$type": "CFX.Production.TestAndInspection.UnitsInspected, CFX",
            "TransactionId": str(uuid.uuid4()), "InspectionMethod": "AOI",
            "InspectedUnits": [{
                "UnitIdentifier": u.serial, "UnitPositionNumber": 1,
                "OverallResult": "Passed" if u.passed else "Failed",
                "Inspections": [{
                    "InspectionName": "AOI", "Result": "Passed" if u.passed else "Failed",
                    "DefectsFound": [
                        {"DefectCode": c.upper(), "DefectCategory": _CFX_CATEGORY.get(c, c),
                         "ComponentOfInterest": {"ReferenceDesignator": r}, "Verification": verdict}
                        for calls, verdict in ((u.defects, "DefectConfirmed"), (u.false_calls, "DefectRejected"))
                        for c, r in calls
                    ],
                }],
            }],
        },
    }  # fmt: skip
    return topic_under(b.topic or "cfx/#", f"{source}/UnitsInspected"), orjson.dumps(env)


def cfx_state(
    b: BindingDef, source: str, ts: datetime, new_state: str, old_state: str = "1000"
) -> tuple[str, bytes]:
    env = {
        "MessageName": "CFX.ResourcePerformance.StationStateChanged", "Version": "2.1",
        "TimeStamp": ts.isoformat(), "UniqueID": str(uuid.uuid4()), "Source": source,
        "MessageBody": {"OldState": old_state, "OldStateDuration": "00:01:25", "NewState": new_state, "RelatedFault": None},
    }  # fmt: skip
    return topic_under(b.topic or "cfx/#", f"{source}/StationStateChanged"), orjson.dumps(env)


_CFX_CATEGORY = {
    "bridge": "Short",
    "missing": "ComponentMissing",
}  # other codes are sent as they are: the ingest's aliases read linemon's own codes back
