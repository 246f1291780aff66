"""IPC-CFX (IPC-2591) envelopes -> linemon records, tolerant of what real producers send.

Accepted: one envelope or a JSON array of them, gzip-compressed or not; keys in any case
(`TransactionID` / `TransactionId`); with or without `$type`; `ResourceState` as a number, a
digit string, `22A0`/`22B0`, an enum name or a pre-2018 name. Mapped messages: UnitsInspected and
UnitsTested (one result per unit; defects from DefectsFound, symptoms as function failures,
numeric measurements), WorkStarted/WorkCompleted (unit registrations, with the work order),
StationStateChanged (E10 state, sub-state name as reason), FaultOccurred (Error/Alarm: UDT) and
FaultCleared (SBY). Facts: ../shared/reference/cfx-and-equipment.md.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime
from typing import Any

import orjson

from drivers.items import Draft, Parsed, Registration, Reject, defect_code
from drivers.lineformat import Context

RESULTS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "aborted": "ABORTED"}
E10_GROUP = {1: "PRD", 2: "SBY", 3: "ENG", 4: "SDT", 5: "UDT", 6: "NST"}
LEGACY_STATES = {
    "off": ("NST", "off"), "on": ("SBY", "on"), "setup": ("SDT", "SDT_Setup"),
    "scheduleddowntime": ("SDT", "scheduled_downtime"), "scheduledmaintenance": ("SDT", "SDT_PreventiveMaintenance"),
    "engineering": ("ENG", "engineering"), "readyprocessingactive": ("PRD", "PRD_RegularWork"),
    "readyprocessingexecuting": ("PRD", "PRD_RegularWork"), "idle": ("SBY", "SBY_NoProduct"),
    "idleblocked": ("SBY", "SBY_NoProductBlocked"), "idlestarved": ("SBY", "SBY_NoProductStarved"),
    "bypass": ("SBY", "bypass"), "unplanneddowntime": ("UDT", "USD_Repair"), "sleep": ("NST", "sleep"),
    "22a0": ("SBY", "SBY_NoProductBlocked"), "22b0": ("SBY", "SBY_NoProductStarved"),
}  # fmt: skip
MAX_MEASUREMENTS = 200  # an SPI board can carry thousands of pad measurements; keep the first ones
ACCEPTED = (
    "UnitsInspected",
    "UnitsTested",
    "WorkStarted",
    "WorkCompleted",
    "StationStateChanged",
    "FaultOccurred",
    "FaultCleared",
)


def _lower(obj: Any) -> Any:
    """Keys in lower case at every level: CFX spells the same member in two ways."""
    if isinstance(obj, dict):
        return {str(k).lower(): _lower(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_lower(v) for v in obj]
    return obj


def parse_cfx(payload: bytes, ctx: Context) -> Parsed:
    out = Parsed()
    raw = payload
    if payload[:2] == b"\x1f\x8b":
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError) as exc:
            out.add(Reject(f"gzip payload cannot be decompressed: {exc}", raw))
            return out
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        out.add(Reject(f"not JSON: {exc}", raw))
        return out
    envelopes = doc if isinstance(doc, list) else [doc]
    for i, env in enumerate(envelopes):
        where = f"envelope {i}: " if len(envelopes) > 1 else ""
        if not isinstance(env, dict):
            out.add(Reject(f"{where}not a CFX envelope (expected a JSON object)", raw))
            continue
        for item in _envelope(_lower(env), ctx):
            if isinstance(item, Reject):
                item = Reject(where + item.reason, orjson.dumps(env))
            out.add(item)
    return out


def _envelope(env: dict[str, Any], ctx: Context) -> list[Draft | Registration | Reject]:
    name = env.get("messagename")
    body = env.get("messagebody")
    if not isinstance(name, str) or not isinstance(body, dict):
        return [Reject("not a CFX envelope: MessageName and MessageBody are required")]
    short = name.rsplit(".", 1)[-1]
    ts = _time(env.get("timestamp"), ctx)
    if ts is None:
        return [Reject(f"{short}: TimeStamp {env.get('timestamp')!r} is not an ISO-8601 time")]
    uid = str(env.get("uniqueid") or "")
    source = env.get("source")
    handler = _HANDLERS.get(short)
    if handler is None:
        return [Reject(f"unknown CFX message {name!r} (accepted: {', '.join(ACCEPTED)})")]
    return handler(body, ts, uid, source, ctx)


def _time(value: Any, ctx: Context) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, frac = text.partition(".")
    if dot:  # .NET writes 7 fractional digits; Python reads at most 6
        digits = len(frac) - len(frac.lstrip("0123456789"))
        text = f"{head}.{frac[: min(digits, 6)]}{frac[digits:]}"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=ctx.tz)


def _sub_id(uid: str, i: int) -> str | None:
    return hashlib.blake2b(f"{uid}|{i}".encode(), digest_size=16).hexdigest() if uid else None


def _units_judged(
    body: dict[str, Any], ts: datetime, uid: str, source: Any, ctx: Context
) -> list[Draft | Registration | Reject]:
    units = body.get("inspectedunits") if "inspectedunits" in body else body.get("testedunits")
    if not isinstance(units, list) or not units:
        return [Reject("no InspectedUnits / TestedUnits in the message body")]
    out: list[Draft | Registration | Reject] = []
    for i, unit in enumerate(units):
        serial = unit.get("unitidentifier") if isinstance(unit, dict) else None
        if not serial:
            out.append(Reject(f"unit {i}: no UnitIdentifier"))
            continue
        verdict = RESULTS.get(str(unit.get("overallresult", "")).lower())
        if verdict is None:
            out.append(
                Reject(
                    f"unit {serial}: OverallResult {unit.get('overallresult')!r} is not a verdict (Skipped units carry no result)"
                )
            )
            continue
        checks = (unit.get("inspections") or []) + (unit.get("tests") or [])
        out.append(Draft({
            "schema": "linemon.result/1", "id": _sub_id(uid, i), "ts": ts, "line": ctx.line,
            "station": ctx.binding.station_id, "equipment": ctx.binding.equipment or _equipment(source),
            "serial": str(serial), "product": None, "work_order": None, "result": verdict,
            "defects": _defects(checks, unit.get("verification")), "measurements": _measurements(checks),
        }))  # fmt: skip
    return out


def _equipment(source: Any) -> str | None:
    return str(source)[:120] if source else None


def _defects(checks: list[Any], unit_verification: Any) -> list[dict[str, Any]]:
    out = []
    for check in checks:
        if not isinstance(check, dict):
            continue
        for d in check.get("defectsfound") or []:
            word = d.get("defectcategory") or d.get("defectcode") or "other"
            comp = d.get("componentofinterest") or {}
            verification = d.get("verification") or check.get("verification") or unit_verification
            out.append({
                "code": defect_code(str(word)), "refdes": comp.get("referencedesignator"),
                "raw": str(d.get("defectcode") or word)[:120], "confirmed": verification != "DefectRejected",
            })  # fmt: skip
        for s in check.get("symptomsfound") or []:
            comps = s.get("componentsofinterest") or [{}]
            out.append({
                "code": "function_fail", "refdes": (comps[0] or {}).get("referencedesignator"),
                "raw": str(s.get("symptomcode") or "symptom")[:120], "confirmed": s.get("status") != "False",
            })  # fmt: skip
    return out


def _measurements(checks: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for check in checks:
        for m in (check.get("measurements") or []) if isinstance(check, dict) else []:
            value = m.get("measuredvalue") if isinstance(m, dict) else None
            if not isinstance(value, dict) or not isinstance(value.get("value"), (int, float)):
                continue
            out.append({
                "name": str(m.get("measurementname") or "value")[:120], "value": float(value["value"]),
                "unit": value.get("valueunits"), "lo": value.get("minimumacceptablevalue"),
                "hi": value.get("maximumacceptablevalue"),
            })  # fmt: skip
            if len(out) >= MAX_MEASUREMENTS:
                return out
    return out


def _work(
    body: dict[str, Any], ts: datetime, uid: str, source: Any, ctx: Context
) -> list[Draft | Registration | Reject]:
    serials = [u.get("unitidentifier") for u in body.get("units") or [] if isinstance(u, dict)]
    serials = [s for s in serials if s] or (
        [body["primaryidentifier"]] if body.get("primaryidentifier") else []
    )
    if not serials:
        return [Reject("no PrimaryIdentifier or Units: which unit started or completed is unknown")]
    wo = body.get("workorderidentifier")
    return [Registration(str(s), ctx.binding.station_id, ts, None, str(wo) if wo else None) for s in serials]


def resource_state(value: Any) -> tuple[str, str] | None:
    """(E10 state, sub-state) for any wire form of ResourceState, or None when it is none of them."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    if text.lower() in LEGACY_STATES:
        return LEGACY_STATES[text.lower()]
    if text.isdigit():
        code = int(text)
        return E10_GROUP.get(code // 1000, "NST"), str(code)
    prefix = text.split("_", 1)[0].upper()
    if prefix in ("PRD", "SBY", "ENG", "SDT", "USD", "UDT", "NST"):
        return ("UDT" if prefix == "USD" else prefix), text
    return None


def _state_changed(
    body: dict[str, Any], ts: datetime, uid: str, source: Any, ctx: Context
) -> list[Draft | Registration | Reject]:
    state = resource_state(body.get("newstate"))
    if state is None:
        return [Reject(f"StationStateChanged: NewState {body.get('newstate')!r} is not a ResourceState")]
    return [_state(ctx, source, uid, ts, *state)]


def _state(ctx: Context, source: Any, uid: str, ts: datetime, state: str, reason: str | None) -> Draft:
    return Draft({
        "schema": "linemon.state/1", "id": _sub_id(uid, 0), "ts": ts, "line": ctx.line,
        "station": ctx.binding.station_id, "equipment": ctx.binding.equipment or _equipment(source),
        "state": state, "reason": reason,
    })  # fmt: skip


def _fault(
    body: dict[str, Any], ts: datetime, uid: str, source: Any, ctx: Context
) -> list[Draft | Registration | Reject]:
    fault = body.get("fault") or {}
    severity = str(fault.get("severity", "Error"))
    if severity not in ("Error", "Alarm"):
        return [Reject(f"FaultOccurred of severity {severity}: the station keeps running, no state change")]
    reason = f"fault {fault.get('faultcode') or ''} {fault.get('cause') or ''}".strip()
    return [_state(ctx, source, uid, ts, "UDT", reason[:200])]


def _fault_cleared(
    body: dict[str, Any], ts: datetime, uid: str, source: Any, ctx: Context
) -> list[Draft | Registration | Reject]:
    return [_state(ctx, source, uid, ts, "SBY", "fault_cleared")]


_HANDLERS = {
    "UnitsInspected": _units_judged,
    "UnitsTested": _units_judged,
    "WorkStarted": _work,
    "WorkCompleted": _work,
    "StationStateChanged": _state_changed,
    "FaultOccurred": _fault,
    "FaultCleared": _fault_cleared,
}
