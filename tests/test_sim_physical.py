"""The simulator's physical model: a conveyor oven holds the boards that fit on its belt and stops
taking boards when its exit is blocked, so the mounter before it is blocked in turn."""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy

from line.config import Plant
from sim.dists import constant
from sim.engine import Simulation
from sim.network import Lot, Release, StationSpec, single_product
from sim.results import figures


def _oven_line(slots: int | None) -> Simulation:
    """MOUNT (20 s) -> REFLOW (pitch 40 s, 300 s inside) -> INSERT (120 s, one place before it)."""
    net = single_product(
        [
            StationSpec("MOUNT", {"*": constant(20)}),
            StationSpec("REFLOW", {"*": constant(40)}, buffer=2, transit_s=300, conveyor_slots=slots),
            StationSpec("INSERT", {"*": constant(120)}, buffer=1),
        ],
        Release("plan", lots=(Lot("P", "WO1", 60),)),
    )
    return Simulation(simpy.Environment(), net, random.Random(1))


def _most_inside(sim: Simulation, every_s: float = 5.0) -> list[int]:
    seen: list[int] = []

    def watch() -> Generator[simpy.Event, Any, None]:
        while True:
            seen.append(sim.boards_inside("REFLOW"))
            yield sim.env.timeout(every_s)

    sim.env.process(watch())
    return seen


def test_a_conveyor_oven_holds_what_fits_and_blocks_the_mounter() -> None:
    slots = math.ceil(300 / 40)
    sim = _oven_line(slots)
    inside = _most_inside(sim)
    end = sim.run(1e6)
    fig = figures(sim, end)
    assert max(inside) == slots  # full while INSERT holds the line back, never more
    assert fig["stations"]["MOUNT"]["time_split"]["blocked"] > 0.5  # the mounter waits for the oven
    assert fig["stations"]["REFLOW"]["time_split"]["blocked"] > 0.3
    assert sim.completed == 60
    # the same line with a belt that never fills (the old model) piles boards into the oven
    loose = _oven_line(1000)
    inside_loose = _most_inside(loose)
    loose.run(1e6)
    assert max(inside_loose) > 2 * slots


def test_the_plant_ovens_get_their_belt_from_transit_and_pitch(plant: Plant) -> None:
    from sim.plan import load_plan
    from sim.plant import build_network

    net = build_network(plant, load_plan(Path(plant.path).parent / "plans" / "jincheon-week.toml"), 168.0)
    assert net.stations["REFLOW"].conveyor_slots == math.ceil(5.0 * 60 / 40.0)  # 8 boards of 40 s in 5 min
    assert net.stations["WAVE"].conveyor_slots == math.ceil(4.0 * 60 / 45.0)


def test_conveyor_boards_sets_the_belt_and_only_ovens_take_it(tmp_path: Path) -> None:
    import pytest

    from line.config import load_plant
    from line.errors import ConfigError
    from sim.plan import load_plan
    from sim.plant import build_network
    from tests.conftest import PLANT_FILE

    text = PLANT_FILE.read_text()
    assert "transit_min = 5.0\n" in text
    f = tmp_path / "plant.toml"
    f.write_text(text.replace("transit_min = 5.0\n", "transit_min = 5.0\nconveyor_boards = 5\n", 1))
    (tmp_path / "plans").symlink_to(PLANT_FILE.parent / "plans")
    net = build_network(load_plant(f), load_plan(tmp_path / "plans" / "jincheon-week.toml"), 168.0)
    assert net.stations["REFLOW"].conveyor_slots == 5
    f.write_text(text.replace('kind = "insertion"\n', 'kind = "insertion"\nconveyor_boards = 5\n', 1))
    with pytest.raises(ConfigError, match=r"stations.INSERT.conveyor_boards: not a parameter of a 'insertion' station"):
        load_plant(f)


class _Verdicts:
    """A record sink that keeps each station's first-attempt verdict of every unit."""

    def __init__(self) -> None:
        self.by_station: dict[str, dict[str, bool]] = {}

    def result(self, t: float, st: StationSpec, server: int, unit: Any, passed: bool, defects: list[str]) -> None:
        if unit.fails == 0:  # first attempts (judged before a failure is counted)
            self.by_station.setdefault(st.id, {})[unit.serial] = passed

    def state(self, t: float, st: StationSpec, server: int, state: int) -> None:
        pass

    def started(self, t: float, st: StationSpec, server: int, unit: Any) -> None:
        pass


def test_a_what_if_at_one_station_leaves_every_other_stations_draws_alone(plant: Plant) -> None:
    """Common random numbers: a second mounter changes when (and in which order) boards reach the
    function test, not whether each of them passes there, at SPI or at FT: every unit draws its
    own verdicts, every station its own work times (one shared generator interleaved the
    mounter's work times with everything else, so every what-if reshuffled the whole line)."""
    from dataclasses import replace

    from sim.plan import load_plan
    from sim.plant import build_network

    net = build_network(plant, load_plan(Path(plant.path).parent / "plans" / "jincheon-week.toml"), 168.0)
    more = replace(net, stations={**net.stations, "MOUNT": replace(net.stations["MOUNT"], servers=2)})
    seen = []
    for n in (net, more):
        sink = _Verdicts()
        Simulation(simpy.Environment(), n, random.Random(7), sink=sink).run(168 * 3600)
        seen.append(sink.by_station)
    for sid in ("SPI", "FCT", "FT"):
        both = seen[0][sid].keys() & seen[1][sid].keys()
        assert len(both) > 300 and all(seen[0][sid][u] == seen[1][sid][u] for u in both), sid


def test_machines_that_need_an_operator_wait_for_one() -> None:
    """Two test jigs (60 s a board) and one operator: held for the whole job (adjusting) the
    pair works like one jig; held for 10 s of loading, nearly like two."""

    def done_in(operators: int | None, operator_s: float | None) -> float:
        net = single_product(
            [StationSpec("FCT", {"*": constant(60)}, servers=2, operators=operators, operator_s=operator_s)],
            Release("plan", lots=(Lot("P", "WO1", 40),)),
        )
        return Simulation(simpy.Environment(), net, random.Random(1)).run(1e6)

    assert done_in(None, None) == 20 * 60  # 40 boards on two jigs
    assert done_in(1, None) == 40 * 60  # one operator for the whole job: one jig's worth
    assert done_in(1, 10) == 20 * 60 + 10  # loads staggered by 10 s: the second jig ends 10 s later
    assert done_in(2, None) == 20 * 60


def test_the_plant_files_operators_on_machines_reach_the_model(plant: Plant) -> None:
    from sim.plan import load_plan
    from sim.plant import build_network

    net = build_network(plant, load_plan(Path(plant.path).parent / "plans" / "jincheon-week.toml"), 168.0)
    fct, ft, assy = net.stations["FCT"], net.stations["FT"], net.stations["ASSY"]
    assert (fct.servers, fct.operators, fct.operator_s) == (4, 2, 60.0)  # 4 jigs, 2 operators loading 1 min
    assert (ft.servers, ft.operators, ft.operator_s) == (2, 2, None)  # testers adjusted by hand throughout
    assert (assy.servers, assy.operators) == (4, None)  # operators are the servers of a manual station


def test_operator_min_without_operators_is_refused(tmp_path: Path) -> None:
    import pytest

    from line.config import load_plant
    from line.errors import ConfigError
    from tests.conftest import PLANT_FILE

    f = tmp_path / "plant.toml"
    f.write_text(PLANT_FILE.read_text().replace('kind = "spi"\n', 'kind = "spi"\noperator_min = 0.5\n', 1))
    with pytest.raises(ConfigError, match=r"stations.SPI.operator_min: needs operators"):
        load_plant(f)


def test_repair_technicians_queue_the_failed_units(plant: Plant) -> None:
    """Unlimited repair (the default) repairs every failed unit at once; with the plant file's
    [rework] technicians they wait for one. Ten boards, every first test fails, an hour's repair."""
    from dataclasses import replace

    net = single_product(
        [StationSpec("FCT", {"*": constant(60)}, inspects=True, fpy={"P": 0.0})],
        Release("plan", lots=(Lot("P", "WO1", 10),)),
    )
    net = replace(net, repair=constant(3600), retest_pass=1.0)

    def makespan(technicians: int | None) -> float:
        n = replace(net, repair_technicians=technicians)
        return Simulation(simpy.Environment(), n, random.Random(1)).run(1e6)

    assert makespan(None) == 600 + 3600 + 60  # the last board: tested at 600, repaired by 4200, retested
    assert makespan(1) == 60 + 10 * 3600 + 60  # one technician: ten hours of repairs in a row
    assert makespan(2) == 60 + 5 * 3600 + 60 + 60  # two: five each, the last retest queues behind one

    from sim.plan import load_plan
    from sim.plant import build_network

    week = load_plan(Path(plant.path).parent / "plans" / "jincheon-week.toml")
    assert build_network(plant, week, 168.0).repair_technicians is None  # the reference plant: unlimited


def test_aging_racks_start_when_loaded_and_units_leave_when_their_time_is_done() -> None:
    """Two racks of 4 slots, a unit every 5 min, burn-in 60 min. One rack is loaded at a time and
    starts when full (loaded 5-20 min: its units leave at 80, not 60 after each was loaded); the
    second, loaded 25-40, starts at 40. A partly loaded rack starts 30 min after its first unit."""
    def exits(n: int, rack: int | None, wait_s: float = 1800) -> list[float]:
        net = single_product(
            [StationSpec("IN", {"*": constant(300)}),
             StationSpec("AGING", {"*": constant(3600)}, servers=2, rack=rack, rack_wait_s=wait_s,
                         follows_clock=False)],
            Release("plan", lots=(Lot("P", "WO1", n),)),
        )  # fmt: skip
        sim = Simulation(simpy.Environment(), net, random.Random(1))
        out: list[float] = []
        leave = sim._leave

        def record(unit: Any, scrapped: bool) -> None:
            out.append(sim.env.now)
            leave(unit, scrapped)

        sim._leave = record  # type: ignore[method-assign]
        sim.run(1e6)
        return out

    assert exits(8, 4) == [80 * 60] * 4 + [100 * 60] * 4  # whole racks: loaded 5-20 and 25-40 min
    assert exits(2, 4) == [(5 + 30 + 60) * 60] * 2  # a part rack waits 30 min for more, then starts
    assert exits(2, None) == [65 * 60, 70 * 60]  # slot by slot (racks not set): each on its own


def test_rack_slots_from_the_plant_file(tmp_path: Path) -> None:
    import pytest

    from line.config import load_plant
    from line.errors import ConfigError
    from sim.plan import load_plan
    from sim.plant import build_network
    from tests.conftest import PLANT_FILE

    text = PLANT_FILE.read_text()
    assert "slots = 240 " in text
    f = tmp_path / "plant.toml"
    (tmp_path / "plans").symlink_to(PLANT_FILE.parent / "plans")
    f.write_text(text.replace("slots = 240 ", "slots = 240\nrack_slots = 60\nrack_wait_min = 45\n#", 1))
    aging = build_network(load_plant(f), load_plan(tmp_path / "plans" / "jincheon-week.toml"), 168.0).stations["AGING"]
    assert (aging.servers, aging.rack, aging.rack_wait_s) == (4, 60, 45 * 60)  # four racks of 60
    f.write_text(text.replace("slots = 240 ", "slots = 240\nrack_slots = 70\n#", 1))
    with pytest.raises(ConfigError, match=r"stations.AGING.rack_slots: 70 does not divide the station's 240 slots"):
        load_plant(f)
    f.write_text(text.replace('kind = "insertion"\n', 'kind = "insertion"\nrack_slots = 5\n', 1))
    with pytest.raises(ConfigError, match=r"stations.INSERT.rack_slots: not a parameter of a 'insertion' station"):
        load_plant(f)


def test_a_plans_lots_are_jobs_with_a_setup_each() -> None:
    """lot_size changes the result: a station with setups (print, mount, assembly) sets up for
    every lot, also of the same product (its program, the first article), not only on a product
    change. Eight boards, 60 s each, a 10-minute setup: in two lots of four, one setup more."""
    station = StationSpec("PRINT", {"*": constant(60)}, setup=constant(600))

    def makespan(lots: tuple[Lot, ...]) -> float:
        net = single_product([station], Release("plan", lots=lots))
        return Simulation(simpy.Environment(), net, random.Random(1)).run(1e6)

    one = makespan((Lot("P", "WO1", 8),))
    two = makespan((Lot("P", "WO1", 4), Lot("P", "WO1", 4)))
    assert one == 8 * 60 and two == 8 * 60 + 600  # the first lot needs none: the line starts set up


def test_lot_size_in_a_plan_file_changes_the_simulated_week(plant: Plant) -> None:
    from sim.plan import load_plan
    from sim.replicate import run_once
    from sim.scenarios import scenario_from_plan

    week = load_plan(Path(plant.path).parent / "plans" / "jincheon-week.toml")
    whole = week.model_copy(update={"work_orders": [wo.model_copy(update={"lot_size": None}) for wo in week.work_orders]})
    runs = []
    for plan in (week, whole):
        sc = scenario_from_plan(plant, plan, "week", {}).scenario
        runs.append(run_once(sc.network, 7, sc.hours))
    setups = [r["stations"]["PRINT"]["time_split"]["setup"] for r in runs]
    assert setups[0] > setups[1]  # lots of 12-45 set up more often than whole orders


def test_a_repaired_unit_of_an_earlier_lot_costs_no_setup() -> None:
    """A unit of lot 1 back from repair after lot 2 has started is worked in between without a
    setup, and lot 2 goes on without one either: only a later lot is a new job."""
    net = single_product(
        [StationSpec("T", {"*": constant(60)}, inspects=True, fpy={"P": 0.5}),
         StationSpec("PRINT", {"*": constant(60)}, setup=constant(600))],
        Release("plan", lots=(Lot("P", "WO1", 6), Lot("P", "WO1", 6))),
    )  # fmt: skip
    from dataclasses import replace

    net = replace(net, retest_pass=1.0)
    sim = Simulation(simpy.Environment(), net, random.Random(2))
    sim.run(1e6)
    setup_s = sim.stations["PRINT"].split[1] * 1  # seconds in setup (SETUP is state 1)
    assert setup_s == 600  # one setup: for lot 2 only, stragglers of lot 1 took none
