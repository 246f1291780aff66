"""The simulator event by event on small deterministic cases, and its properties on the plant."""

from __future__ import annotations

import random

import pytest
import simpy

from sim.bottleneck import BottleneckTally, momentary_bottlenecks
from sim.clock import WorkClock
from sim.dists import constant, dist_from_spec, empirical, lognormal, triangular
from sim.engine import Simulation
from sim.network import Lot, Network, Release, StationSpec, single_product
from sim.results import figures
from sim.stats import Streaming, mean_ci, summarise


def _run(net: Network, until: float = 1e6, seed: int = 1) -> tuple[Simulation, dict]:
    sim = Simulation(simpy.Environment(), net, random.Random(seed))
    end = sim.run(until)
    return sim, figures(sim, end)


def _lot(n: int, product: str = "P") -> Release:
    return Release("plan", lots=(Lot(product, "WO1", n),))


class Exits:
    """Records when units leave, by wrapping the simulation's exit."""

    def __init__(self, sim: Simulation) -> None:
        self.times: list[float] = []
        original = sim._leave

        def leave(unit, scrapped):  # type: ignore[no-untyped-def]
            self.times.append(sim.env.now)
            original(unit, scrapped)

        sim._leave = leave  # type: ignore[method-assign]


def test_blocking_after_service_event_by_event() -> None:
    # A (1 s) feeds B (3 s) through a buffer of one place; 4 units at t=0.
    # A: u1 0-1, u2 1-2 (into buffer), u3 2-3 then blocked 3-4, u4 4-5 then blocked 5-7.
    # B: u1 1-4, u2 4-7, u3 7-10, u4 10-13.
    net = single_product(
        [StationSpec("A", {"*": constant(1)}), StationSpec("B", {"*": constant(3)}, buffer=1)], _lot(4)
    )
    sim = Simulation(simpy.Environment(), net, random.Random(0), wip_interval_s=4)
    exits = Exits(sim)
    end = sim.run(100)
    fig = figures(sim, end)
    assert exits.times == [4, 7, 10, 13]
    # WIP over time: 4 units in [0,4); 3 until 7 then 2 in [4,8); 2 until 10 then 1 in [8,12); 1 in [12,13)
    assert fig["wip_over_time"] == {"0": 4.0, "0.00111111": 2.75, "0.00222222": 1.5, "0.00333333": 1.0}
    assert end == 13 and fig["makespan_h"] == pytest.approx(13 / 3600)
    a = fig["stations"]["A"]["time_split"]
    assert a["busy"] == pytest.approx(4 / 13) and a["blocked"] == pytest.approx(3 / 13)
    assert a["starved"] == pytest.approx(6 / 13)
    assert fig["stations"]["B"]["time_split"]["starved"] == pytest.approx(1 / 13)
    # Little's law holds exactly when every unit has left: WIP area = sum of lead times
    assert fig["wip"] * 13 == pytest.approx(sum(exits.times))
    assert fig["lead_time_h"]["mean"] == pytest.approx(34 / 4 / 3600)


def test_setup_on_product_change_and_pairs() -> None:
    st = StationSpec("A", {"*": constant(1)}, setup=constant(5), setup_pairs={("Q", "R"): constant(2)})
    lots = (Lot("P", "W1", 2), Lot("Q", "W2", 1), Lot("R", "W3", 1))
    net = Network({"A": st}, {p: ("A",) for p in "PQR"}, Release("plan", lots=lots))
    sim = Simulation(simpy.Environment(), net, random.Random(0))
    exits = Exits(sim)
    sim.run(100)
    # P 0-1, P 1-2, setup 2-7, Q 7-8, pair setup 8-10, R 10-11
    assert exits.times == [1, 2, 8, 11]
    assert figures(sim, 11)["stations"]["A"]["time_split"]["setup"] == pytest.approx(7 / 11)


def test_a_shared_crew_serialises_the_stations_it_staffs() -> None:
    a = StationSpec("A", {"*": constant(2)}, crew="team")
    b = StationSpec("B", {"*": constant(2)}, crew="team")
    lots = (Lot("P", "W1", 1), Lot("Q", "W2", 1))
    for crews, expected in (({"team": 1}, [2, 4]), ({"team": 2}, [2, 2])):
        net = Network({"A": a, "B": b}, {"P": ("A",), "Q": ("B",)}, Release("plan", lots=lots), crews=crews)
        sim = Simulation(simpy.Environment(), net, random.Random(0))
        exits = Exits(sim)
        sim.run(100)
        assert exits.times == expected


def test_work_stops_off_shift_and_resumes() -> None:
    clock = WorkClock(((0, 10), (20, 30)))
    net = Network({"A": StationSpec("A", {"*": constant(15)})}, {"P": ("A",)}, _lot(1), clock=clock)
    sim = Simulation(simpy.Environment(), net, random.Random(0))
    exits = Exits(sim)
    end = sim.run(40)
    assert exits.times == [25]
    split = figures(sim, end)["stations"]["A"]["time_split"]
    assert split["busy"] == pytest.approx(15 / 25) and split["off_shift"] == pytest.approx(10 / 25)


def test_pipeline_pitch_and_transit() -> None:
    oven = StationSpec("OVEN", {"*": constant(2)}, transit_s=10)
    net = single_product([oven], _lot(3))
    sim = Simulation(simpy.Environment(), net, random.Random(0))
    exits = Exits(sim)
    sim.run(100)
    assert exits.times == [12, 14, 16]  # loaded every 2 s, 10 s inside, several boards at once


def test_failed_units_are_repaired_retested_or_scrapped() -> None:
    insp = StationSpec("T", {"*": constant(1)}, inspects=True, fpy={"P": 0.5}, defects=(("open", 1.0),))
    net = Network({"T": insp}, {"P": ("T",)}, _lot(400), retest_pass=0.5, max_attempts=2, repair=constant(10))
    sim, fig = _run(net)
    # a unit is scrapped after failing twice: P = 0.5 * 0.5
    assert fig["completed"] + fig["scrapped"] == 400 and sim.wip == 0
    assert fig["scrapped"] / 400 == pytest.approx(0.25, abs=0.07)
    assert fig["products"]["P"]["fpy"]["T"] == pytest.approx(0.5, abs=0.08)


def test_same_seed_same_result_and_seeds_differ(plant) -> None:  # type: ignore[no-untyped-def]
    from sim.plan import PlanFile
    from sim.plant import build_network

    plan = PlanFile.model_validate(
        {
            "plan": {"name": "t", "start": "2026-11-23T08:30:00+09:00", "release": "conwip", "wip_cap": 30,
                     "mix": {"FF-50": 1, "GPS-70": 1, "MR-1200": 0.5}, "hours": 72},
        }
    )  # fmt: skip
    net = build_network(plant, plan, 72)
    _, a = _run(net, 72 * 3600, seed=5)
    _, b = _run(net, 72 * 3600, seed=5)
    _, c = _run(net, 72 * 3600, seed=6)
    assert a == b and a != c


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conservation_and_fpy_bounds_on_the_plant(plant, seed: int) -> None:  # type: ignore[no-untyped-def]
    from sim.plan import PlanFile
    from sim.plant import build_network

    plan = PlanFile.model_validate(
        {
            "plan": {"name": "t", "start": "2026-11-23T08:30:00+09:00", "release": "arrivals",
                     "arrival_mean_min": 3.0, "mix": {c: 1 for c in plant.spec.products}, "hours": 60},
        }
    )  # fmt: skip
    sim, fig = _run(build_network(plant, plan, 60), 60 * 3600, seed)
    assert sim.released == sim.left + sim.wip  # released = completed + scrapped + WIP
    assert sim.left == fig["completed"] + fig["scrapped"]
    for p in fig["products"].values():
        assert all(0 <= v <= 1 for v in p["fpy"].values())
    for s in fig["stations"].values():
        assert sum(s["time_split"].values()) == pytest.approx(1)
        assert 0 <= s["utilization"] <= 1


def test_momentary_bottleneck_sole_and_shifting() -> None:
    # A active 0-10, B active 8-20 (longer): B is the bottleneck from 8; the overlap 8-10 shifts.
    periods = [("A", 0.0, 10.0), ("B", 8.0, 20.0), ("A", 20.0, 22.0)]
    reigns = momentary_bottlenecks(periods)
    assert [(periods[k][0], s, e) for k, s, e in reigns] == [("A", 0, 8), ("B", 8, 20), ("A", 20, 22)]
    t = BottleneckTally()
    t.add(periods)
    assert t.observed_s == 22
    assert t.shifting["A"] == pytest.approx(2) and t.shifting["B"] == pytest.approx(2)
    assert t.sole["A"] == pytest.approx(8 + 2) and t.sole["B"] == pytest.approx(10)


def test_work_clock_queries() -> None:
    c = WorkClock(((0, 10), (20, 30)))
    assert c.next_on(5) == 5 and c.next_on(10) == 20 and c.next_on(30) == float("inf")
    assert c.on_until(5) == 10 and c.on_until(15) == 15
    assert c.on_seconds(5, 25) == 10 and c.on_seconds(0, 100) == 20
    with pytest.raises(ValueError):
        WorkClock(((0, 10), (5, 12)))


def test_distributions_have_their_means() -> None:
    rng = random.Random(3)
    for d in (lognormal(10, 0.5), triangular(2, 5, 11), empirical([1, 2, 3, 10])):
        xs = [d.sample(rng) for _ in range(40000)]
        assert sum(xs) / len(xs) == pytest.approx(d.mean, rel=0.02)
    assert dist_from_spec(4, "x") == constant(4)
    with pytest.raises(ValueError, match=r"plan\.t: a lognormal distribution needs 'cv'"):
        dist_from_spec({"dist": "lognormal", "mean": 3}, "plan.t")
    with pytest.raises(ValueError, match="unknown distribution 'weibul'"):
        dist_from_spec({"dist": "weibul"}, "plan.t")


def test_streaming_percentiles_and_summaries() -> None:
    s = Streaming()
    for x in range(1, 1001):
        s.add(float(x))
    assert s.mean == pytest.approx(500.5)
    assert s.percentile(50) == pytest.approx(500, rel=0.01) and s.percentile(90) == pytest.approx(
        900, rel=0.01
    )
    # two runs whose medians fall in one bin still give two figures (a bin centre gave one, and
    # an interval of width 0 over the replications)
    b = Streaming()
    for x in range(1, 1001):
        b.add(x * 1.002)  # the median 501 is in the bin of 500 (478.6-501.2)
    assert b.percentile(50) > s.percentile(50) and b.percentile(50) == pytest.approx(501, rel=0.002)
    ci = mean_ci([1.0, 2.0, 3.0])
    assert ci["mean"] == 2 and ci["ci95"][0] == pytest.approx(2 - 4.303 / 3**0.5, rel=1e-3)
    assert (ci["min"], ci["median"], ci["max"], ci["n"]) == (1.0, 2.0, 3.0, 3)  # the runs' own spread
    out = summarise([{"a": 1, "b": {"c": None}}, {"a": 3, "b": {"c": 0.5}}])
    assert out["a"]["mean"] == 2 and out["b"]["c"] == {"mean": 0.5, "ci95": [0.5, 0.5], "min": 0.5,
                                                       "median": 0.5, "max": 0.5, "n": 1}  # fmt: skip
    # a run's WIP cannot be negative, nor can its interval's lower bound (a paired difference can)
    wip = summarise([{"wip": 0.0}, {"wip": 0.0}, {"wip": 9.0}])["wip"]
    assert wip["ci95"][0] == 0.0 and wip["ci95"][1] > 9 and wip["max"] == 9.0
    assert mean_ci([0.0, 0.0, 9.0])["ci95"][0] < 0


def test_fpy_drift_moves_first_pass_yield_to_its_target() -> None:
    """FPY 0.98 until t = 5,000 s, then a linear ramp to 0.60 over 5,000 s: the first-pass share of
    each phase matches the ramp's mean (binomial 99.9 % bounds); the drift's own value is exact."""
    from sim.network import FpyDrift

    drift = FpyDrift("T", "P", 5_000, 5_000, 0.60)
    assert (drift.at(0.98, 1_000), drift.at(0.98, 7_500), drift.at(0.98, 20_000)) == pytest.approx(
        (0.98, 0.79, 0.60)
    )
    st = StationSpec("T", {"*": constant(1.0)}, inspects=True, fpy={"P": 0.98})
    net = single_product([st], Release("conwip", wip_cap=1, mix={"P": 1.0}))
    net = Network(net.stations, net.routings, net.release, drifts=(drift,))

    class Phases:
        def __init__(self) -> None:
            self.n = [0, 0, 0]
            self.passed = [0, 0, 0]

        def result(
            self, t: float, _st: StationSpec, _s: int, unit: object, passed: bool, _d: list[str]
        ) -> None:
            if getattr(unit, "fails", 0) == 0:
                k = 0 if t <= 5_000 else 1 if t <= 10_000 else 2
                self.n[k] += 1
                self.passed[k] += passed

        def state(self, *_: object) -> None: ...

        def started(self, *_: object) -> None: ...

    sink = Phases()
    Simulation(simpy.Environment(), net, random.Random(5), sink=sink).run(30_000)  # type: ignore[arg-type]
    for k, p in enumerate((0.98, 0.79, 0.60)):
        n = sink.n[k]
        half = 3.3 * (p * (1 - p) / n) ** 0.5
        assert abs(sink.passed[k] / n - p) < half + 0.01, (k, sink.passed[k], n)


def test_the_bottleneck_says_when_it_is_statistically_tied() -> None:
    from sim.replicate import bottleneck_verdict

    def rep(mount: float, assy: float) -> dict:
        return {"bottleneck": {"sole_share": {"MOUNT": mount, "ASSY": assy, "FT": 0.02},
                               "shifting_share": {"MOUNT": 0.05, "ASSY": 0.05}}}  # fmt: skip

    close = bottleneck_verdict([rep(0.30, 0.28), rep(0.25, 0.31), rep(0.36, 0.27)])  # 34 % vs 34 %: no verdict
    assert close["station"] == "MOUNT" and [x["station"] for x in close["tied_with"]] == ["ASSY"]
    assert close["share"]["mean"] == pytest.approx((0.35 + 0.30 + 0.41) / 3)
    lo, hi = close["share"]["ci95"]
    assert lo < close["share"]["mean"] < hi
    rare = bottleneck_verdict([rep(0.50, 0.02), rep(0.20, 0.03)])  # two wild runs: ASSY is still no rival
    assert rare["tied_with"] == []
    clear = bottleneck_verdict([rep(0.50, 0.20), rep(0.52, 0.21), rep(0.49, 0.22)])
    assert clear["station"] == "MOUNT" and clear["tied_with"] == []
    assert bottleneck_verdict([{"bottleneck": {}}])["station"] is None
