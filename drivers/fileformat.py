"""Result files (one per board or panel, written by SPI, AOI and in-circuit testers into a folder):
CSV described in the plant file, never coded per vendor (XML: `drivers.fileformat_xml`). Pure:
the file's bytes in, items out.

Columns are found by their header name (`columns = { serial = "Barcode", ... }`), never by
position, so a vendor adding a column changes nothing. `rows` says what a row is: a board (one
result each), or a component or pad (rows grouped by serial into one result per board). A
component row with a defect code is a machine call; the operator's verdict column, when given,
confirms it (a fail token) or marks it a false call (a pass token). Measurement columns become
measurements; pad rows (hundreds per board) are summarised per board and pad group (mean, min and
max), the raw pads staying in the file. Record ids come from the file's content, so the same
report dropped twice is stored once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import statistics
from collections import defaultdict
from datetime import datetime
from typing import Any, TypeVar

from drivers.items import Draft, Reject, defect_code
from drivers.lineformat import Context, verdict_of
from line.config_model import ColumnRole, FormatDef
from line.records import DEFECT_CODES

MAX_ROWS = 200_000  # a file with more rows than this is refused, not read into memory row by row


def parse_file(fmt: FormatDef, ctx: Context, data: bytes, name: str) -> list[Draft | Reject]:
    """A result file in its format's layout (csv or xml)."""
    if fmt.type == "xml":
        from drivers.fileformat_xml import parse_xml

        return parse_xml(fmt, ctx, data, name)
    return parse_csv(fmt, ctx, data, name)


def parse_csv(fmt: FormatDef, ctx: Context, data: bytes, name: str) -> list[Draft | Reject]:
    """The unit results of one result file, or one Reject naming what is wrong with it."""
    try:
        text = data.decode(fmt.encoding)
    except UnicodeDecodeError as exc:
        return [Reject(f"{name}: not {fmt.encoding} text ({exc.reason} at byte {exc.start})", data)]
    reader = csv.DictReader(io.StringIO(text), delimiter=fmt.separator or ",")
    header = [h.strip() for h in reader.fieldnames or []]
    missing = sorted({col for col in [*fmt.columns.values(), *fmt.measure_columns] if col not in header})
    if missing:
        return [Reject(f"{name}: no column {', '.join(map(repr, missing))} in the header {header}", data)]
    rows = []
    for i, row in enumerate(reader):
        if i >= MAX_ROWS:
            return [Reject(f"{name}: more than {MAX_ROWS} rows", data[:4096])]
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    if not rows:
        return [Reject(f"{name}: no rows under the header", data)]
    digest = hashlib.sha256(data).hexdigest()[:20]
    boards: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        boards[row.get(fmt.columns["serial"], "")].append(row)
    out: list[Draft | Reject] = []
    for n, (serial, group) in enumerate(boards.items()):
        out.append(_board(fmt, ctx, serial, group, f"{ctx.binding.id}-{digest}-{n}", name, data))
    return out


def _col(fmt: FormatDef, row: dict[str, str], role: ColumnRole) -> str:
    col = fmt.columns.get(role)
    return row.get(col, "") if col else ""


def _board(
    fmt: FormatDef, ctx: Context, serial: str, rows: list[dict[str, str]], rid: str, name: str, data: bytes
) -> Draft | Reject:
    first = rows[0]
    try:
        if not serial:
            raise BadReport(f"a row without a serial (column {fmt.columns['serial']!r})")
        defects = ok(_defects(fmt, rows))
        return report_draft(
            ctx, rid, data, serial, ok(ts_of(fmt, ctx, _col(fmt, first, "ts"))), ok(_verdict(fmt, rows, defects)),
            defects, ok(_measurements(fmt, rows)), _col(fmt, first, "equipment"), _col(fmt, first, "product"),
            _col(fmt, first, "work_order"),
        )  # fmt: skip
    except BadReport as exc:
        return Reject(f"{name}: {exc}", data[:KEPT])


KEPT = 4096  # bytes of a report kept with its record or its reject (the whole file stays in done/)
T = TypeVar("T")


class BadReport(Exception):
    """What is wrong with one board of a report: its Reject's reason."""


def ok(x: T | Reject) -> T:
    """A part of a board's record, or the BadReport its Reject says."""
    if isinstance(x, Reject):
        raise BadReport(x.reason)
    return x


def report_draft(
    ctx: Context, rid: str, data: bytes, serial: str, ts: datetime, verdict: str, defects: list[dict[str, Any]],
    measurements: list[dict[str, Any]], equipment: str, product: str, work_order: str,
) -> Draft:  # fmt: skip
    """One board's record from a result file (CSV or XML), its id derived from the file's content."""
    return Draft(
        {
            "schema": "linemon.result/1", "id": rid, "ts": ts, "line": ctx.line, "station": ctx.binding.station_id,
            "equipment": equipment or ctx.binding.equipment, "serial": serial, "product": product or None,
            "work_order": work_order or None, "result": verdict, "defects": defects, "measurements": measurements,
        },
        data[:KEPT],
    )  # fmt: skip


def ts_of(fmt: FormatDef, ctx: Context, text: str) -> datetime | Reject:
    """A report's time: `ts_format` (plant-local unless it has an offset), ISO 8601, or the time
    the file was read when the report gives none."""
    if not text:
        return ctx.received
    try:
        t = datetime.strptime(text, fmt.ts_format) if fmt.ts_format else datetime.fromisoformat(text)
    except ValueError:
        return Reject(f"time {text!r} does not match {fmt.ts_format or 'ISO 8601'}")
    return t if t.tzinfo is not None else t.replace(tzinfo=ctx.tz)


def _defects(fmt: FormatDef, rows: list[dict[str, str]]) -> list[dict[str, Any]] | Reject:
    """Each row naming a defect code is a call; the operator's column confirms it or not."""
    out: list[dict[str, Any]] = []
    for row in rows:
        raw = _col(fmt, row, "code")
        if raw:
            call = defect_call(fmt, raw, _col(fmt, row, "refdes"), _col(fmt, row, "operator"))
            if isinstance(call, Reject):
                return call
            out.append(call)
    return out


def defect_call(fmt: FormatDef, raw: str, refdes: str, said: str) -> dict[str, Any] | Reject:
    """A machine's call of `raw` at `refdes`; `said`, the operator's verdict when given, confirms
    it as a defect (a fail token) or marks it a false call (a pass token)."""
    confirmed = True
    if said:
        verdict = verdict_of(said, fmt)
        if verdict not in ("PASS", "FAIL"):
            return Reject(f"operator verdict {said!r} is neither a pass nor a fail token")
        confirmed = verdict == "FAIL"
    code = raw if raw in DEFECT_CODES else defect_code(raw)
    return {"code": code, "refdes": refdes or None, "raw": raw, "confirmed": confirmed}


def _verdict(fmt: FormatDef, rows: list[dict[str, str]], defects: list[dict[str, Any]]) -> str | Reject:
    """The board's verdict: its result column (board rows; any failing row fails it), else
    failed when a call was confirmed as a defect."""
    if "result" not in fmt.columns:
        return "FAIL" if any(d["confirmed"] for d in defects) else "PASS"
    verdicts = []
    for row in rows:
        token = _col(fmt, row, "result")
        v = verdict_of(token, fmt) if token else None
        if token and v is None:
            return Reject(f"unknown verdict {token!r} (expected one of {', '.join(fmt.pass_tokens + fmt.fail_tokens)})")
        if v:
            verdicts.append(v)
    if not verdicts:
        return Reject(f"no verdict in column {fmt.columns['result']!r}")
    for worst in ("ERROR", "ABORTED", "FAIL"):
        if worst in verdicts:
            return worst
    return "PASS"


def _measurements(fmt: FormatDef, rows: list[dict[str, str]]) -> list[dict[str, Any]] | Reject:
    """Board rows: each measurement column as it is. Component and pad rows: per measurement and
    pad group, the mean, the smallest and the largest value of the board."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        for col in fmt.measure_columns:
            text = row.get(col, "")
            if not text:
                continue
            try:
                values[(col, _col(fmt, row, "group"))].append(float(text))
            except ValueError:
                return Reject(f"column {col!r}: {text!r} is not a number")
    out: list[dict[str, Any]] = []
    for (col, group), xs in values.items():
        unit = fmt.measure_columns[col] or None
        label = f"{col} {group}".strip()
        if fmt.rows == "board" and len(xs) == 1:
            out.append({"name": label, "value": xs[0], "unit": unit})
            continue
        for stat, v in (("mean", statistics.fmean(xs)), ("min", min(xs)), ("max", max(xs))):
            out.append({"name": f"{label} {stat}", "value": round(v, 6), "unit": unit})
    return out
