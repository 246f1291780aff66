"""Measurement SPC from store to page: measured values get a table of their own (also for a store
made before it), the plant file gives specification limits, capability indices agree with an
independent computation (numpy) and a hand-computed case, the individuals chart is judged against
a frozen baseline, and the QA page in Chromium shows the Cpk of a dataset with a known mean and
standard deviation, ranked with the station's other measurements."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from dashboard.app import create_app
from line.capability import baseline_of, capability, individuals_chart
from line.config import Plant, plant_from_dict
from line.errors import ConfigError
from store.base import Store
from store.sqlite import SqliteStore
from tests.conftest import result
from tests.infra import served_app
from tests.test_dashboard import ARTIFACTS, chromium_page

NOW = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST


def test_capability_of_a_hand_computed_case() -> None:
    # 1..5 against [0, 6]: mean 3, MR-bar 1, sigma_within 1/1.128, s = sqrt(2.5)
    cap = capability([1, 2, 3, 4, 5], 0.0, 6.0)
    assert cap.cp == pytest.approx(6 / (6 / 1.128)) and cap.cpk == pytest.approx(3 / (3 / 1.128))
    assert cap.pp == pytest.approx(6 / (6 * 2.5**0.5)) and cap.ppk == pytest.approx(3 / (3 * 2.5**0.5))
    assert cap.indicative and cap.outside == 0
    one_sided = capability([1, 2, 3, 4, 5], None, 6.0)  # only the side that exists
    assert one_sided.cp is None and one_sided.cpk == pytest.approx(3 / (3 / 1.128))


def test_capability_agrees_with_numpy_on_a_known_process() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(12.0, 0.1, 400)
    cap = capability(list(x), 11.4, 12.6)
    sigma_w = np.mean(np.abs(np.diff(x))) / 1.128
    s = np.std(x, ddof=1)
    assert cap.cpk == pytest.approx(min(12.6 - x.mean(), x.mean() - 11.4) / (3 * sigma_w))
    assert cap.ppk == pytest.approx(min(12.6 - x.mean(), x.mean() - 11.4) / (3 * s))
    assert cap.cp == pytest.approx(1.2 / (6 * sigma_w))
    half = 1.96 * (1 / (9 * 400) + cap.cpk**2 / (2 * 399)) ** 0.5  # Bissell
    assert cap.cpk_ci == pytest.approx((cap.cpk - half, cap.cpk + half), rel=1e-3)


def test_the_95_percent_intervals_cover_the_true_index_about_95_times_in_100() -> None:
    # N(12.0, 0.1) against [11.4, 12.6]: Pp = Ppk = 2.0; 400 samples of 50 values
    rng = np.random.default_rng(3)
    caps = [capability(list(rng.normal(12.0, 0.1, 50)), 11.4, 12.6) for _ in range(400)]
    pp = np.mean([c.pp_ci is not None and c.pp_ci[0] < 2.0 < c.pp_ci[1] for c in caps])
    ppk = np.mean([c.ppk_ci is not None and c.ppk_ci[0] < 2.0 < c.ppk_ci[1] for c in caps])
    assert 0.92 <= pp <= 0.98 and 0.92 <= ppk <= 0.98, (pp, ppk)


def test_the_individuals_chart_judges_against_its_baseline_only() -> None:
    base = baseline_of([10.0, 10.2, 9.8, 10.1, 9.9, 10.0])
    assert base is not None and base.mean == pytest.approx(10.0) and base.mr_bar == pytest.approx(0.24)  # (0.2 + 0.4 + 0.3 + 0.2 + 0.1) / 5
    judged = [("a", 10.0), ("b", 10.1), ("c", 11.5)]  # 11.5 is beyond 10 + 3 x 0.24 / 1.128
    chart = individuals_chart(judged, base)
    assert chart.center == base.mean and chart.ucl == pytest.approx(10 + 3 * 0.24 / 1.128)
    assert [p.violations for p in chart.points] == [(), (), (1,)]
    assert [p.mr for p in chart.points] == [None, pytest.approx(0.1), pytest.approx(1.4)]
    unjudged = individuals_chart(judged, None)
    assert unjudged.ucl is None and all(p.violations == () for p in unjudged.points)


def _measured(serial: str, minutes: float, value: float, name: str = "V_out", lo: float | None = None,
              hi: float | None = None, **extra: object) -> object:
    m = {"name": name, "value": value, "unit": "V", **({"lo": lo} if lo is not None else {}),
         **({"hi": hi} if hi is not None else {})}  # fmt: skip
    return result(serial, "FCT", "PASS", minutes, measurements=[m], start=NOW - timedelta(days=1), **extra)


def test_measurements_are_stored_once_with_their_verdict(store: Store) -> None:
    recs = [_measured("S1", 0, 12.0, lo=11.4, hi=12.6, id="m1"), _measured("S2", 1, 12.9, lo=11.4, hi=12.6, id="m2"),
            _measured("S3", 2, 12.1, id="m3")]  # fmt: skip
    store.write(recs)
    store.write(recs[:1])  # a duplicate record adds no measurement
    a, b = NOW - timedelta(days=2), NOW
    assert store.measurement_names(a, b, "FCT") == [("V_out", "V", 3)]
    vals = store.measurement_values(a, b, "FCT", "V_out", "FF-50")
    assert [(v.serial, v.value, v.lo, v.hi) for v in vals] == [("S1", 12.0, 11.4, 12.6), ("S2", 12.9, 11.4, 12.6),
                                                               ("S3", 12.1, None, None)]  # fmt: skip
    sums = store.measurement_summaries(a, b, "FCT", "FF-50")
    assert [(m.n, m.outside) for m in sums] == [(3, 1)]  # 12.9 is above its own 12.6; S3 gave none
    assert store.measurement_values(a, b, "FCT", "V_out", "GPS-70") == []


def test_a_store_made_before_the_measurements_table_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = SqliteStore(db)
    store.write([_measured("S1", 0, 12.0, id="o1"), _measured("S2", 1, 12.2, id="o2")])
    store.close()
    with sqlite3.connect(db) as c:  # as linemon of schema version 2 left it
        c.execute("DROP TABLE measurements")
        c.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    again = SqliteStore(db)
    vals = again.measurement_values(NOW - timedelta(days=2), NOW, "FCT", "V_out")
    assert [v.value for v in vals] == [12.0, 12.2]
    again.close()


def test_plant_file_limits_are_checked(plant: Plant) -> None:
    data = plant.spec.model_dump(mode="json", exclude_unset=True)
    data["products"]["FF-50"]["limits"] = {"FCT": {"V_out": {"lsl": 12.6, "usl": 11.4}}, "PACK": {"x": {"usl": 1}}}
    with pytest.raises(ConfigError) as err:
        plant_from_dict(data, "bad.toml")
    assert "lsl 12.6 must be below usl 11.4" in str(err.value)
    data["products"]["FF-50"]["limits"] = {"OQA2": {"x": {"usl": 1}}}
    with pytest.raises(ConfigError, match=r"products\.FF-50\.limits\.OQA2: station 'OQA2' is not on"):
        plant_from_dict(data, "bad.toml")


@pytest.fixture
def spc_site(tmp_path: Path, plant: Plant) -> Iterator[tuple[str, float]]:
    """FF-50's V_out at FCT: 28 days of baseline, then 7 judged days drawn from N(12.0, 0.1)
    against the plant file's [11.4, 12.6]; I_q (no limits in the file, the record's own) drifts."""
    data = plant.spec.model_dump(mode="json", exclude_unset=True)
    data["products"]["FF-50"]["limits"] = {"FCT": {"V_out": {"lsl": 11.4, "usl": 12.6, "unit": "V"},
                                                   "I_q": {"lsl": 45.0, "usl": 55.0, "drift_alarm": True}}}
    spec_plant = plant_from_dict(data, "spc.toml")
    rng = np.random.default_rng(11)
    store = SqliteStore(tmp_path / "spc.db")
    start = NOW - timedelta(days=35)
    recs, judged = [], []
    for i in range(35 * 12):  # every 2 h for 35 days
        ts = start + timedelta(hours=2 * i)
        v = float(rng.normal(12.0, 0.1))
        iq = float(rng.normal(50.0, 1.0)) + (4.0 if ts > NOW - timedelta(days=2) else 0.0)
        if ts >= NOW - timedelta(days=7):
            judged.append(v)
        recs.append(result(f"FF50-{i:05d}", "FCT", "PASS", 0, start=ts, id=f"spc{i}", measurements=[
            {"name": "V_out", "value": v, "unit": "V"},
            {"name": "I_q", "value": iq, "unit": "mA", "lo": 45.0, "hi": 55.0}]))  # fmt: skip
    store.write(recs)
    x = np.array(judged)
    expected = min(12.6 - x.mean(), x.mean() - 11.4) / (3 * np.mean(np.abs(np.diff(x))) / 1.128)
    app = create_app(spec_plant, f"sqlite:///{tmp_path / 'spc.db'}", now=lambda: NOW)
    with served_app(app) as url:
        yield url, float(expected)
    store.close()


@pytest.mark.browser
def test_qa_page_shows_capability_and_the_drift(spc_site: tuple[str, float]) -> None:
    url, expected = spc_site
    with chromium_page(1400) as (page, errors):
        page.goto(url + "qa")
        page.locator("#qa-product").click()
        page.get_by_role("option", name="FF-50").click()
        page.wait_for_selector("#qa-ranked-table", timeout=20_000)
        # I_q (Cpk 1.7 at best) drifted 4 mA two days ago: the worst Cpk first, and its chart breaks rules
        first = page.locator("#qa-ranked-table tbody tr").first.inner_text()
        assert first.startswith("I_q"), first
        page.locator("#qa-measure").click()
        page.get_by_role("option", name="V_out (V)").click()
        page.wait_for_selector("#qa-cpk", timeout=20_000)
        page.wait_for_function(
            "t => document.querySelector('#qa-cpk').innerText.startsWith(t)", arg=f"{expected:.2f}", timeout=20_000
        )
        assert page.inner_text("#qa-rank-cpk-V_out") == f"{expected:.2f}"
        assert "n=84" in page.inner_text("#qa-cap-n")
        page.wait_for_function(  # LSL and USL drawn across the histogram
            "document.querySelectorAll('#qa-histogram .shapelayer path').length === 2", timeout=20_000
        )
        page.locator("#qa-measure").click()
        page.get_by_role("option", name="I_q (mA)").click()
        page.wait_for_selector("#qa-rules", timeout=20_000)
        page.wait_for_selector("#qa-ichart .legendtext:has-text('rule violation')", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "qa-spc.png"), full_page=True)
        page.get_by_text("hourly means").click()  # X̄ of each hour (here one value an hour: no pooled sigma)
        page.wait_for_function(
            "[...document.querySelectorAll('#qa-ichart .xtick text')].some(e => /\\d\\dh$/.test(e.textContent))",
            timeout=20_000,
        )
        # traceability: a serial's measurements with their limits, the plant file's when the
        # record gave none (V_out), the record's own otherwise (I_q)
        page.fill("#qa-serial", "FF50-00419")
        page.click("#qa-search")
        page.wait_for_selector("#qa-hist-FF50-00419", timeout=20_000)
        cells = page.inner_text("#qa-history")
        assert "[11.4, 12.6]" in cells and "[45, 55]" in cells, cells
        # the andon: I_q asks for a drift alarm; every unit passed, so no FPY alarm says anything
        page.goto(url + "overview")
        page.wait_for_selector("#ov-alarm-list:has-text('FCT I_q on FF-50 drifting since')", timeout=20_000)
        assert "FPY this shift" not in page.inner_text("#ov-alarm-list")
    assert errors == []


def test_the_twins_drift_raises_the_measurement_alarm_before_the_fpy_alarm(plant: Plant, tmp_path: Path) -> None:
    """The twin's FF-50 FCT drift (from Monday 23 Nov, three days' ramp) moves V_TX toward its
    upper limit as the FPY falls; replayed hour by hour over the shifts, the andon's V_TX drift
    alarm comes before the FCT FPY alarm, and is rare before the drift."""
    from dashboard.spc_section import drift_alarms
    from line.alarms import fpy_alarms
    from line.calendar import shifts_between
    from linemon.twin.runner import Twin, TwinOptions
    from tests.conftest import PLANT_FILE

    thursday = datetime(2026, 12, 3, 15, 54, tzinfo=plant.tz)
    store = SqliteStore(tmp_path / "drift.db")
    plan = str(Path(PLANT_FILE).parent / "plans" / "jincheon-week.toml")
    twin = Twin(plant, store, TwinOptions(plan=plan, workdir=tmp_path, history_days=28), now=thursday)
    twin.write_history()
    drift_start = datetime(2026, 11, 23, 8, 30, tzinfo=plant.tz)
    a = plant.spec.alarms
    floors = {"FCT": plant.spec.stations["FCT"].fpy_alarm_min or a.fpy_min}
    first_drift = first_fpy = None
    checked = false_alarms = 0
    for sh in shifts_between(plant.spec.calendar, plant.tz, drift_start - timedelta(days=14), thursday):
        t = sh.start + timedelta(hours=1)
        while t <= min(sh.end, thursday):
            drifting = [d for d in drift_alarms(store, plant, sh.start, t) if d.name == "V_TX"]
            if t < drift_start:
                checked += 1
                false_alarms += bool(drifting)
            elif drifting and first_drift is None:
                first_drift = drifting[0].since
            fpy = fpy_alarms(store.first_attempts(sh.start, t, floors), floors, a.fpy_min_units, a.fpy_confidence,
                             a.fpy_clear_margin)  # fmt: skip
            if t >= drift_start and fpy and first_fpy is None:
                first_fpy = fpy[0].since
            t += timedelta(hours=1)
    store.close()
    assert first_drift is not None, "the drift never raised the V_TX alarm"
    assert first_fpy is None or first_drift < first_fpy, (first_drift, first_fpy)
    assert false_alarms <= 0.1 * checked, (false_alarms, checked)


def test_the_stores_one_pass_summary_gives_the_same_capability(store: Store) -> None:
    # what the ranked table computes in SQL (count, mean, sd, moving range, outside) against the
    # same indices computed from the values themselves
    from line.capability import capability_of

    rng = np.random.default_rng(5)
    xs = rng.normal(12.0, 0.1, 300)
    ys = rng.normal(50.0, 2.0, 300)
    store.write([result(f"S{i}", "FCT", "PASS", i, start=NOW - timedelta(days=1), id=f"q{i}",
                        measurements=[{"name": "V", "value": float(x), "unit": "V"},
                                      {"name": "I", "value": float(y), "lo": 45.0, "hi": 55.0}])
                 for i, (x, y) in enumerate(zip(xs, ys, strict=True))])  # fmt: skip
    sums = {m.name: m for m in store.measurement_summaries(NOW - timedelta(days=2), NOW, "FCT", "FF-50",
                                                           {"V": (11.8, 12.2)})}  # fmt: skip
    for name, data, (lsl, usl) in (("V", xs, (11.8, 12.2)), ("I", ys, (45.0, 55.0))):
        m = sums[name]
        got = capability_of(m.n, m.mean, m.sd, m.mr_bar, lsl, usl, m.outside)
        want = capability(list(data), lsl, usl)
        assert (got.n, got.outside) == (want.n, want.outside)
        assert got.cpk == pytest.approx(want.cpk) and got.ppk == pytest.approx(want.ppk)
    assert sums["I"].lo == 45.0 and sums["V"].lo is None and sums["V"].outside == want_outside(xs, 11.8, 12.2)


def want_outside(xs: np.ndarray, lo: float, hi: float) -> int:
    return int(((xs < lo) | (xs > hi)).sum())


def test_the_xbar_chart_judges_subgroup_means_with_limits_for_their_size() -> None:
    from line.capability import pooled_sigma, xbar_chart

    base = [[10.0, 10.2, 9.8], [10.1, 9.9], [10.0, 10.4, 9.6, 10.0]]
    # pooled: (2 x 0.04 + 1 x 0.02 + 3 x 0.32 / 3 ... ) computed with numpy, ddof=1 per subgroup
    dof = sum(len(g) - 1 for g in base)
    want = (sum((len(g) - 1) * np.var(g, ddof=1) for g in base) / dof) ** 0.5
    assert pooled_sigma(base) == pytest.approx(want)
    centre = float(np.mean([v for g in base for v in g]))
    pts, c = xbar_chart([("09h", [10.0, 10.1, 9.9, 10.0]), ("10h", [11.0])], base)
    assert c == pytest.approx(centre)
    assert pts[0].ucl == pytest.approx(centre + 3 * want / 2) and pts[1].ucl == pytest.approx(centre + 3 * want)
    assert pts[0].violations == () and pts[1].violations == (1,)  # one value of 11.0 is beyond 3 sigma
    unjudged, none = xbar_chart([("09h", [1.0, 2.0])], [])
    assert none is None and unjudged[0].ucl is None and unjudged[0].mean == 1.5
