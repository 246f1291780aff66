"""Parse one serial frame by a format the plant file describes (no code per tester).

A format splits the frame by a separator or a regular expression and maps fields by column or
group: equipment, serial, product, work_order, result (verdict tokens), defects
(`code@refdes|...`), measurements (`NAME=VALUE[unit]|...`), ts; any other field whose value is a
number becomes a measurement of that name (e.g. an aging rack's temperature). A frame with a
serial and no verdict is a registration (a barcode scan). Everything else is a Reject with the
reason, naming the field and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from drivers.items import Draft, Parsed, Registration, Reject, defect_code
from line.config_model import BindingDef, FormatDef
from line.records import DEFECT_CODES

KNOWN = {"equipment", "serial", "product", "work_order", "result", "defects", "measurements", "ts", "slot"}
_MEASURE = re.compile(
    r"^\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*=\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z%°]*)\s*$"
)


@dataclass(frozen=True)
class Context:
    """Where a frame came from: the binding (line, station, equipment), the plant's time zone,
    and when it was received (the record time unless the frame carries one)."""

    binding: BindingDef
    line: str
    tz: ZoneInfo
    received: datetime


def split_fields(text: str, fmt: FormatDef) -> dict[str, str] | str:
    """Field name -> text, or the reason the frame does not fit the format."""
    if fmt.regex:
        m = re.fullmatch(fmt.regex, text)
        if m is None:
            return f"does not match the format's regex {fmt.regex!r}"
        out = {}
        for name, ref in fmt.fields.items():
            try:
                value = m.group(ref)
            except IndexError:
                return f"field {name!r}: the regex has no group {ref!r}"
            if value is not None:
                out[name] = value
        return out
    cols = text.split(fmt.separator) if fmt.separator else [text]
    out = {}
    for name, ref in fmt.fields.items():
        if not isinstance(ref, int):
            return f"field {name!r}: a separator format maps fields to column numbers, got {ref!r}"
        if ref >= len(cols):
            return f"field {name!r} (column {ref}) missing: the frame has {len(cols)} columns"
        out[name] = cols[ref].strip()
    return out


def decode(frame: bytes, binding: BindingDef, fmt: FormatDef) -> str | Reject:
    try:
        text = frame.decode(binding.encoding)
    except UnicodeDecodeError as exc:
        return Reject(f"not valid {binding.encoding}: byte {exc.start} is 0x{frame[exc.start]:02x}", frame)
    except LookupError:
        return Reject(f"unknown encoding {binding.encoding!r} in binding {binding.id}", frame)
    if fmt.strip_prefix and text.startswith(fmt.strip_prefix):
        text = text[len(fmt.strip_prefix) :]
    if fmt.strip_suffix and text.endswith(fmt.strip_suffix):
        text = text[: -len(fmt.strip_suffix)]
    if any(ord(c) < 32 and c != "\t" for c in text):
        return Reject("control characters inside the frame (line noise?)", frame)
    return text.strip()


def parse_frame(frame: bytes, fmt: FormatDef, ctx: Context) -> Parsed:
    """One frame of a line or framed format -> a draft result, a registration, or a reject."""
    out = Parsed()
    text = decode(frame, ctx.binding, fmt)
    if isinstance(text, Reject):
        out.add(text)
        return out
    fields = split_fields(text, fmt)
    if isinstance(fields, str):
        out.add(Reject(fields, frame))
        return out
    out.add(item_from_fields(fields, fmt, ctx, frame))
    return out


def item_from_fields(
    fields: dict[str, str], fmt: FormatDef, ctx: Context, frame: bytes
) -> Draft | Registration | Reject:
    serial = fields.get("serial", "")
    if not serial:
        return Reject("no serial number in the frame", frame)
    ts = _timestamp(fields.get("ts"), ctx)
    if isinstance(ts, Reject):
        return Reject(ts.reason, frame)
    if "result" not in fields:
        return Registration(
            serial,
            ctx.binding.station_id,
            ts,
            fields.get("product") or None,
            fields.get("work_order") or None,
        )
    verdict = verdict_of(fields["result"], fmt)
    if verdict is None:
        tokens = ", ".join(fmt.pass_tokens + fmt.fail_tokens)
        return Reject(
            f"field 'result': unknown verdict {fields['result']!r} (expected one of {tokens})", frame
        )
    measurements = _measurements(fields, fmt)
    if isinstance(measurements, str):
        return Reject(measurements, frame)
    data: dict[str, Any] = {
        "schema": "linemon.result/1",
        "ts": ts,
        "line": ctx.line,
        "station": ctx.binding.station_id,
        "equipment": fields.get("equipment") or ctx.binding.equipment,
        "serial": serial,
        "product": fields.get("product") or None,
        "work_order": fields.get("work_order") or None,
        "result": verdict,
        "defects": _defects(fields.get("defects", "")),
        "measurements": measurements,
    }
    return Draft(data, frame)


def verdict_of(token: str, fmt: FormatDef) -> str | None:
    t = token.strip().upper()
    if t in (x.upper() for x in fmt.pass_tokens):
        return "PASS"
    if t in (x.upper() for x in fmt.fail_tokens):
        return "FAIL"
    if t in ("ERROR", "ERR", "E"):
        return "ERROR"
    if t in ("ABORT", "ABORTED"):
        return "ABORTED"
    return None


def _items(text: str) -> list[str]:
    return [p for p in re.split(r"[|,]", text) if p.strip()]


def _defects(text: str) -> list[dict[str, Any]]:
    out = []
    for part in _items(text):
        raw, _, refdes = part.strip().partition("@")
        # a tester set up for linemon writes its codes; other words go through the vendor aliases
        code = raw if raw in DEFECT_CODES else defect_code(raw)
        out.append({"code": code, "refdes": refdes or None, "raw": raw})
    return out


def _measurements(fields: dict[str, str], fmt: FormatDef) -> list[dict[str, Any]] | str:
    out: list[dict[str, Any]] = []
    for part in _items(fields.get("measurements", "")):
        m = _MEASURE.match(part)
        if m is None:
            return f"field 'measurements': {part.strip()!r} is not NAME=VALUE[unit]"
        out.append({"name": m.group(1), "value": float(m.group(2)), "unit": m.group(3) or None})
    for name, value in fields.items():
        if name in KNOWN:
            continue
        try:
            out.append({"name": name, "value": float(value)})
        except ValueError:
            return f"field {name!r}: {value!r} is not a number"
    return out


def _timestamp(text: str | None, ctx: Context) -> datetime | Reject:
    if not text:
        return ctx.received
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return Reject(f"field 'ts': {text!r} is not an ISO-8601 time")
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=ctx.tz)


class Debouncer:
    """Drops a scan of the same serial repeated within `seconds` (a scanner held over a label)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last: dict[str, float] = {}

    def repeated(self, serial: str, now: float) -> bool:
        prev = self.last.get(serial)
        self.last[serial] = now
        if len(self.last) > 10_000:  # bounded: forget the oldest half
            for k in list(self.last)[:5_000]:
                del self.last[k]
        return prev is not None and now - prev < self.seconds
