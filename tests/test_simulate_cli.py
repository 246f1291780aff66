"""`linemon simulate` as a user runs it: plans, what-ifs, JSON, errors, parallel runs, a Dask
cluster, and a simulated week written into a real SQLite store."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
import simpy

from sim.engine import Simulation
from sim.plan import load_plan
from sim.plant import build_network, plan_start
from sim.records_out import RecordSink
from store.sqlite import SqliteStore
from tests.conftest import PLANT_FILE
from tests.test_cli import linemon

PLANS = Path(__file__).parent.parent / "config" / "plans"
WEEK = str(PLANS / "jincheon-week.toml")


def _sim_json(*args: str) -> dict:  # type: ignore[type-arg]
    out = linemon("simulate", *args, "--config", str(PLANT_FILE), "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _pair(v: dict) -> bool:  # type: ignore[type-arg]
    return (
        set(v) == {"mean", "ci95", "min", "median", "max", "n"}
        and 0 <= v["ci95"][0] <= v["mean"] <= v["ci95"][1]
        and v["min"] <= v["median"] <= v["max"]
    )


def test_every_example_plan_runs_and_json_has_the_documented_shape() -> None:
    for plan in sorted(PLANS.glob("*.toml")):
        rep = _sim_json(str(plan), "--replications", "3", "--jobs", "2")
        assert rep["replications"] == 3 and len(rep["seeds"]) == 3
        assert _pair(rep["throughput_per_hour"]) and _pair(rep["wip"]) and _pair(rep["makespan_h"])
        plant_products = json.loads(linemon("check-config", str(PLANT_FILE), "--json").stdout)["products"]
        assert set(rep["products"]) == set(plant_products)
        for p in rep["products"].values():
            assert _pair(p["completed"])
            assert all(_pair(v) and 0 <= v["mean"] <= 1 for v in p["fpy"].values())
            if p.get("lead_time_h"):  # the flow factor the plant file's [planning] can be set from
                assert p["flow_factor"] == pytest.approx(
                    p["lead_time_h"]["mean"]["mean"] / p["raw_process_h"]
                )
        st = rep["stations"]["MOUNT"]
        assert _pair(st["utilization"])
        assert set(st["time_split"]) == {"busy", "setup", "blocked", "starved", "down", "off_shift"}
        b = rep["bottleneck"]
        assert b["station"] in rep["stations"] and _pair(b["sole_share"][b["station"]])


def test_what_if_and_scenarios_against_baseline(tmp_path: Path) -> None:
    out = _sim_json(WEEK, WEEK, "--replications", "4", "--set", "stations.FT.machines=4")
    base, more = out["scenarios"]
    assert out["baseline"] == base["name"]
    assert base["seeds"] == more["seeds"]  # common random numbers: a paired comparison
    # the --set applies to every scenario: both have 4 final-test machines, identical seeds -> equal
    assert more["versus_baseline"]["makespan_h"]["mean"] == pytest.approx(0.0, abs=1e-9)
    what_if = tmp_path / "ft4.toml"
    what_if.write_text(Path(WEEK).read_text() + '\n[set]\n"stations.FT.machines" = 1\n')
    out = _sim_json(WEEK, str(what_if), "--replications", "4")
    one_tester = out["scenarios"][1]
    assert one_tester["bottleneck"]["station"] == "FT"  # one tester instead of two starves the line
    diff = one_tester["versus_baseline"]
    assert diff["throughput_per_hour"]["ci95"][1] < 0 and diff["lead_time_h_mean"]["ci95"][0] > 0


def test_bad_plans_and_overrides_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[plan]\nname = "x"\nstart = 2026-11-23T08:30:00+09:00\nrelease = "plan"\n'
        '[[work_orders]]\nid = "W"\nproduct = "XX-1"\nquantity = 0\n'
    )
    out = linemon("simulate", str(bad), "--config", str(PLANT_FILE))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{bad}: work_orders[0].quantity: Input should be greater than or equal to 1" in out.stderr
    bad.write_text(
        '[plan]\nname = "x"\nstart = 2026-11-23T08:30:00+09:00\n[[work_orders]]\nid = "W"\nproduct = "XX-1"\nquantity = 5\n'
    )
    out = linemon("simulate", str(bad), "--config", str(PLANT_FILE))
    assert out.returncode == 2 and "work_orders[0].product: unknown product 'XX-1'" in out.stderr
    out = linemon("simulate", WEEK, "--config", str(PLANT_FILE), "--set", "stations.MOUNT.machinez=2")
    assert out.returncode == 2 and "stations.MOUNT.machinez" in out.stderr and "Traceback" not in out.stderr
    out = linemon("simulate", WEEK, "--config", str(PLANT_FILE), "--set", "stations.MOUNT.machines=0")
    assert out.returncode == 2 and "stations.MOUNT.machines" in out.stderr
    out = linemon("simulate", str(tmp_path / "none.toml"), "--config", str(PLANT_FILE))
    assert out.returncode == 2 and "none.toml: file not found" in out.stderr


def test_replications_on_a_local_dask_cluster() -> None:
    distributed = pytest.importorskip("distributed")  # a dev dependency: installed by `make test`
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = _sim_json(WEEK, "--replications", "4", "--dask", cluster.scheduler_address)
    local = _sim_json(WEEK, "--replications", "4")
    assert on_dask["seeds"] == local["seeds"]
    assert on_dask["throughput_per_hour"] == local["throughput_per_hour"]  # same seeds, same figures


def test_a_simulated_week_in_the_store_matches_the_simulators_counts(tmp_path: Path, plant) -> None:  # type: ignore[no-untyped-def]
    plan = load_plan(WEEK)
    start = plan_start(plan, plant)
    store = SqliteStore(tmp_path / "sim.db")
    sink = RecordSink(start, store.write, random.Random(1))
    sim = Simulation(simpy.Environment(), build_network(plant, plan, 24 * 14), random.Random(7), sink=sink)
    end = sim.run(24 * 14 * 3600)
    sink.close()
    stations, _ = store.yield_tallies(start, start + timedelta(seconds=end + 1))
    for sid, st in sim.stations.items():
        for code, n in st.first.items():
            tally = stations[(code, sid)]
            assert (tally.units, tally.first_pass) == (n, st.first_pass[code]), (code, sid)
    assert sum(t.units for (c, s), t in stations.items() if s == "FT") == sum(
        sim.stations["FT"].first.values()
    )
    assert store.result_count() == sink.written - _state_count(store)


def _state_count(store: SqliteStore) -> int:
    with store._conn() as conn:  # the store's own connection: counting rows is not part of its interface
        return int(conn.execute("SELECT count(*) FROM states").fetchone()[0])


def test_plan_time_distributions_crews_and_arrivals(tmp_path: Path, plant) -> None:  # type: ignore[no-untyped-def]
    from sim.dists import constant, empirical, triangular
    from sim.plan import plan_problems

    f = tmp_path / "what-if.toml"
    f.write_text(
        '[plan]\nname = "t"\nstart = 2026-11-23T08:30:00\nrelease = "arrivals"\nhours = 48\n'
        'arrival = { dist = "triangular", low = 2, mode = 4, high = 9 }\nmix = { FF-50 = 1, MR-1200 = 1 }\n'
        '[times.FCT]\n"*" = { dist = "empirical", values = [1, 2, 3] }\n"MR-1200" = 10\n'
        '[crews.assembly]\nsize = 5\nstations = ["ASSY", "PACK"]\n'
    )
    plan = load_plan(f)
    assert plan_problems(plan, plant) == []
    net = build_network(plant, plan, 48)
    assert net.stations["FCT"].time_for("FF-50") == empirical([60, 120, 180])
    assert net.stations["FCT"].time_for("MR-1200") == constant(600)
    assert net.release.arrival == triangular(120, 240, 540)
    assert net.crews == {"assembly": 5} and net.stations["PACK"].crew == "assembly"
    assert plan_start(plan, plant).utcoffset() == timedelta(hours=9)  # no offset: plant-local
    rep = _sim_json(str(f), "--replications", "2")
    assert rep["completed"]["mean"] > 0 and len(rep["wip_over_time"]) == 48
    f.write_text(f.read_text().replace('"MR-1200" = 10', '"MR-1200" = { dist = "lognormal", mean = 3 }'))
    out = linemon("simulate", str(f), "--config", str(PLANT_FILE))
    assert (
        out.returncode == 2 and f"{f}: times.FCT.MR-1200: a lognormal distribution needs 'cv'" in out.stderr
    )


def test_compare_whatif_reports_progress_and_a_paired_difference(plant) -> None:  # type: ignore[no-untyped-def]
    from sim.scenarios import compare_whatif

    seen: list[tuple[int, int, str]] = []
    out = compare_whatif(plant, WEEK, {"stations.FT.machines": 1}, reps=2, progress=seen.append)
    assert [s[:2] for s in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert out["baseline"]["seeds"] == out["whatif"]["seeds"]
    assert out["whatif"]["bottleneck"]["station"] == "FT"
    assert out["whatif"]["versus_baseline"]["makespan_h"]["mean"] > 0  # one tester: the week takes longer


def test_the_text_report_gives_each_products_flow_factor(plant) -> None:  # type: ignore[no-untyped-def]
    """Lead time over the routing's raw process time in the scenario: FF-50's is the plant file's
    station times to PACK (8.6 h, as the andon uses) plus the rides through the two ovens (9 min);
    a plan whose [times] change a step changes it by that much."""
    from linemon.simulate import as_text
    from sim.plan import load_plan
    from sim.plant import build_network
    from sim.scenarios import add_flow_factors, raw_process_hours
    from stations.models import raw_process_times

    week = load_plan(PLANT_FILE.parent / "plans" / "jincheon-week.toml")
    net = build_network(plant, week, 168.0)
    raw = raw_process_hours(net, "FF-50")
    plant_file_raw = raw_process_times(plant, {"FF-50": "PACK"})["FF-50"].total_seconds() / 3600
    assert raw == pytest.approx(plant_file_raw + (5 + 4) / 60)
    slower = week.model_copy(update={"times": {"FCT": {"FF-50": {"dist": "constant", "mean": 30.0}}}})
    fct = net.stations["FCT"].time_for("FF-50").mean
    assert raw_process_hours(build_network(plant, slower, 168.0), "FF-50") == pytest.approx(raw + (1800 - fct) / 3600)
    rep = {"name": "x", "replications": 1, "seeds": [1], "bottleneck": {"station": None}, "stations": {},
           "products": {"FF-50": {"completed": {"mean": 10.0}, "lead_time_h": {"mean": {"mean": 3 * raw}}},
                        "GPS-70": {"completed": {"mean": 0.0}, "lead_time_h": None}}}  # fmt: skip
    add_flow_factors(rep, net)
    assert rep["products"]["FF-50"]["flow_factor"] == pytest.approx(3.0)
    assert rep["products"]["GPS-70"]["flow_factor"] is None
    text = as_text(rep)
    assert f"flow factor  3.0 (raw {raw:.1f} h)" in text and 8 < raw < 9
    assert "repair        unlimited: every failed unit is repaired at once (no [rework] technicians)" in text


def test_a_paired_difference_says_whether_it_is_significant() -> None:
    import math

    import numpy as np
    from scipy import stats as st

    from linemon.simulate import verdict
    from sim.stats import paired_difference

    clear = paired_difference([1.0, 1.2, 0.9, 1.1, 1.0])
    assert clear["significant"] and clear["replications_needed"] is None
    assert verdict(clear).startswith("significant")
    noisy = [0.5, -0.3, 0.8, -0.1, 0.2]  # mean 0.22, sd 0.44: the 95 % interval holds 0
    d = paired_difference(noisy)
    assert not d["significant"] and d["ci95"][0] < 0 < d["ci95"][1]
    s, m = float(np.std(noisy, ddof=1)), float(np.mean(noisy))
    n = d["replications_needed"]  # the smallest n whose t interval half-width is below |mean|
    assert st.t.ppf(0.975, n - 1) * s / math.sqrt(n) < abs(m) <= st.t.ppf(0.975, n - 2) * s / math.sqrt(n - 1)
    assert f"about {n} replications" in verdict(d)
    assert paired_difference([0.0, 0.0, 0.0])["replications_needed"] is None


def test_weeks_repeats_the_plan_a_week_apart() -> None:
    from sim.plan import load_plan, repeat_weeks

    week = load_plan(WEEK)
    three = repeat_weeks(week, 3)
    n = len(week.work_orders)
    assert len(three.work_orders) == 3 * n and three.work_orders[n].id == f"{week.work_orders[0].id}-W2"
    assert [wo.release_h for wo in three.work_orders[n::n]] == [168.0, 336.0]
    assert three.work_orders[2 * n].due == week.plan.due + timedelta(weeks=2)
    one, two = _sim_json(WEEK, "--replications", "1"), _sim_json(WEEK, "--replications", "1", "--weeks", "2")
    made = sum(p["completed"]["mean"] for p in one["products"].values())
    made2 = sum(p["completed"]["mean"] for p in two["products"].values())
    assert 1.9 * made < made2 < 2.1 * made  # twice the orders, each week's at its week's start
    assert two["makespan_h"]["mean"] > 168 + 0.8 * one["makespan_h"]["mean"]
    bad = linemon("simulate", WEEK, "--weeks", "0", "--config", str(PLANT_FILE))
    assert bad.returncode == 2 and "--weeks must be at least 1" in bad.stderr


def test_a_narrow_interval_is_shown_with_the_decimals_that_tell_its_ends_apart() -> None:
    """A long plan's throughput can vary in the third decimal between runs: two decimals printed
    it as 4.36 [4.36, 4.36], as if every run gave one value. Shown with the decimals its
    width needs; identical runs are said to be identical."""
    from linemon.simulate import _fmt
    from sim.stats import decimals_for, mean_ci

    narrow = mean_ci([4.3581, 4.3603, 4.3592])  # t(0.975, 2) s / sqrt(3) = 0.0027
    assert decimals_for(narrow) == 3 and _fmt(narrow) == "4.359  [4.356, 4.362]  runs 4.358-4.360"
    same = mean_ci([4.36, 4.36, 4.36])
    assert _fmt(same) == "4.36  [4.36, 4.36]  every run the same"
    assert decimals_for(mean_ci([2.39, 6.2])) == 2


def test_a_plan_names_its_what_ifs_and_one_run_compares_them(tmp_path: Path) -> None:
    """[[scenarios]] in the plan file: each is run beside the plan on the same seeds and compared
    with it (paired), as an engineer asks: "what does a 5th assembler give this week?"."""
    plan = tmp_path / "week-whatifs.toml"
    plan.write_text(Path(WEEK).read_text() + '''
[[scenarios]]
name = "5th ASSY operator"
set = { "ASSY.operators" = 5 }

[[scenarios]]
name = "one final tester"
set = { "stations.FT.machines" = 1 }
''')
    out = _sim_json(str(plan), "--replications", "3")
    names = [s["name"] for s in out["scenarios"]]
    assert out["baseline"] == names[0] == "Jincheon mix, week 48"
    assert names[1:] == ["5th ASSY operator", "one final tester"]
    base, fifth, one_ft = out["scenarios"]
    assert "versus_baseline" in fifth and "versus_baseline" not in base
    assert base["repair"] == {"technicians": None}  # unlimited repair, and the report says so
    assert fifth["stations"]["ASSY"]["utilization"]["mean"] < base["stations"]["ASSY"]["utilization"]["mean"]
    assert one_ft["versus_baseline"]["makespan_h"]["mean"] > 0 and one_ft["bottleneck"]["station"] == "FT"
    plan.write_text(Path(WEEK).read_text() + '[[scenarios]]\nname = "typo"\nset = { "ASSY.operatorz" = 5 }\n')
    bad = linemon("simulate", str(plan), "--replications", "1", "--config", str(PLANT_FILE))
    assert bad.returncode == 2 and "[[scenarios]] 'typo'" in bad.stderr and "operatorz" in bad.stderr
