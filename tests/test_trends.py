"""Trends and filters: periods for trends (shift, day, ISO week, in plant time), RTY per period,
the weekly failure trend, yield of one work order and of one line, and their figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.figures import trend_figure, weekly_failure_figure
from dashboard.trends import on_line, weekly_failures, yield_trend
from line.calendar import buckets
from line.config import Plant
from line.kpi import yield_report
from store.sqlite import SqliteStore
from tests.conftest import T0, result

SEOUL = ZoneInfo("Asia/Seoul")


def test_trend_periods_follow_the_plant_calendar(plant: Plant) -> None:
    cal, tz = plant.spec.calendar, plant.tz
    mon = datetime(2026, 11, 2, 0, 0, tzinfo=SEOUL)  # Monday
    days = buckets(cal, tz, mon + timedelta(hours=12), mon + timedelta(days=2, hours=6), "day")
    assert [label for label, _ in days] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert days[0][1] == (mon + timedelta(hours=12), mon + timedelta(days=1))  # clipped to the window
    weeks = buckets(cal, tz, mon - timedelta(days=3), mon + timedelta(days=8), "week")
    assert [label for label, _ in weeks] == ["2026-W44", "2026-W45", "2026-W46"]
    assert weeks[1][1] == (mon, mon + timedelta(days=7))
    shifts = buckets(cal, tz, mon, mon + timedelta(days=1), "shift")
    assert [label for label, _ in shifts] == ["2026-11-02 day", "2026-11-02 overtime"]
    assert shifts[0][1] == (
        datetime(2026, 11, 2, 8, 30, tzinfo=SEOUL),
        datetime(2026, 11, 2, 17, 30, tzinfo=SEOUL),
    )
    with pytest.raises(ValueError, match="month"):
        buckets(cal, tz, mon, mon + timedelta(days=1), "month")


@pytest.fixture
def two_days(store: SqliteStore) -> SqliteStore:
    """T0 = Monday 09:00 Seoul. Day 1: FF-50 A passes SPI and FCT, B fails FCT once then passes;
    VDR-900 V fails SPI. Day 2: FF-50 C passes both; a second work order."""
    day2 = T0 + timedelta(days=1)
    store.write([
        result("A", "SPI", "PASS", 0, work_order="W1"), result("A", "FCT", "PASS", 30, work_order="W1"),
        result("B", "SPI", "PASS", 1, work_order="W1"),
        result("B", "FCT", "FAIL", 31, work_order="W1", defects=[{"code": "short", "refdes": "C7"}]),
        result("B", "FCT", "PASS", 50, work_order="W1"),
        result("V", "SPI", "FAIL", 5, "VDR-900", work_order="W9", defects=[{"code": "bridge", "refdes": "U1"}]),
        result("C", "SPI", "PASS", 0, work_order="W2", start=day2), result("C", "FCT", "PASS", 30, work_order="W2", start=day2),
    ])  # fmt: skip
    return store


def test_rty_trend_by_day_and_line(two_days: SqliteStore, plant: Plant) -> None:
    start, end = T0 - timedelta(hours=9), T0 + timedelta(days=2)  # Monday 00:00 Seoul to Wednesday
    got = {(p.period, p.product): (p.units, p.rty) for p in yield_trend(two_days, plant, start, end, "day")}
    # day 1 FF-50: SPI 2/2, FCT 1/2 -> RTY 0.5; VDR-900: SPI 0/1 -> 0; day 2 FF-50: 1 x 1
    assert got == {("2026-11-02", "FF-50"): (2, 0.5), ("2026-11-02", "VDR-900"): (1, 0.0),
                   ("2026-11-03", "FF-50"): (1, 1.0)}  # fmt: skip
    assembly = yield_trend(two_days, plant, start, end, "day", "ASSY1")
    assert assembly == []  # no unit reached the assembly line's stations
    smt = {(p.period, p.product): p.rty for p in yield_trend(two_days, plant, start, end, "week", "SMT1")}
    assert smt == {("2026-W45", "FF-50"): pytest.approx(2 / 3), ("2026-W45", "VDR-900"): 0.0}  # FCT 2/3


def test_weekly_failures(two_days: SqliteStore, plant: Plant) -> None:
    weeks = weekly_failures(two_days, plant, T0 - timedelta(days=7), T0 + timedelta(days=2))
    assert [w.week for w in weeks] == ["2026-W44", "2026-W45"]
    assert (weeks[0].units, weeks[0].defects) == (0, {})
    w = weeks[1]  # 7 first attempts (A, B, V, C at SPI; A, B, C at FCT), B at FCT and V at SPI failed
    assert (w.units, w.failed_first, w.defects) == (7, 2, {"short": 1, "bridge": 1})
    assert w.fail_rate == pytest.approx(2 / 7)
    only = weekly_failures(two_days, plant, T0, T0 + timedelta(days=2), "VDR-900")
    assert (only[0].units, only[0].failed_first, only[0].defects) == (1, 1, {"bridge": 1})
    fig = weekly_failure_figure(weeks, "t", top=1)
    assert [d.name for d in fig.data] == ["bridge", "other", "first attempts failed %"]  # tie: by name
    assert list(fig.data[1].y) == [0, 1] and list(fig.data[2].y) == [None, pytest.approx(28.57)]


def test_work_order_and_line_yield(two_days: SqliteStore, plant: Plant) -> None:
    stations, products = two_days.work_order_tallies("W1")
    assert {k: (t.units, t.first_pass, t.final_pass, t.attempts) for k, t in stations.items()} == {
        ("FF-50", "SPI"): (2, 2, 2, 2), ("FF-50", "FCT"): (2, 1, 2, 3)}  # fmt: skip
    assert (products["FF-50"].units, products["FF-50"].final_good) == (2, 2)
    assert two_days.work_order_tallies("NOPE") == ({}, {})
    figs = yield_report(plant, *on_line(plant, (stations, products), "ASSY1"))
    assert figs["FF-50"].rty is None and figs["FF-50"].units == 2  # the units, no assembly station yet


def test_trend_figure_marks_missing_periods_as_gaps() -> None:
    from dashboard.trends import TrendPoint

    pts = [
        TrendPoint("d1", "FF-50", 4, 0.5),
        TrendPoint("d2", "VDR-900", 1, 1.0),
        TrendPoint("d3", "FF-50", 2, 1.0),
    ]
    fig = trend_figure(pts, "t")
    ff, vdr = fig.data
    assert list(ff.x) == ["d1", "d2", "d3"] and list(ff.y) == [50.0, None, 100.0]
    assert list(vdr.y) == [None, 100.0, None] and list(ff.customdata) == [4, 0, 2]


def test_a_mix_starts_with_next_weeks_first_shift(plant: Plant) -> None:
    from line.calendar import next_week_start

    sunday = datetime(2026, 11, 22, 23, 0, tzinfo=SEOUL)
    assert next_week_start(plant.spec.calendar, SEOUL, sunday) == datetime(2026, 11, 23, 8, 30, tzinfo=SEOUL)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=SEOUL)  # a Monday goes to the following week
    assert next_week_start(plant.spec.calendar, SEOUL, monday) == datetime(2026, 11, 30, 8, 30, tzinfo=SEOUL)
    xmas = datetime(2026, 12, 24, 9, 0, tzinfo=SEOUL)  # Friday 25th is a holiday, Monday 28th is not
    assert next_week_start(plant.spec.calendar, SEOUL, xmas) == datetime(2026, 12, 28, 8, 30, tzinfo=SEOUL)
