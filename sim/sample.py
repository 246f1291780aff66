"""A realistic, reproducible sample of the reference plant's records (until the line twin exists).

Units are released in lots during scheduled time, walk their product's routing with the station
models' times, and are judged at inspection stations with the assumed yields of the plant file:
defects are drawn from the station's spectrum, failed units are repaired and retested (scrapped
after three failures), and automatic inspection adds false calls. Station states follow the
shifts with an occasional breakdown. Same seed and start, same records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from line.calendar import local_day_bounds, shifts_between
from line.config import Plant
from line.records import Record, StateRecord, record_from_dict
from stations.models import BoundStation, bind_plant
from store.base import Store

MIX = {"fish_finder": 0.3, "ais": 0.25, "gps": 0.2, "radar": 0.15, "vdr": 0.1}
RETEST_PASS = 0.85
MAX_ATTEMPTS = 3
TAKT_S = 150.0  # release interval at line entry


def _result(
    rng: random.Random, st: BoundStation, code: str, serial: str, wo: str, ts: datetime, passed: bool
) -> dict[str, Any]:
    defects = []
    if not passed:
        codes, weights = zip(*st.model.defects, strict=True) if st.model.defects else (("other",), (1.0,))
        for _ in range(1 if rng.random() < 0.8 else 2):
            d = rng.choices(codes, weights)[0]
            defects.append(
                {"code": d, "refdes": f"{rng.choice('UCRLQ')}{rng.randint(1, 80)}", "raw": d.upper()}
            )
    if rng.random() < st.model.false_calls_per_unit:
        defects.append(
            {
                "code": rng.choice(("missing", "shift", "insufficient_solder")),
                "refdes": f"C{rng.randint(1, 200)}",
                "confirmed": False,
            }
        )
    equipment = f"{st.id}-{rng.randint(1, st.spec.machines):02d}"
    return {
        "schema": "linemon.result/1",
        "ts": ts,
        "line": st.line,
        "station": st.id,
        "equipment": equipment,
        "serial": serial,
        "product": code,
        "work_order": wo,
        "result": "PASS" if passed else "FAIL",
        "defects": defects,
    }


def _unit(
    rng: random.Random,
    plant: Plant,
    bound: dict[str, BoundStation],
    code: str,
    serial: str,
    wo: str,
    t: datetime,
    end: datetime,
) -> Iterator[Record]:
    prod = plant.product(code)
    for sid in prod.routing:
        st = bound[sid]
        t += timedelta(seconds=st.seconds(prod) * rng.uniform(0.9, 1.3) + st.model.transit_s(st.spec))
        if not st.model.inspects:
            continue
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if t >= end:
                return
            p = st.fpy(prod) if attempt == 1 else RETEST_PASS
            passed = rng.random() < p
            yield record_from_dict(_result(rng, st, code, serial, wo, t, passed))
            if passed:
                break
            t += timedelta(minutes=rng.uniform(10, 60))  # repair, then retest
        else:
            return  # scrapped


def sample_records(plant: Plant, start: datetime, end: datetime, rng: random.Random) -> Iterator[Record]:
    """Results of units released during scheduled time in [start, end), then station states."""
    bound = bind_plant(plant)
    families = {p.family: code for code, p in plant.spec.products.items()}
    codes = [families[f] for f in MIX if f in families] or list(plant.spec.products)
    weights = [MIX.get(plant.product(c).family, 0.1) for c in codes]
    n_wo, n_unit, lot_left, code, wo = 0, 0, 0, codes[0], ""
    for shift in shifts_between(plant.spec.calendar, plant.tz, start, end):
        for a, b in shift.scheduled():
            t = a
            while t < min(b, end):
                if lot_left == 0:
                    n_wo += 1
                    code = rng.choices(codes, weights)[0]
                    lot_left = rng.choice((10, 20, 30, 50))
                    wo = f"WO-{t.astimezone(plant.tz):%y%m}-{n_wo:03d}"
                n_unit += 1
                lot_left -= 1
                serial = f"{code.replace('-', '')}-{t.astimezone(plant.tz):%y%m}-{n_unit:06d}"
                yield from _unit(rng, plant, bound, code, serial, wo, t, end)
                t += timedelta(seconds=TAKT_S * rng.uniform(0.8, 1.2))
    yield from sample_states(plant, start, end, rng)


def sample_states(plant: Plant, start: datetime, end: datetime, rng: random.Random) -> Iterator[Record]:
    """PRD during shifts, SBY in breaks, NST after, and unplanned downs drawn from MTBF/MTTR."""
    for shift in shifts_between(plant.spec.calendar, plant.tz, start, end):
        for sid, st in plant.spec.stations.items():
            changes: list[tuple[datetime, str, str | None]] = []
            for a, b in shift.scheduled():
                changes.append((a, "PRD", None))
                if st.mtbf_h and st.mttr_min and rng.random() < (b - a).total_seconds() / 3600 / st.mtbf_h:
                    down = a + (b - a) * rng.random()
                    changes.append((down, "UDT", "USD_Repair"))
                    changes.append(
                        (min(down + timedelta(minutes=rng.expovariate(1 / st.mttr_min)), b), "PRD", None)
                    )
                changes.append((b, "SBY", "SBY_NoOperator"))
            changes[-1] = (shift.end, "NST", "NST_UnworkedShifts")
            for ts, state, reason in changes:
                if start <= ts < end:
                    yield StateRecord.model_validate(
                        {
                            "schema": "linemon.state/1",
                            "id": f"sample-{sid}-{int(ts.timestamp())}-{state}",
                            "ts": ts,
                            "line": st.line,
                            "station": sid,
                            "state": state,
                            "reason": reason,
                        }
                    )


def fill_if_empty(store: Store, plant: Plant, now: datetime, days: int = 21, seed: int = 2611) -> int:
    """Fill an empty store with `days` of sample data ending at `now`; return the records written."""
    if store.result_count():
        return 0
    start, _ = local_day_bounds(plant.tz, (now - timedelta(days=days)).astimezone(plant.tz).date())
    written, batch = 0, []
    for rec in sample_records(plant, start, now, random.Random(seed)):
        batch.append(rec)
        if len(batch) >= 20_000:
            written += store.write(batch).stored
            batch = []
    return written + store.write(batch).stored
