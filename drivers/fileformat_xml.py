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

from drivers.fileformat import KEPT, BadReport, defect_call, ok, report_draft, ts_of
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
    try:
        serial = value_at(el, p["serial"])
        if not serial:
            raise BadReport(f"a board without a serial at {p['serial']!r}")
        defects = ok(_defects(fmt, el))
        token = value_at(el, p.get("result"))
        verdict = verdict_of(token, fmt) if token else ("FAIL" if any(d["confirmed"] for d in defects) else "PASS")
        if verdict is None:
            raise BadReport(f"unknown verdict {token!r} at {p.get('result')!r}")
        return report_draft(
            ctx, rid, data, serial, ok(ts_of(fmt, ctx, value_at(el, p.get("ts")))), verdict, defects,
            ok(_measurements(fmt, el)), value_at(el, p.get("equipment")), value_at(el, p.get("product")),
            value_at(el, p.get("work_order")),
        )  # fmt: skip
    except BadReport as exc:
        return Reject(f"{name}: {exc}", data[:KEPT])


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
