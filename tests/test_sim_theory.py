"""The simulator against queueing theory: the exact value must lie in the 95 % interval of the
replications (M/M/1, M/M/c, a Jackson tandem, CONWIP lines from Factory Physics), and Little's
law must hold on every run. Times are in seconds; one "time unit" below is TU seconds."""

from __future__ import annotations

import math

import pytest

from sim.dists import constant, exponential
from sim.network import Release, StationSpec, single_product
from sim.replicate import Scenario, replication_seeds, run_replications, scenario_report

TU = 60.0  # one time unit of the textbook formulas, in seconds
R = 10  # replications


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean time in system W of an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    tail = a**c / math.factorial(c) / (1 - rho)
    p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    return p_wait / (c * mu - lam) + 1 / mu


def _report(net, hours: float, warmup_h: float, seed: int = 11) -> dict:  # type: ignore[no-untyped-def]
    sc = Scenario("t", net, hours, warmup_h)
    seeds = replication_seeds(seed, R)
    reps = run_replications([sc], seeds, jobs=2)[0]
    for r in reps:
        _assert_little(r)
    return scenario_report(sc, seeds, reps)


def _assert_little(fig: dict) -> None:  # type: ignore[type-arg]
    """L = λW on every replication (long steady-state runs: within 3 %)."""
    lam = (fig["completed"] + fig["scrapped"]) / fig["measured_h"]
    assert fig["wip"] == pytest.approx(lam * fig["lead_time_h"]["mean"], rel=0.03)


def _covers(fig: dict, exact: float) -> None:  # type: ignore[type-arg]
    lo, hi = fig["ci95"]
    assert lo <= exact <= hi, f"exact {exact:.4f} outside the 95 % interval [{lo:.4f}, {hi:.4f}]"


def _arrivals(mean_tu: float) -> Release:
    return Release("arrivals", arrival=exponential(mean_tu * TU), mix={"P": 1.0})


def test_mm1() -> None:
    lam, mu = 0.8, 1.0
    net = single_product([StationSpec("A", {"*": exponential(TU / mu)})], _arrivals(1 / lam))
    rep = _report(net, hours=400, warmup_h=20)
    _covers(rep["wip"], lam / (mu - lam))  # L = ρ/(1-ρ) = 4
    _covers(rep["lead_time_h"]["mean"], 1 / (mu - lam) * TU / 3600)  # W = 5 TU
    _covers(rep["stations"]["A"]["utilization"], lam / mu)
    _covers(rep["throughput_per_hour"], lam * 3600 / TU)


def test_mmc() -> None:
    lam, mu, c = 2.4, 1.0, 3
    net = single_product([StationSpec("A", {"*": exponential(TU / mu)}, servers=c)], _arrivals(1 / lam))
    rep = _report(net, hours=300, warmup_h=20)
    w = erlang_c_wait(lam, mu, c)
    _covers(rep["lead_time_h"]["mean"], w * TU / 3600)
    _covers(rep["wip"], lam * w)
    _covers(rep["stations"]["A"]["utilization"], lam / (c * mu))


def test_jackson_tandem_mm1_then_mm2() -> None:
    lam = 1.0
    a = StationSpec("A", {"*": exponential(TU / 1.25)})
    b = StationSpec("B", {"*": exponential(TU / 0.6)}, servers=2)
    rep = _report(single_product([a, b], _arrivals(1 / lam)), hours=300, warmup_h=20)
    w = 1 / (1.25 - lam) + erlang_c_wait(lam, 0.6, 2)  # product form: the stations' W add up
    _covers(rep["lead_time_h"]["mean"], w * TU / 3600)
    _covers(rep["wip"], lam * w)


def _conwip(times: list[float], w: int, expo: bool, hours: float = 200) -> dict:  # type: ignore[type-arg]
    make = exponential if expo else constant
    stations = [StationSpec(f"S{i}", {"*": make(t * TU)}) for i, t in enumerate(times)]
    net = single_product(stations, Release("conwip", wip_cap=w, mix={"P": 1.0}))
    return _report(net, hours=hours, warmup_h=10)


@pytest.mark.parametrize("w", [1, 2, 4])
def test_conwip_best_case_deterministic(w: int) -> None:
    # Factory Physics best case: TH = min(w/T0, rb), CT = max(T0, w/rb); zero variability
    times = [1.0, 2.0, 1.5]
    t0, rb = sum(times), 1 / max(times)
    rep = _conwip(times, w, expo=False)
    per_h = 3600 / TU
    assert rep["throughput_per_hour"]["mean"] == pytest.approx(min(w / t0, rb) * per_h, rel=0.005)
    assert rep["lead_time_h"]["mean"]["mean"] * 3600 / TU == pytest.approx(max(t0, w / rb), rel=0.005)
    assert rep["wip"]["mean"] == pytest.approx(w, rel=0.01)


@pytest.mark.parametrize("w", [3, 6])
def test_conwip_practical_worst_case_balanced_exponential(w: int) -> None:
    # PWC: a balanced line of single exponential stations, TH = w/(W0 + w - 1) rb, CT = T0 + (w-1)/rb
    times = [1.0, 1.0, 1.0, 1.0]
    t0, rb = sum(times), 1.0
    w0 = rb * t0
    rep = _conwip(times, w, expo=True, hours=400)
    _covers(rep["throughput_per_hour"], w / (w0 + w - 1) * rb * 3600 / TU)
    _covers(rep["lead_time_h"]["mean"], (t0 + (w - 1) / rb) * TU / 3600)


@pytest.mark.parametrize("expo", [False, True])
def test_conwip_between_worst_and_best_case(expo: bool) -> None:
    # any line lies between the worst case (TH = 1/T0) and the best case (TH = min(w/T0, rb))
    times, w = [1.0, 2.0, 1.5], 3
    t0, rb = sum(times), 1 / max(times)
    th = _conwip(times, w, expo=expo)["throughput_per_hour"]["mean"] * TU / 3600
    assert 1 / t0 <= th <= min(w / t0, rb) * 1.0001


def test_availability_lowers_capacity_as_factory_physics_says() -> None:
    # a saturated station with failures in busy time: TH = A / t0 with A = MTBF / (MTBF + MTTR)
    mtbf, mttr, t0 = 50.0, 10.0, 1.0
    st = StationSpec("A", {"*": constant(t0 * TU)}, mtbf_s=mtbf * TU, mttr=exponential(mttr * TU))
    rep = _report(single_product([st], Release("conwip", wip_cap=2, mix={"P": 1.0})), hours=600, warmup_h=10)
    _covers(rep["throughput_per_hour"], mtbf / (mtbf + mttr) / t0 * 3600 / TU)
    _covers(rep["stations"]["A"]["time_split"]["down"], mttr / (mtbf + mttr))
