"""The twin's rolling plan: each week the reference mix, sized by rough-cut capacity to what the
week's scheduled time can take and released levelled over it, so the simulated plant has work in
every worked hour of the week (the plan as written runs dry by Thursday), holiday weeks get less,
and the backlog does not grow week after week."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import simpy

from line.calendar import week_start
from line.config import Plant
from sim.capacity import attempts_per_unit, fill_factor, server_seconds
from sim.continuous import WEEK_S, RollingPlan, rolling_plan
from sim.dists import constant
from sim.engine import Simulation
from sim.network import Lot, Network, Release, StationSpec, single_product
from sim.plan import load_plan
from tests.conftest import PLANT_FILE

PLAN = Path(PLANT_FILE).parent / "plans" / "jincheon-week.toml"


def test_server_seconds_count_retests_setups_and_breakdowns() -> None:
    # 10 units of 60 s, FPY 0.8, retests pass at 0.5, at most 3 attempts: 1 + 0.2 + 0.1 attempts;
    # one 300 s setup; breakdowns: 600 s repair per 6000 busy s adds 10 %
    test = StationSpec(
        "T", {"P": constant(60.0)}, inspects=True, fpy={"P": 0.8}, setup=constant(300.0),
        mtbf_s=6000.0, mttr=constant(600.0),
    )  # fmt: skip
    net = Network({"T": test}, {"P": ("T",)}, Release("plan"), retest_pass=0.5, max_attempts=3)
    assert attempts_per_unit(net, test, "P") == pytest.approx(1.3)
    assert server_seconds(net, [Lot("P", "WO", 10)]) == {"T": pytest.approx((10 * 60 * 1.3 + 300) * 1.1)}


def test_fill_factor_is_the_tightest_station_at_the_load() -> None:
    # A needs 100 s per unit on 1 server, B 150 s on 2 servers (75 s each); 10 units need 1000 s
    # of A: a 4000 s week at load 0.5 takes 2x the lots. A 3-slot rack (900 s a unit) runs around
    # the clock: its 9000 s of work count against 3 x the week's full length
    a, b = StationSpec("A", {"*": constant(100.0)}), StationSpec("B", {"*": constant(150.0)}, servers=2)
    rack = StationSpec("R", {"*": constant(900.0)}, servers=3, follows_clock=False)
    net = single_product([a, b, rack], Release("plan"))
    lots = [Lot("P", "WO", 10)]
    assert fill_factor(net, lots, 4000.0, 40000.0, 0.5) == pytest.approx(0.5 * 4000 / 1000)
    assert fill_factor(net, lots, 4000.0, 2000.0, 1.0) == pytest.approx(3 * 2000 / 9000)


def _rolling(plant: Plant, weeks: int, load: float | None) -> tuple[RollingPlan, datetime]:
    start = week_start(plant.spec.calendar, plant.tz, datetime(2026, 11, 30, 9, tzinfo=plant.tz))
    return rolling_plan(plant, load_plan(str(PLAN)), start, weeks, load=load), start


def test_weeks_keep_the_mix_and_lots_and_a_holiday_week_gets_less(plant: Plant) -> None:
    written, _ = _rolling(plant, 4, None)
    rolled, start = _rolling(plant, 4, 0.8)
    assert written.factors == (1.0,) * 4
    # week of 21 Dec has Christmas off: less scheduled time, fewer units (and a factor > 1: the
    # reference week leaves the line's capacity partly unused)
    assert rolled.factors[3] < rolled.factors[0] == rolled.factors[1] and rolled.factors[0] > 1
    week1 = {o.product: o.quantity for o in rolled.orders if o.id.startswith("WO-2650-")}
    plan = {o.product: o.quantity for o in written.orders if o.id.startswith("WO-2650-")}
    assert week1 == {p: max(1, round(q * rolled.factors[1])) for p, q in plan.items()}
    lots = [lot for lot in rolled.network.release.lots if lot.work_order == "WO-2650-01"]
    assert [lot.quantity for lot in lots[:-1]] == [40] * (len(lots) - 1)  # the plan's lot size
    assert sum(lot.quantity for lot in lots) == week1["FF-50"]
    # every order has a floor window ending with the week's last shift (Saturday 12:30)
    due = {o.due for o in rolled.orders if o.id.startswith("WO-2650-")}
    assert due == {datetime(2026, 12, 12, 12, 30, tzinfo=plant.tz)}
    # releases are levelled over the week, in plan order, not all on Monday morning
    times = [lot.release_s for lot in rolled.network.release.lots if lot.work_order.startswith("WO-2650-")]
    assert times == sorted(times) and all(t is not None for t in times)
    assert times[-1] is not None and times[-1] - WEEK_S > 3 * 86400  # the last lots go out Thursday or later
    assert start.weekday() == 0


def _results_per_hour(rp: RollingPlan, weeks: int) -> Counter[tuple[int, float]]:
    """Results per (week, hour after Monday's first shift) over a simulated run."""

    class Tally:
        def __init__(self) -> None:
            self.hours: Counter[tuple[int, float]] = Counter()

        def result(self, t: float, *_: object) -> None:
            self.hours[(int(t // WEEK_S), (t % WEEK_S) // 3600)] += 1

        def state(self, *_: object) -> None: ...

        def started(self, *_: object) -> None: ...

    tally = Tally()
    sim = Simulation(simpy.Environment(), rp.network, random.Random(7), sink=tally)
    sim.run(weeks * WEEK_S, stop_when_done=False)
    assert sim.released - sim.completed - sim.scrapped < 250  # no backlog piling up over the weeks
    return tally.hours


def test_a_rolling_week_has_work_in_every_shift_the_written_plan_runs_dry(plant: Plant) -> None:
    # hours after Monday 08:30: Thursday 19:00 (overtime), Friday 14:00, Saturday 09:00
    probes = {"thu 19:00": 82.0, "fri 14:00": 101.0, "sat 09:00": 120.0}
    rolled, _ = _rolling(plant, 3, 0.8)
    written, _ = _rolling(plant, 3, None)
    busy, dry = _results_per_hour(rolled, 3), _results_per_hour(written, 3)
    for week in (0, 1, 2):
        for name, h in probes.items():
            assert busy[(week, h)] >= 5, f"week {week}, {name}: {busy[(week, h)]} results"
    assert all(dry[(week, probes["fri 14:00"])] == 0 for week in (0, 1, 2))
    assert sum(busy.values()) > sum(dry.values()) * 1.2
    assert all(dry[(w, h)] == 0 for w in (0, 1, 2) for h in (probes["fri 14:00"], probes["sat 09:00"]))


def test_the_twin_refuses_a_load_outside_0_to_1(plant: Plant, tmp_path: Path) -> None:
    from line.errors import LinemonError
    from linemon.twin.runner import Twin, TwinOptions
    from store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "t.db")
    with pytest.raises(LinemonError, match="--load must be in"):
        Twin(plant, store, TwinOptions(plan=str(PLAN), load=1.5), now=datetime.now(plant.tz) + timedelta(0))
    store.close()
