"""The aging-rack controller: asked slot by slot, it answers with the slot's unit and reading.

Pure state machine: `request(slot)` is what to send, `on_response(frame)` turns an answer into
items. A slot that starts reporting a serial is a unit loaded (registration; the slot-to-serial
map is filled then, so later answers may omit the serial); readings while it ages are kept
(min/max/last per quantity); the first final verdict (pass/fail token) becomes one result record
with those readings. The record's id is derived from binding, slot, serial and verdict, so the
rack repeating its answer, or the ingest restarting, never stores the same disposition twice.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from drivers.items import Draft, Parsed, Registration, Reject
from drivers.lineformat import Context, decode, item_from_fields, split_fields
from line.config_model import FormatDef

_SLOT = re.compile(r"(\d+)\s*$")


class RackPoller:
    def __init__(self, fmt: FormatDef, slots: int) -> None:
        self.fmt, self.slots = fmt, slots
        self.serial_in: dict[int, str] = {}
        self.readings: dict[int, dict[str, list[float]]] = {}
        self.reported: dict[int, str] = {}  # slot -> serial whose disposition is stored

    def request(self, slot: int) -> bytes:
        return (self.fmt.request or "?S{slot:02d}").format(slot=slot).encode("ascii")

    def on_response(self, frame: bytes, ctx: Context) -> Parsed:
        out = Parsed()
        text = decode(frame, ctx.binding, self.fmt)
        fields = split_fields(text, self.fmt) if isinstance(text, str) else text.reason
        if isinstance(fields, str):
            out.add(Reject(fields, frame))
            return out
        m = _SLOT.search(fields.get("slot", ""))
        if m is None or not 1 <= int(m.group(1)) <= self.slots:
            out.add(Reject(f"field 'slot': {fields.get('slot')!r} is not a slot 1..{self.slots}", frame))
            return out
        slot, status = int(m.group(1)), fields.get("result", "").strip().upper()
        if status in (t.upper() for t in self.fmt.empty_tokens):
            self._unload(slot)
            return out
        serial = fields.get("serial") or self.serial_in.get(slot)
        if not serial:
            out.add(Reject(f"slot {slot}: no serial in the answer and no unit known to be loaded", frame))
            return out
        if self.serial_in.get(slot) != serial:
            self._unload(slot)
            self.serial_in[slot] = serial
            out.add(Registration(serial, ctx.binding.station_id, ctx.received))
        if status in (t.upper() for t in self.fmt.running_tokens):
            self._keep(slot, fields)
            return out
        if self.reported.get(slot) == serial:
            return out
        self._keep(slot, fields)
        item = item_from_fields({**_without_readings(fields), "serial": serial}, self.fmt, ctx, frame)
        if isinstance(item, Draft):
            item.data["measurements"] = self._summary(slot)
            item.data["id"] = _disposition_id(ctx.binding.id, slot, serial, item.data["result"])
            self.reported[slot] = serial
        out.add(item)
        return out

    def _keep(self, slot: int, fields: dict[str, str]) -> None:
        per = self.readings.setdefault(slot, {})
        for name, value in _readings(fields).items():
            per.setdefault(name, []).append(value)
            if len(per[name]) > 3:  # only min, max and last are reported: keep them, not the history
                v = per[name]
                per[name] = [min(v), max(v), v[-1]]

    def _summary(self, slot: int) -> list[dict[str, Any]]:
        out = []
        for name, values in self.readings.get(slot, {}).items():
            out += [
                {"name": f"{name}_min", "value": min(values)},
                {"name": f"{name}_max", "value": max(values)},
                {"name": f"{name}_last", "value": values[-1]},
            ]
        return out

    def _unload(self, slot: int) -> None:
        self.serial_in.pop(slot, None)
        self.readings.pop(slot, None)
        self.reported.pop(slot, None)


_NOT_READINGS = {
    "slot",
    "serial",
    "result",
    "equipment",
    "product",
    "work_order",
    "ts",
    "defects",
    "measurements",
}


def _readings(fields: dict[str, str]) -> dict[str, float]:
    out = {}
    for name, value in fields.items():
        if name not in _NOT_READINGS:
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


def _without_readings(fields: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in fields.items() if k in _NOT_READINGS}


def _disposition_id(binding: str, slot: int, serial: str, verdict: str) -> str:
    return hashlib.blake2b(f"{binding}|{slot}|{serial}|{verdict}".encode(), digest_size=16).hexdigest()
