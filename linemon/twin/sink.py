"""The twin's sink: what the simulated equipment does, sent over the plant's real paths.

Before the twin goes live (its history), records go straight into the store, as
`linemon simulate --write-store` writes them. Live, each record goes through `Router` to a serial
port, a rack or the broker, and `Tally` keeps the simulator's own count of what was sent, to be
compared with what the store and the dashboard show.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from line.records import Record
from linemon.twin.routes import Delivery, Router
from sim.engine import Unit
from sim.network import StationSpec
from sim.records_out import RecordSink


class Tally:
    """What the twin sent, in the terms the dashboard shows: first-pass counts per product and
    station (the first result of each unit at a station), results, confirmed defects per code,
    and each equipment's state changes."""

    def __init__(self) -> None:
        self.first: Counter[tuple[str, str]] = Counter()
        self.first_pass: Counter[tuple[str, str]] = Counter()
        self.results: Counter[tuple[str, str]] = Counter()  # (station, PASS/FAIL)
        self.defects: Counter[str] = Counter()
        self.states: Counter[str] = Counter()  # per equipment
        self.last_state: dict[str, tuple[str, str, str | None]] = {}  # equipment -> station, state, reason
        self.started = 0
        self._seen: set[tuple[str, str]] = set()

    @property
    def records(self) -> int:
        return sum(self.results.values()) + sum(self.states.values())

    def result(self, rec: dict[str, Any]) -> None:
        key = (rec["product"], rec["station"])
        self.results[(rec["station"], rec["result"])] += 1
        if (rec["serial"], rec["station"]) not in self._seen:
            self._seen.add((rec["serial"], rec["station"]))
            self.first[key] += 1
            self.first_pass[key] += rec["result"] == "PASS"
        for d in rec["defects"]:
            if d.get("confirmed", True):
                self.defects[d["code"]] += 1

    def state(self, rec: dict[str, Any]) -> None:
        self.states[rec["equipment"]] += 1
        self.last_state[rec["equipment"]] = (rec["station"], rec["state"], rec["reason"])

    def as_json(self) -> dict[str, Any]:
        fpy: dict[str, dict[str, list[int]]] = {}
        for (product, station), n in sorted(self.first.items()):
            fpy.setdefault(product, {})[station] = [n, self.first_pass[(product, station)]]
        return {
            "records_sent": self.records,
            "units_started_seen": self.started,
            "first_pass": fpy,
            "results": {f"{s} {r}": n for (s, r), n in sorted(self.results.items())},
            "defects": dict(self.defects.most_common()),
            "state_changes": sum(self.states.values()),
            "last_state": {eq: list(v) for eq, v in sorted(self.last_state.items())},
        }


class TwinSink(RecordSink):
    def __init__(
        self,
        start: datetime,
        store_write: Callable[[list[Record]], Any],
        router: Router,
        deliver: Callable[[Delivery], None],
        rng: random.Random,
        measure: Callable[[float, str, str], list[dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__(start, store_write, rng, measure=measure)
        self.router, self.deliver = router, deliver
        self.live = False
        self.tally = Tally()
        self.previous: dict[str, str | None] = {}  # equipment -> last reason sent (CFX OldState)

    def go_live(self) -> None:
        """History is written; from now on records travel over the equipment paths."""
        self._flush()
        self.live = True

    def _add(self, data: dict[str, Any]) -> None:
        if not self.live:
            super()._add(data)
            return
        if data["schema"] == "linemon.result/1":
            delivery, sent = self.router.result(data)
            self.tally.result(sent)
        else:
            delivery = self.router.state(data, self.previous.get(data["equipment"]))
            self.previous[data["equipment"]] = data["reason"]
            self.tally.state(data)
        self.deliver(delivery)

    def started(self, t: float, st: StationSpec, server: int, unit: Unit) -> None:
        if not self.live:
            return
        delivery = self.router.started(st.id, unit.serial, unit.product, unit.work_order)
        if delivery is not None:
            self.tally.started += 1
            self.deliver(delivery)
