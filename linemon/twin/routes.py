"""How each simulated record reaches the ingest: the path the plant file gives its station.

Pure: a record (as `sim.records_out` makes it) goes in, a delivery comes out — bytes for a serial
binding's port, a rack event for an aging rack, or an MQTT message — plus the record as the path
carries it (a tester's frame has no false calls, a rack reports only its verdict). That "as sent"
record is what the end-to-end check expects to find in the store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson
from paho.mqtt.client import topic_matches_sub

from drivers.emulate import EmuUnit, cfx_inspected, cfx_state, scanner_frame, unit_frame
from drivers.emulate_files import csv_report, report_name
from line.config import Plant
from line.config_model import BindingDef


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: bytes


@dataclass(frozen=True)
class Write:
    binding: str
    data: bytes


@dataclass(frozen=True)
class WriteFile:
    binding: str
    name: str
    data: bytes


@dataclass(frozen=True)
class RackLoad:
    binding: str
    serial: str


@dataclass(frozen=True)
class RackVerdict:
    binding: str
    serial: str
    passed: bool


Delivery = Publish | Write | WriteFile | RackLoad | RackVerdict


class Router:
    def __init__(self, plant: Plant, rng: random.Random) -> None:
        self.plant, self.rng = plant, rng
        self.site = plant.spec.site.id
        self.testers: dict[str, BindingDef] = {}
        self.scanners: dict[str, BindingDef] = {}
        self.racks: dict[str, BindingDef] = {}
        self.cfx: dict[str, BindingDef] = {}
        self.files: dict[str, BindingDef] = {}
        for b in plant.spec.bindings:
            if b.transport == "file":
                self.files.setdefault(b.station_id, b)
            elif b.transport == "serial":
                fmt = plant.spec.formats[b.format]
                kind = (
                    self.racks
                    if fmt.type == "poll"
                    else (self.testers if "result" in fmt.fields else self.scanners)
                )
                kind.setdefault(b.station_id, b)
            elif b.format == "cfx":
                self.cfx.setdefault(b.station_id, b)
        self.native = [b for b in plant.spec.bindings if b.transport == "mqtt" and b.format == "native"]

    def serial_bindings(self) -> list[BindingDef]:
        return [*self.testers.values(), *self.scanners.values(), *self.racks.values()]

    def problems(self) -> list[str]:
        """Stations whose results or states would reach no binding of the plant file."""
        out = []
        for sid, st in self.plant.spec.stations.items():
            own = sid in self.cfx or sid in self.testers or sid in self.racks or sid in self.files
            kinds = ([] if sid in self.cfx else ["state"]) + (
                ["result"] if self.plant.inspects(sid) and not own else []
            )
            for kind in kinds:
                topic = self._topic(st.line, sid, f"{sid}-01", kind)
                if not any(topic_matches_sub(b.topic or "", topic) for b in self.native):
                    out.append(
                        f"station {sid}: its {kind}s would go to MQTT topic {topic}, which no native "
                        "binding of the plant file subscribes to"
                    )
        return out

    # ------------------------------------------------------------------ records
    def result(self, rec: dict[str, Any]) -> tuple[Delivery, dict[str, Any]]:
        sid, eq = rec["station"], rec["equipment"]
        if sid in self.racks:
            sent = {**rec, "defects": []}
            return RackVerdict(self.racks[sid].id, rec["serial"], rec["result"] == "PASS"), sent
        if sid in self.testers:
            b = self.testers[sid]
            sent = {**rec, "defects": [d for d in rec["defects"] if d.get("confirmed", True)]}
            frame = unit_frame(self.plant.spec.formats[b.format], b, _unit(sent), self.rng, eq)
            return Write(b.id, frame), sent
        if sid in self.cfx:
            topic, payload = cfx_inspected(self.cfx[sid], _unit(rec), rec["ts"], eq)
            return Publish(topic, payload), rec
        if sid in self.files:  # a report file; its time to the second, as testers write it
            b = self.files[sid]
            ts = rec["ts"].astimezone(self.plant.tz).replace(microsecond=0)
            unit = _unit(rec)
            data = csv_report(self.plant.spec.formats[b.format], b, unit, ts, self.rng, eq)
            return WriteFile(b.id, report_name(unit, rec["ts"]), data), {**rec, "ts": ts}
        topic = self._topic(rec["line"], sid, eq, "result")
        return Publish(topic, orjson.dumps(rec)), rec

    def state(self, rec: dict[str, Any], previous: str | None) -> Delivery:
        sid = rec["station"]
        if sid in self.cfx:
            topic, payload = cfx_state(
                self.cfx[sid], rec["equipment"], rec["ts"], rec["reason"], previous or "NST_UnworkedShifts"
            )
            return Publish(topic, payload)
        return Publish(self._topic(rec["line"], sid, rec["equipment"], "state"), orjson.dumps(rec))

    def started(self, station: str, serial: str, product: str, work_order: str) -> Delivery | None:
        """A unit starting at a station: a scanner reads it, a rack slot is loaded."""
        if station in self.scanners:
            b = self.scanners[station]
            unit = EmuUnit(serial, product, work_order, True)
            return Write(b.id, scanner_frame(self.plant.spec.formats[b.format], b, unit))
        if station in self.racks:
            return RackLoad(self.racks[station].id, serial)
        return None

    def _topic(self, line: str, station: str, equipment: str, kind: str) -> str:
        return f"linemon/{self.site}/{line}/{station}/{equipment}/{kind}"


def _unit(rec: dict[str, Any]) -> EmuUnit:
    confirmed = tuple((d["code"], d["refdes"]) for d in rec["defects"] if d.get("confirmed", True))
    rejected = tuple((d["code"], d["refdes"]) for d in rec["defects"] if not d.get("confirmed", True))
    measured = tuple((m["name"], m["value"], m.get("unit")) for m in rec.get("measurements", []))
    return EmuUnit(
        rec["serial"], rec["product"], rec["work_order"], rec["result"] == "PASS", confirmed, rejected, measured
    )
