"""A sink that turns what the simulated equipment does into the records real equipment sends,
so a simulated week can be written into a store and shown by the dashboard like a real one."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from line.records import Record, record_from_dict
from sim.engine import BLOCKED, BUSY, DOWN, OFF, SETUP, STARVED, Unit
from sim.network import StationSpec

# SEMI E10 state and sub-state reported for each server state, the sub-states named as IPC-CFX
# names them (ResourceState), so native and CFX sources report the same words
E10 = {BUSY: ("PRD", "PRD_RegularWork"), SETUP: ("SDT", "SDT_Setup"), DOWN: ("UDT", "USD_Repair"),
       BLOCKED: ("SBY", "SBY_NoProductBlocked"), STARVED: ("SBY", "SBY_NoProductStarved"),
       OFF: ("NST", "NST_UnworkedShifts")}  # fmt: skip


class RecordSink:
    """Collects records, handing them to `flush` in batches (e.g. `store.write`)."""

    def __init__(
        self,
        start: datetime,
        flush: Callable[[list[Record]], Any],
        rng: random.Random,
        batch: int = 5000,
        measure: Callable[[float, str, str], list[dict[str, Any]]] | None = None,
    ) -> None:
        """`measure(t, station, product)`: what a tester measures on an attempt (`sim.measures`)."""
        self.start, self.flush, self.rng, self.batch, self.measure = start, flush, rng, batch, measure
        self.pending: list[Record] = []
        self.last: dict[tuple[str, int], tuple[str, str | None]] = {}  # last state written
        self.held: dict[tuple[str, int], tuple[float, StationSpec, str, str | None]] = {}
        self.written = 0

    def _ts(self, t: float) -> datetime:
        return self.start + timedelta(seconds=t)

    def _add(self, data: dict[str, Any]) -> None:
        self.pending.append(record_from_dict(data))
        if len(self.pending) >= self.batch:
            self._flush()

    def result(
        self, t: float, st: StationSpec, server: int, unit: Unit, passed: bool, defects: list[str]
    ) -> None:
        found: list[dict[str, object]] = [
            {"code": c, "refdes": f"{self.rng.choice('UCRLQ')}{self.rng.randint(1, 80)}"} for c in defects
        ]
        if self.rng.random() < st.false_calls_per_unit:
            found.append({"code": "missing", "refdes": f"C{self.rng.randint(1, 200)}", "confirmed": False})
        self._add({
            "schema": "linemon.result/1", "ts": self._ts(t), "line": st.line, "station": st.id,
            "equipment": f"{st.id}-{server + 1:02d}", "serial": unit.serial, "product": unit.product,
            "work_order": unit.work_order, "result": "PASS" if passed else "FAIL", "defects": found,
            "measurements": self.measure(t, st.id, unit.product) if self.measure else [],
        })  # fmt: skip

    def started(self, t: float, st: StationSpec, server: int, unit: Unit) -> None:
        """Nothing to record: the result at the station's end carries the unit."""

    def state(self, t: float, st: StationSpec, server: int, state: int) -> None:
        """Hold each server's newest state until time moves on, so states lasting no time (a
        unit passed straight on) are not reported; write it only if it differs from the last."""
        key = (st.id, server)
        held = self.held.get(key)
        if held is not None and held[0] < t:
            self._write_state(key, *held)
        self.held[key] = (t, st, *E10[state])

    def _write_state(
        self, key: tuple[str, int], t: float, st: StationSpec, e10: str, reason: str | None
    ) -> None:
        if self.last.get(key) == (e10, reason):
            return
        self.last[key] = (e10, reason)
        self._add({
            "schema": "linemon.state/1", "ts": self._ts(t), "line": st.line, "station": st.id,
            "equipment": f"{st.id}-{key[1] + 1:02d}", "state": e10, "reason": reason,
        })  # fmt: skip

    def release(self, now: float) -> None:
        """Write the held states time has moved past: a live consumer sees a state change when
        it happens, not when the server changes state again (an idle tester would show its
        Friday state all weekend)."""
        for key in [k for k, held in self.held.items() if held[0] < now]:
            self._write_state(key, *self.held.pop(key))

    def close(self) -> None:
        """Write the held states and everything pending."""
        for key, held in self.held.items():
            self._write_state(key, *held)
        self.held.clear()
        self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.flush(self.pending)
            self.written += len(self.pending)
            self.pending = []
