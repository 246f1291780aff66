"""Result-file emulation: the report a tester writes for one unit, built from the same CSV layout
the parser reads (`drivers.fileformat`), so the two cannot drift apart; and the loop of
`linemon emulate` for a file binding, writing one file per unit into its folder."""

from __future__ import annotations

import csv
import io
import random
import threading
from datetime import datetime
from pathlib import Path

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
        (target / report_name(u, ts)).write_bytes(csv_report(fmt, b, u, ts, rng))
        written += 1
    return written
