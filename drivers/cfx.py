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

import hashlib
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from drivers.cfx_measurements import measurements as _measurements
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


MAX_INFLATED = 16 * 1024 * 1024  # a gzip payload inflating past this is refused (a 285 KB bomb made 300 MB)


def gunzip_bounded(payload: bytes, limit: int) -> bytes | str:
    """The inflated payload, or why not: decompressed in steps of at most `limit` + 1 bytes, so a
    small payload that inflates to gigabytes never holds more than the limit in memory."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(payload, limit + 1)
        if len(out) > limit:
            return f"gzip payload inflates past the {limit // 1048576} MB limit ({len(payload)} bytes compressed)"
        out += d.flush()
    except zlib.error as exc:
        return f"gzip payload cannot be decompressed: {exc}"
    if not d.eof:
        return "gzip payload cannot be decompressed: it ends before the compressed stream does"
    return out


class PanelBook:
    """The units of the panels this binding started work on (WorkStarted `Units`), by work
    transaction and by panel barcode, so a panel-level result (PanelInspected's rule: "the
    TransactionID as defined in the WorkStarted message, where you can find ... Units") applies
    to each of the panel's units. Bounded: the oldest transactions are forgotten first; it lives
    as long as the ingest (a panel result for work started before a restart is dead-lettered,
    with the reason, rather than guessed)."""

    def __init__(self, most: int = 10_000) -> None:
        self.most = most
        self.by_tx: OrderedDict[str, list[str]] = OrderedDict()
        self.by_panel: OrderedDict[str, list[str]] = OrderedDict()

    def remember(self, tx: str | None, panel: str | None, serials: list[str]) -> None:
        for book, key in ((self.by_tx, tx), (self.by_panel, panel)):
            if key:
                book[key] = serials
                book.move_to_end(key)
                while len(book) > self.most:
                    book.popitem(last=False)

    def units(self, tx: str | None, panel: str | None) -> list[str] | None:
        return (self.by_tx.get(tx) if tx else None) or (self.by_panel.get(panel) if panel else None)


def parse_cfx(payload: bytes, ctx: Context, panels: PanelBook | None = None) -> Parsed:
    out = Parsed()
    raw = payload
    if payload[:2] == b"\x1f\x8b":
        inflated = gunzip_bounded(payload, MAX_INFLATED)
        if isinstance(inflated, str):
            out.add(Reject(inflated, raw))
            return out
        payload = inflated
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        out.add(Reject(f"not JSON: {exc}", raw))
        return out
    envelopes = doc if isinstance(doc, list) else [doc]
    if not envelopes:  # acknowledged like any message, so it must leave a trace
        out.add(Reject("an empty JSON array: no CFX envelope in the message", raw))
    for i, env in enumerate(envelopes):
        where = f"envelope {i}: " if len(envelopes) > 1 else ""
        if not isinstance(env, dict):
            out.add(Reject(f"{where}not a CFX envelope (expected a JSON object)", raw))
            continue
        for item in _envelope(_lower(env), ctx, panels if panels is not None else PanelBook()):
            if isinstance(item, Reject):
                item = Reject(where + item.reason, orjson.dumps(env))
            out.add(item)
    return out


def _envelope(env: dict[str, Any], ctx: Context, panels: PanelBook) -> list[Draft | Registration | Reject]:
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
    return handler(Msg(short, body, ts, uid, source, ctx, panels))


@dataclass(frozen=True)
class Msg:
    """One CFX message as the handlers read it (keys in lower case)."""

    name: str
    body: dict[str, Any]
    ts: datetime
    uid: str
    source: Any
    ctx: Context
    panels: PanelBook


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


def unit_serials(units: list[Any], panel: str | None = None) -> list[str | None]:
    """Each listed unit's identity: its UnitIdentifier, or "PANEL/position" when the identifier is
    a panel's (several positions in the message share it, or it is the message's panel barcode),
    so a 2-up panel with position 1 passed and 2 failed is two units, not one tested twice."""
    ids = [u.get("unitidentifier") if isinstance(u, dict) else None for u in units]
    pos = [u.get("unitpositionnumber", u.get("positionnumber")) if isinstance(u, dict) else None for u in units]
    shared = {i for i in ids if i and ids.count(i) > 1}
    out: list[str | None] = []
    for uid, p in zip(ids, pos, strict=True):
        if not uid:
            out.append(None)
        elif p is not None and (uid in shared or uid == panel):
            out.append(f"{uid}{PANEL_SEP}{p}")
        else:
            out.append(str(uid))
    return out


PANEL_SEP = "/"  # "PANEL34543535/2": position 2 of a panel whose units carry no barcode of their own


def _units_judged(m: Msg) -> list[Draft | Registration | Reject]:
    body = m.body
    units = body.get("inspectedunits") if "inspectedunits" in body else body.get("testedunits")
    panel = body.get("inspectedpanel") if isinstance(body.get("inspectedpanel"), dict) else None
    tx = str(body.get("transactionid") or "") or None
    if (not units) and panel is not None:  # a panel-level result: it applies to the panel's units
        return _panel_judged(m, panel, tx)
    if isinstance(units, list) and len(units) == 1 and isinstance(units[0], dict):
        only = units[0]
        known = m.panels.units(tx, only.get("unitidentifier"))
        if only.get("unitpositionnumber") is None and known and only.get("unitidentifier") not in known:
            return _panel_judged(m, only, tx)  # the one unit listed is a panel that holds several
    if not isinstance(units, list) or not units:
        return [Reject("no InspectedUnits / TestedUnits (and no InspectedPanel) in the message body")]
    out: list[Draft | Registration | Reject] = []
    serials = unit_serials(units, (panel or {}).get("unitidentifier"))
    for i, (unit, serial) in enumerate(zip(units, serials, strict=True)):
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
        out.append(_result(m, i, serial, verdict, _defects(checks, unit.get("verification")), _measurements(checks)))
    return out


def _result(
    m: Msg, i: int, serial: str, verdict: str, defects: list[dict[str, Any]], measurements: list[dict[str, Any]]
) -> Draft:
    return Draft({
        "schema": "linemon.result/1", "id": _sub_id(m.uid, i), "ts": m.ts, "line": m.ctx.line,
        "station": m.ctx.binding.station_id, "equipment": m.ctx.binding.equipment or _equipment(m.source),
        "serial": serial, "product": None, "work_order": None, "result": verdict,
        "defects": defects, "measurements": measurements,
    })  # fmt: skip


def _panel_judged(m: Msg, panel: dict[str, Any], tx: str | None) -> list[Draft | Registration | Reject]:
    """A panel's result for each of its units (known from the WorkStarted of its transaction or
    its barcode). A defect naming a unit position goes to that unit; one naming none to the
    panel's first unit (it is counted once, not once per unit)."""
    pid = panel.get("unitidentifier")
    verdict = RESULTS.get(str(panel.get("overallresult", "")).lower())
    if verdict is None:
        return [Reject(f"panel {pid}: OverallResult {panel.get('overallresult')!r} is not a verdict")]
    serials = m.panels.units(tx, pid)
    if not serials:
        return [Reject(
            f"panel {pid}: a panel-level result, but the panel's units are unknown (no WorkStarted with its "
            f"Units for transaction {tx} seen since the ingest started)"
        )]  # fmt: skip
    checks = (panel.get("inspections") or []) + (panel.get("tests") or [])
    defects = _defects(checks, panel.get("verification"), keep_position=True)
    out: list[Draft | Registration | Reject] = []
    for i, serial in enumerate(serials):
        pos = serial.rsplit(PANEL_SEP, 1)[-1] if PANEL_SEP in serial else str(i + 1)
        mine = [d for d in defects if str(d.get("position")) == pos or (d.get("position") is None and i == 0)]
        mine = [{k: v for k, v in d.items() if k != "position"} for d in mine]
        out.append(_result(m, i, serial, verdict, mine, _measurements(checks) if i == 0 else []))
    return out


def _equipment(source: Any) -> str | None:
    return str(source)[:120] if source else None


def _defects(checks: list[Any], unit_verification: Any, keep_position: bool = False) -> list[dict[str, Any]]:
    out = []
    for check in checks:
        if not isinstance(check, dict):
            continue
        for d in check.get("defectsfound") or []:
            word = d.get("defectcategory") or d.get("defectcode") or "other"
            comp = d.get("componentofinterest") or {}
            verification = d.get("verification") or check.get("verification") or unit_verification
            found = {
                "code": defect_code(str(word)), "refdes": comp.get("referencedesignator"),
                "raw": str(d.get("defectcode") or word)[:120], "confirmed": verification != "DefectRejected",
            }  # fmt: skip
            if keep_position:
                found["position"] = comp.get("unitposition")
            out.append(found)
        for s in check.get("symptomsfound") or []:
            comps = s.get("componentsofinterest") or [{}]
            out.append({
                "code": "function_fail", "refdes": (comps[0] or {}).get("referencedesignator"),
                "raw": str(s.get("symptomcode") or "symptom")[:120], "confirmed": s.get("status") != "False",
            })  # fmt: skip
    return out


def _work(m: Msg) -> list[Draft | Registration | Reject]:
    """WorkStarted / WorkCompleted: each unit named is registered at the station (with the work
    order where the message gives one); a panel's positions are remembered for panel-level
    results. WorkCompleted naming no unit is valid (the units were named at the start): the
    station finished its work, and says so as a state record."""
    body, ctx = m.body, m.ctx
    units = [u for u in body.get("units") or [] if isinstance(u, dict)]
    primary = body.get("primaryidentifier")
    serials = [s for s in unit_serials(units, primary) if s] or ([str(primary)] if primary else [])
    tx = str(body.get("transactionid") or "") or None
    if units and serials:
        m.panels.remember(tx, str(primary) if primary else None, serials)
    if not serials:
        if m.name == "WorkCompleted":
            return [_state(ctx, m.source, m.uid, m.ts, "SBY", f"work_completed {body.get('result') or ''}".strip())]
        return [Reject("WorkStarted: no PrimaryIdentifier or Units: which unit started is unknown")]
    wo = work_order_id(body.get("workorderidentifier"))
    return [Registration(s, ctx.binding.station_id, m.ts, None, wo) for s in serials]


def work_order_id(value: Any) -> str | None:
    """The work order of a CFX WorkOrderIdentifier: an object {WorkOrderId, Batch} in the
    standard (the id is taken; linemon's records have no batch), a plain string from older
    producers."""
    if isinstance(value, dict):
        wo = value.get("workorderid")
        return str(wo)[:120] if wo else None
    return str(value)[:120] if value else None


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


def _state_changed(m: Msg) -> list[Draft | Registration | Reject]:
    state = resource_state(m.body.get("newstate"))
    if state is None:
        return [Reject(f"StationStateChanged: NewState {m.body.get('newstate')!r} is not a ResourceState")]
    return [_state(m.ctx, m.source, m.uid, m.ts, *state)]


def _state(ctx: Context, source: Any, uid: str, ts: datetime, state: str, reason: str | None) -> Draft:
    return Draft({
        "schema": "linemon.state/1", "id": _sub_id(uid, 0), "ts": ts, "line": ctx.line,
        "station": ctx.binding.station_id, "equipment": ctx.binding.equipment or _equipment(source),
        "state": state, "reason": reason,
    })  # fmt: skip


def _fault(m: Msg) -> list[Draft | Registration | Reject]:
    fault = m.body.get("fault") or {}
    severity = str(fault.get("severity", "Error"))
    if severity not in ("Error", "Alarm"):
        return [Reject(f"FaultOccurred of severity {severity}: the station keeps running, no state change")]
    reason = f"fault {fault.get('faultcode') or ''} {fault.get('cause') or ''}".strip()
    return [_state(m.ctx, m.source, m.uid, m.ts, "UDT", reason[:200])]


def _fault_cleared(m: Msg) -> list[Draft | Registration | Reject]:
    return [_state(m.ctx, m.source, m.uid, m.ts, "SBY", "fault_cleared")]


_HANDLERS = {
    "UnitsInspected": _units_judged,
    "UnitsTested": _units_judged,
    "WorkStarted": _work,
    "WorkCompleted": _work,
    "StationStateChanged": _state_changed,
    "FaultOccurred": _fault,
    "FaultCleared": _fault_cleared,
}
