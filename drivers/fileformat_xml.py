"""XML result files (an AOI's board report, an in-circuit tester's log), described in the plant file
by paths, never coded per vendor. Pure: the file's bytes in, items out.

`paths.board` finds the board elements (a panel report holds several); every other path is
relative to a board (`serial = "@Barcode"`: an attribute; `"Info/Serial"`: a child's text;
`"Info/@Serial"`: a child's attribute). `defect` and `measurement` find the repeated elements,
and their fields are relative to each (`code = "@Type"`, `value = "@Value"`). The same content
gives the same record ids, as with CSV reports.
"""

from __future__ import annotations

import hashlib
from typing import Any
from xml.etree import ElementTree as ET

from drivers.fileformat import defect_call, ts_of
from drivers.items import Draft, Reject
from drivers.lineformat import Context, verdict_of
from line.config_model import FormatDef


def value_at(el: ET.Element, path: str | None) -> str:
    """An attribute (`@x`, `a/b/@x`) or a child's text (`a/b`) of `el`; "" when absent."""
    if not path:
        return ""
    where, _, attr = path.rpartition("@") if "@" in path else (path, "", "")
    target = el if not where.strip("/") else el.find(where.rstrip("/"))
    if target is None:
        return ""
    return (target.get(attr) or "").strip() if attr else (target.text or "").strip()


def parse_xml(fmt: FormatDef, ctx: Context, data: bytes, name: str) -> list[Draft | Reject]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return [Reject(f"{name}: not well-formed XML ({exc})", data[:4096])]
    boards = [root] if fmt.paths["board"] in (".", "") else root.findall(fmt.paths["board"])
    if not boards:
        return [Reject(f"{name}: no board element at {fmt.paths['board']!r}", data[:4096])]
    digest = hashlib.sha256(data).hexdigest()[:20]
    return [_board(fmt, ctx, b, f"{ctx.binding.id}-{digest}-{n}", name, data) for n, b in enumerate(boards)]


def _board(fmt: FormatDef, ctx: Context, el: ET.Element, rid: str, name: str, data: bytes) -> Draft | Reject:
    p = fmt.paths
    serial = value_at(el, p["serial"])
    if not serial:
        return Reject(f"{name}: a board without a serial at {p['serial']!r}", data[:4096])
    ts = ts_of(fmt, ctx, value_at(el, p.get("ts")))
    if isinstance(ts, Reject):
        return Reject(f"{name}: {ts.reason}", data[:4096])
    defects = _defects(fmt, el)
    if isinstance(defects, Reject):
        return Reject(f"{name}: {defects.reason}", data[:4096])
    token = value_at(el, p.get("result"))
    verdict = verdict_of(token, fmt) if token else ("FAIL" if any(d["confirmed"] for d in defects) else "PASS")
    if verdict is None:
        return Reject(f"{name}: unknown verdict {token!r} at {p.get('result')!r}", data[:4096])
    measurements = _measurements(fmt, el)
    if isinstance(measurements, Reject):
        return Reject(f"{name}: {measurements.reason}", data[:4096])
    return Draft(
        {
            "schema": "linemon.result/1", "id": rid, "ts": ts, "line": ctx.line, "station": ctx.binding.station_id,
            "equipment": value_at(el, p.get("equipment")) or ctx.binding.equipment, "serial": serial,
            "product": value_at(el, p.get("product")) or None,
            "work_order": value_at(el, p.get("work_order")) or None,
            "result": verdict, "defects": defects, "measurements": measurements,
        },
        data[:4096],
    )  # fmt: skip


def _defects(fmt: FormatDef, board: ET.Element) -> list[dict[str, Any]] | Reject:
    p = fmt.paths
    out: list[dict[str, Any]] = []
    for d in board.findall(p["defect"]) if p.get("defect") else []:
        raw = value_at(d, p.get("code"))
        if raw:
            call = defect_call(fmt, raw, value_at(d, p.get("refdes")), value_at(d, p.get("operator")))
            if isinstance(call, Reject):
                return call
            out.append(call)
    return out


def _measurements(fmt: FormatDef, board: ET.Element) -> list[dict[str, Any]] | Reject:
    p = fmt.paths
    out: list[dict[str, Any]] = []
    for m in board.findall(p["measurement"]) if p.get("measurement") else []:
        name, text = value_at(m, p.get("name")), value_at(m, p.get("value"))
        try:
            value = float(text)
            lo, hi = (value_at(m, p.get(k)) for k in ("lo", "hi"))
            entry: dict[str, Any] = {"name": name or "value", "value": value, "unit": value_at(m, p.get("unit")) or None}
            if lo:
                entry["lo"] = float(lo)
            if hi:
                entry["hi"] = float(hi)
        except ValueError:
            return Reject(f"measurement {name!r}: {text!r} is not a number")
        out.append(entry)
    return out
