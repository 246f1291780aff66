"""Yield numbers through a real SQLite store, against hand-computed cases."""

from datetime import timedelta

import pytest

from line.config import Plant
from line.kpi import ProductTally, StationTally, pareto, yield_report
from store.sql_schema import SCHEMA_VERSION
from store.sqlite import SqliteStore
from tests.conftest import T0, result

DAY = timedelta(days=1)


def test_retests_repair_loops_and_false_calls(store: SqliteStore, plant: Plant) -> None:
    bridge = [{"code": "bridge", "refdes": "U12"}]
    false_call = [{"code": "missing", "refdes": "C3", "confirmed": False}]
    store.write(
        [
            result("A", "FCT", "PASS", 0),
            result("B", "FCT", "FAIL", 1, defects=bridge),  # fail, repaired, passes
            result("B", "FCT", "PASS", 30),
            result("C", "FCT", "FAIL", 2, defects=bridge),  # fails twice: scrapped
            result("C", "FCT", "FAIL", 40, defects=bridge),
            result("D", "FCT", "PASS", 3, defects=false_call),  # passes with a rejected call
            result("A", "SPI", "PASS", -10),
            result("B", "SPI", "PASS", -9),
            result("C", "SPI", "PASS", -8),
            result("D", "SPI", "FAIL", -7, defects=bridge),
            result("D", "SPI", "PASS", -6),
        ]
    )
    stations, products = store.yield_tallies(T0 - DAY, T0 + DAY)
    fct = stations[("FF-50", "FCT")]
    assert fct == StationTally(units=4, first_pass=2, final_pass=3, attempts=6, defects=3, false_calls=1)
    assert fct.fpy == 0.5 and fct.final_yield == 0.75 and fct.retests == 2
    assert fct.false_call_rate == pytest.approx(1 / 4)
    spi = stations[("FF-50", "SPI")]
    assert (spi.units, spi.first_pass, spi.final_pass) == (4, 3, 4)
    # units: A, B, D good at every station; C's last FCT attempt failed. Defects: 3 at FCT + 1 at SPI.
    assert products["FF-50"] == ProductTally(units=4, final_good=3, defects=4)
    figs = yield_report(plant, stations, products)
    ff = figs["FF-50"]
    assert ff.rty == pytest.approx(0.5 * 0.75)
    opp = plant.product("FF-50").opportunities  # 412 + 398 + 1580
    assert opp == 2390
    assert ff.dpmo == pytest.approx(4 / (4 * 2390) * 1e6)
    assert list(ff.stations) == ["SPI", "FCT"]  # routing order
    assert figs["MR-1200"].units == 0 and figs["MR-1200"].rty is None  # no data: shown, not zero


def test_window_edges_assign_units_by_first_attempt(store: SqliteStore) -> None:
    # E fails just before the window's end and passes after it; F's first attempt is before the window.
    store.write(
        [
            result("E", "FCT", "FAIL", 60 * 24 - 1),
            result("E", "FCT", "PASS", 60 * 24 + 5),
            result("F", "FCT", "FAIL", -5),
            result("F", "FCT", "PASS", 5),
            result("G", "FCT", "PASS", 90.5),
        ]
    )
    for a, b in ((T0, T0 + DAY), (T0 + timedelta(minutes=17), T0 + DAY - timedelta(seconds=30))):
        st, _ = store.yield_tallies(a, b)
        fct = st[("FF-50", "FCT")]
        assert (fct.units, fct.first_pass, fct.final_pass) == (2, 1, 2), (a, b)
    st, _ = store.yield_tallies(T0 - DAY, T0)
    assert st[("FF-50", "FCT")].units == 1  # F only
    st, _ = store.yield_tallies(T0 + DAY, T0 + 2 * DAY)
    assert ("FF-50", "FCT") not in st  # E's retest does not make it a unit of the next day


def test_out_of_order_arrival_and_duplicates(store: SqliteStore) -> None:
    late_first = result("H", "FCT", "FAIL", 10, id="h1")
    counts = store.write([result("H", "FCT", "PASS", 20, id="h2")])
    assert counts.stored == 1
    counts = store.write([late_first, late_first, result("H", "FCT", "PASS", 20, id="h2")])
    assert (counts.stored, counts.duplicate) == (1, 2)
    st, pr = store.yield_tallies(T0, T0 + DAY)
    assert st[("FF-50", "FCT")] == StationTally(1, 0, 1, 2, 0, 0)
    assert pr["FF-50"].units == 1 and pr["FF-50"].final_good == 1
    assert store.result_count() == 2


def test_rollups_equal_a_full_recount(store: SqliteStore) -> None:
    """Windows made of partial hours, whole hours and whole days (daily roll-ups) against a
    recount of the raw records by the definitions."""
    import random

    rng = random.Random(7)
    recs = []
    for _ in range(3000):
        serial = f"S{rng.randint(0, 400)}"
        recs.append(
            result(
                serial, rng.choice(["SPI", "FCT"]), rng.choice(["PASS", "PASS", "FAIL"]), rng.uniform(0, 6000)
            )
        )
    for i in range(0, len(recs), 250):  # arrival in batches, out of time order
        store.write(recs[i : i + 250])
    by_key: dict[tuple[str, str], list] = {}
    for r in sorted(recs, key=lambda r: r.ts):
        by_key.setdefault((r.serial, r.station), []).append(r)
    first_seen = {}
    for (serial, _), v in by_key.items():
        first_seen[serial] = min(first_seen.get(serial, v[0].ts), v[0].ts)
    for lo, hi in ((333.3, 2777.7), (333.3, 5000.7), (0, 6001), (1440, 2880), (1500, 1530.5)):
        a, b = T0 + timedelta(minutes=lo), T0 + timedelta(minutes=hi)
        st, products = store.yield_tallies(a, b)
        for station in ("SPI", "FCT"):
            units = [v for (s, stn), v in by_key.items() if stn == station and a <= v[0].ts < b]
            expect = StationTally(
                len(units),
                sum(v[0].result == "PASS" for v in units),
                sum(v[-1].result == "PASS" for v in units),
                sum(len(v) for v in units),
                0,
                0,
            )
            assert st.get(("FF-50", station), StationTally()) == expect, (lo, hi, station)
        serials = {s for s, t in first_seen.items() if a <= t < b}
        good = {s for s in serials if all(v[-1].result == "PASS" for (u, _), v in by_key.items() if u == s)}
        assert (products["FF-50"].units, products["FF-50"].final_good) == (len(serials), len(good)), (lo, hi)


def test_a_store_of_schema_3_gets_daily_rollups_from_its_hourly_ones(store_url: str) -> None:
    """An upgrade on SQLite and PostgreSQL alike: the daily roll-ups a version-3 store lacks are
    made from its hourly ones, and a year's report reads them."""
    from store.base import open_store

    store = open_store(store_url)
    store.write([result(f"U{i}", "SPI", "PASS" if i % 4 else "FAIL", i * 97.0) for i in range(60)])
    a, b = T0 - timedelta(days=1), T0 + timedelta(days=60)
    before = store.yield_tallies(a, b)
    conn = store._conn()  # type: ignore[attr-defined]
    for sql in ("DROP TABLE station_daily", "DROP TABLE product_daily", "UPDATE meta SET value = '3' WHERE key = 'schema'"):
        conn.execute(sql)
    store.close()
    again = open_store(store_url)
    assert again.yield_tallies(a, b) == before and before[0][("FF-50", "SPI")].units == 60
    assert again._conn().execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(SCHEMA_VERSION)  # type: ignore[attr-defined]
    again.close()


def test_defect_pareto(store: SqliteStore) -> None:
    store.write(
        [
            result(
                "A",
                "VI1",
                "FAIL",
                1,
                defects=[{"code": "bridge", "refdes": "U1"}, {"code": "missing", "refdes": "C2"}],
            ),
            result("B", "VI1", "FAIL", 2, defects=[{"code": "bridge", "refdes": "U1"}]),
            result("C", "VI1", "PASS", 3, defects=[{"code": "bridge", "refdes": "U9", "confirmed": False}]),
        ]
    )
    counts = store.defect_counts(T0, T0 + DAY)
    assert counts == {"bridge": 2, "missing": 1}
    assert store.defect_counts(T0, T0 + DAY, by="refdes") == {"U1": 2, "C2": 1}
    bars = pareto(counts)
    assert [(b.key, b.count) for b in bars] == [("bridge", 2), ("missing", 1)]
    assert bars[0].cumulative_share == pytest.approx(2 / 3) and bars[-1].cumulative_share == 1.0


def test_unit_history_keeps_detail(store: SqliteStore) -> None:
    store.write(
        [
            result("Z", "SPI", "PASS", 1),
            result("Z", "FCT", "FAIL", 2, defects=[{"code": "open", "refdes": "J1"}]),
        ]
    )
    hist = store.unit_history("Z")
    assert [(r.station, r.result) for r in hist] == [("SPI", "PASS"), ("FCT", "FAIL")]
    assert hist[1].defects[0].refdes == "J1"


def test_line_yield_hand_computed(plant) -> None:  # type: ignore[no-untyped-def]
    from line.kpi import StationTally, line_yield

    tallies = {
        ("FF-50", "SPI"): StationTally(units=10, first_pass=9, final_pass=10, attempts=11),
        ("FF-50", "FCT"): StationTally(units=10, first_pass=8, final_pass=10, attempts=12),
        ("FF-50", "FT"): StationTally(units=10, first_pass=5, final_pass=10, attempts=15),  # ASSY1: not SMT1
        ("GPS-70", "SPI"): StationTally(units=4, first_pass=4, final_pass=4, attempts=4),
    }
    smt = line_yield(plant, tallies, "SMT1")
    assert smt["rty"]["FF-50"] == pytest.approx(0.9 * 0.8) and smt["rty"]["GPS-70"] == 1.0
    assert smt["rty"]["VDR-900"] is None  # no data is not 0 %
    assert smt["fpy"] == {"SPI": pytest.approx(13 / 14), "FCT": pytest.approx(0.8)}
    assert line_yield(plant, tallies, "ASSY1")["rty"]["FF-50"] == pytest.approx(0.5)
