"""Result-file emulation: the report a tester writes for one unit, built from the same CSV layout
or XML paths the parser reads (`drivers.fileformat`, `drivers.fileformat_xml`), so the two cannot
drift apart; and the loop of
`linemon emulate` for a file binding, writing one file per unit into its folder."""

from __future__ import annotations

import csv
import io
import random
import threading
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from drivers.emulate import EmuUnit, random_units
from line.config import Plant
from line.config_model import BindingDef, FormatDef

PADS = 60  # pads per board in an emulated pad report (two pad types)


def csv_report(fmt: FormatDef, b: BindingDef, u: EmuUnit, ts: datetime, rng: random.Random,
               equipment: str | None = None) -> bytes:  # fmt: skip
    """One unit's report: a board row, its calls (confirmed defects and false calls, with the
    operator's verdict), or its pads with their measurements."""
    cols = fmt.columns
    header = list(dict.fromkeys([*cols.values(), *fmt.measure_columns]))
    common = {
        "serial": u.serial, "product": u.product, "work_order": u.work_order,
        "equipment": equipment or b.equipment or f"{b.station_id}-01",
        "ts": ts.strftime(fmt.ts_format) if fmt.ts_format else ts.isoformat(),
    }  # fmt: skip
    rows: list[dict[str, str]] = []
    if fmt.rows == "pad":
        for p in range(PADS):
            values = {col: f"{rng.gauss(100, 5):.1f}" for col in fmt.measure_columns}
            failing = not u.passed and p == 0
            rows.append({**common, "group": "0402" if p < PADS * 2 // 3 else "QFN",
                         "result": fmt.fail_tokens[0] if failing else fmt.pass_tokens[0], **values})  # fmt: skip
    elif fmt.rows == "component":
        calls = [(c, r, True) for c, r in u.defects] + [(c, r, False) for c, r in u.false_calls]
        for code, refdes, real in calls or [("", "", True)]:
            verdict = "" if not code else (fmt.fail_tokens[0] if real else fmt.pass_tokens[0])
            rows.append({**common, "code": code, "refdes": refdes, "operator": verdict,
                         "result": fmt.pass_tokens[0] if u.passed else fmt.fail_tokens[0]})  # fmt: skip
    else:
        rows.append({**common, "result": fmt.pass_tokens[0] if u.passed else fmt.fail_tokens[0],
                     **{col: f"{rng.gauss(100, 5):.2f}" for col in fmt.measure_columns}})  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, header, delimiter=fmt.separator or ",", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        by_header = {cols[role]: v for role, v in row.items() if role in cols}
        writer.writerow(by_header | {c: row[c] for c in fmt.measure_columns if c in row})
    return out.getvalue().encode(fmt.encoding)


def xml_report(fmt: FormatDef, b: BindingDef, u: EmuUnit, ts: datetime, rng: random.Random,
               equipment: str | None = None) -> bytes:  # fmt: skip
    """One unit's report in an XML format, built from the format's own paths (the parser's), so
    an emulated file has exactly the shape the plant file describes: the board, its calls with
    the reviewer's verdict, its measurements."""
    p: dict[str, str] = {str(k): v for k, v in fmt.paths.items()}  # by role name
    root = ET.Element("Report")
    board = _put_element(root, p["board"].lstrip("./"))
    fields = {"serial": u.serial, "product": u.product, "work_order": u.work_order,
              "equipment": equipment or b.equipment or f"{b.station_id}-01",
              "ts": ts.strftime(fmt.ts_format) if fmt.ts_format else ts.isoformat(),
              "result": fmt.pass_tokens[0] if u.passed else fmt.fail_tokens[0]}  # fmt: skip
    for key, value in fields.items():
        if p.get(key):
            _put(board, p[key], value)
    calls = [(c, r, True) for c, r in u.defects] + [(c, r, False) for c, r in u.false_calls]
    for code, refdes, real in calls if p.get("defect") else ():
        call = _put_element(board, p["defect"], new=True)
        for key, value in (("code", code), ("refdes", refdes),
                           ("operator", fmt.fail_tokens[0] if real else fmt.pass_tokens[0])):  # fmt: skip
            if p.get(key):
                _put(call, p[key], value)
    measured = u.measurements or (("V_OUT", round(rng.gauss(12.0, 0.1), 3), "V"),)
    for mname, mvalue, munit in measured if p.get("measurement") else ():
        m = _put_element(board, p["measurement"], new=True)
        for key, v in (("name", mname), ("value", f"{mvalue}"), ("unit", munit or "")):
            if p.get(key) and v:
                _put(m, p[key], v)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _put_element(el: ET.Element, path: str, new: bool = False) -> ET.Element:
    """The element at `path` below `el`, made where missing (`new`: its last step always made)."""
    steps = [s for s in path.split("/") if s and s != "."]
    for k, tag in enumerate(steps):
        last = k == len(steps) - 1
        found = None if (new and last) else el.find(tag)
        el = found if found is not None else ET.SubElement(el, tag)
    return el


def _put(el: ET.Element, path: str, value: str) -> None:
    """Write `value` where the parser reads `path` (`@x`, `a/@x`, `a/b`)."""
    where, _, attr = path.rpartition("@") if "@" in path else (path, "", "")
    target = _put_element(el, where.rstrip("/")) if where.strip("/") else el
    if attr:
        target.set(attr, value)
    else:
        target.text = value


def report(fmt: FormatDef, b: BindingDef, u: EmuUnit, ts: datetime, rng: random.Random) -> tuple[bytes, str]:
    """The report file of a unit in the binding's format, and its file name."""
    if fmt.type == "xml":
        return xml_report(fmt, b, u, ts, rng), f"{u.serial}_{ts:%Y%m%d%H%M%S%f}.xml"
    return csv_report(fmt, b, u, ts, rng), report_name(u, ts)


def report_name(u: EmuUnit, ts: datetime) -> str:
    return f"{u.serial}_{ts:%Y%m%d%H%M%S%f}.csv"


def emulate_files(
    plant: Plant, b: BindingDef, folder: str, stop: threading.Event, rate: float, count: int | None, seed: int
) -> int:
    """Write one report per random unit into `folder` (as a tester does) until `count` or `stop`."""
    from datetime import UTC

    from drivers.emulate_io import paced

    rng = random.Random(seed)
    fmt = plant.spec.formats[b.format]
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for u in paced(random_units(plant, b.station_id, rng), stop, rate, count):
        ts = datetime.now(UTC).astimezone(plant.tz)
        data, name = report(fmt, b, u, ts, rng)
        (target / name).write_bytes(data)
        written += 1
    return written
