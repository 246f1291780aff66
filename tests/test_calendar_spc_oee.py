"""Shift calendar, p-chart / Western Electric rules and OEE against hand-computed cases."""

from datetime import UTC, datetime, timedelta

import pytest

from line.calendar import scheduled_intervals, shift_at, shifts_between
from line.config import Plant
from line.oee import oee_for, state_intervals
from line.spc import Subgroup, baseline_p, p_chart, western_electric


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_day_shift_in_seoul_is_scheduled_minus_breaks(plant: Plant) -> None:
    cal, tz = plant.spec.calendar, plant.tz
    # Friday 2026-11-20 in Seoul: day shift 08:30-17:30 KST = 23:30 (Thu) - 08:30 UTC, no overtime on Fridays
    iv = scheduled_intervals(cal, tz, utc(2026, 11, 19, 15), utc(2026, 11, 20, 15))
    total = sum((b - a).total_seconds() for a, b in iv) / 3600
    assert total == pytest.approx(9 - (10 + 60 + 10) / 60)
    assert iv[0][0] == utc(2026, 11, 19, 23, 30)
    # Thursday has overtime 17:30-20:30 with a 30 min break
    thu = scheduled_intervals(cal, tz, utc(2026, 11, 18, 15), utc(2026, 11, 19, 15))
    assert sum((b - a).total_seconds() for a, b in thu) / 3600 == pytest.approx(9 - 80 / 60 + 2.5)


def test_shift_boundaries_and_holidays(plant: Plant) -> None:
    cal, tz = plant.spec.calendar, plant.tz
    s = shift_at(cal, tz, utc(2026, 11, 19, 23, 30))  # 08:30 KST Friday: first instant of the day shift
    assert s is not None and s.label == "2026-11-20 day"
    assert shift_at(cal, tz, utc(2026, 11, 19, 23, 29, 59)) is None  # 08:29:59 KST, not scheduled
    o = shift_at(cal, tz, utc(2026, 11, 19, 8, 30))  # Thursday 17:30 KST: overtime starts
    assert o is not None and o.name == "overtime"
    assert o.on_break(utc(2026, 11, 19, 8, 59)) and not o.on_break(
        utc(2026, 11, 19, 9, 0)
    )  # dinner 17:30-18:00
    christmas = shifts_between(cal, tz, utc(2026, 12, 24, 15), utc(2026, 12, 25, 15))
    assert christmas == []  # 2026-12-25 is a holiday (a Friday)
    sat = shifts_between(cal, tz, utc(2026, 11, 20, 15), utc(2026, 11, 21, 15))
    assert [x.name for x in sat] == ["saturday"]


def test_p_chart_limits_from_a_frozen_baseline() -> None:
    base = [Subgroup("b1", 4, 200), Subgroup("b2", 6, 300)]
    pbar = baseline_p(base)
    assert pbar == pytest.approx(10 / 500)
    pts = p_chart([Subgroup("d1", 2, 100), Subgroup("d2", 12, 100)], pbar)
    sigma = (0.02 * 0.98 / 100) ** 0.5
    assert pts[0].ucl == pytest.approx(0.02 + 3 * sigma)
    assert pts[0].lcl == 0.0  # floored
    assert pts[1].p == 0.12 and pts[1].violations == (1,)
    assert pts[0].violations == ()
    with pytest.raises(ValueError, match="baseline period has no units"):
        baseline_p([])


def test_western_electric_rules() -> None:
    assert western_electric([0, 3.5]) == [set(), {1}]
    assert western_electric([2.5, 0.1, 2.2])[2] == {2}
    assert western_electric([2.5, -2.2, 0.1])[2] == set()  # opposite sides
    assert 3 in western_electric([1.5, 1.2, 0.5, 1.1, 1.3])[4]
    run = western_electric([0.2] * 8)
    assert run[7] == {4} and run[6] == set()
    assert western_electric([0.2] * 8, rules=(1, 2, 3))[7] == set()


def test_oee_over_scheduled_time_only() -> None:
    t = utc(2026, 11, 20, 0)
    h = timedelta(hours=1)
    # scheduled 0-4 h; the station runs 0-1, is down 1-1.5, runs 1.5-6 (4-6 is outside the shift)
    changes = [(t, "PRD"), (t + h, "UDT"), (t + 1.5 * h, "PRD")]
    o = oee_for(changes, [(t, t + 4 * h)], t, t + 6 * h, ideal_cycle_s=60, total=180, good=171)
    assert o.scheduled_s == 4 * 3600
    assert o.run_s == 3.5 * 3600
    assert o.availability == pytest.approx(3.5 / 4)
    assert o.performance == pytest.approx(180 * 60 / (3.5 * 3600))
    assert o.quality == pytest.approx(0.95)
    assert o.oee == pytest.approx(171 * 60 / (4 * 3600))  # = good x ideal CT / scheduled
    rolled = o + o
    assert rolled.oee == pytest.approx(o.oee)  # summed times, not averaged percentages
    assert state_intervals(changes, t, t + 6 * h, "UDT") == [(t + h, t + 1.5 * h)]


def test_e10_split_counts_starved_and_blocked_as_standby_not_downtime() -> None:
    """A 4 h shift. PRINT (feeds a slower mounter): runs 1 h, blocked 2.5 h, down 0.5 h.
    MOUNT (the bottleneck): runs 3.5 h, in setup 0.5 h. SPI: runs 1 h, starved 1.5 h, blocked 1.5 h.
    E10 availability is uptime over scheduled time: PRINT 3.5/4, MOUNT 3.5/4, SPI 100 %; the
    old 'running / scheduled' would have shown PRINT 25 % and SPI 25 % (red)."""
    from line.e10 import bottleneck, lacks_work, time_splits
    from line.status import Segment

    t, h = datetime(2026, 11, 2, 0, 0, tzinfo=UTC), timedelta(hours=1)
    segs = [Segment("PRINT", "PRINT-01", "running", None, t, t + h),
            Segment("PRINT", "PRINT-01", "blocked", None, t + h, t + 3.5 * h),
            Segment("PRINT", "PRINT-01", "down", "USD_Repair", t + 3.5 * h, t + 4 * h),
            Segment("MOUNT", "MOUNT-01", "setup", "SDT_Setup", t, t + 0.5 * h),
            Segment("MOUNT", "MOUNT-01", "running", None, t + 0.5 * h, t + 4 * h),
            Segment("SPI", "SPI-01", "starved", None, t, t + 1.5 * h),
            Segment("SPI", "SPI-01", "running", None, t + 1.5 * h, t + 2.5 * h),
            Segment("SPI", "SPI-01", "blocked", None, t + 2.5 * h, t + 5 * h)]  # fmt: skip (1 h after the shift)
    sp = time_splits(segs, [(t, t + 4 * h)], ["PRINT", "SPI", "MOUNT", "REFLOW"])
    assert sp["PRINT"].availability == pytest.approx(3.5 / 4)
    assert sp["PRINT"].utilisation == pytest.approx(1 / 4)
    assert sp["SPI"].availability == pytest.approx(1.0)
    assert sp["SPI"].blocked_s == 1.5 * 3600  # only the scheduled part
    assert sp["SPI"].share(sp["SPI"].line_wait_s) == pytest.approx(3 / 4)
    assert sp["MOUNT"].availability == pytest.approx(3.5 / 4)
    assert sp["REFLOW"].availability is None  # no state reported: no figure, not 0 %
    assert bottleneck(sp) == ["MOUNT"]
    assert bottleneck({"A": sp["MOUNT"], "B": sp["MOUNT"], "C": sp["SPI"]}) == ["A", "B"]  # a tie, said so
    assert bottleneck({"R": sp["REFLOW"]}) == []
    assert not lacks_work(sp, ["MOUNT"])
    # a line without work: every station waits most of the time, the least-waiting one (SPI,
    # 75 %) is no bottleneck
    assert lacks_work({"SPI": sp["SPI"]}, ["SPI"])


def test_loaded_oee_does_not_fail_a_healthy_station_waiting_on_the_line() -> None:
    """SPI over a 4 h shift: running 1 h, starved or blocked 3 h. 180 boards at 20 s ideal = 1 h,
    171 first passes. Loaded time = 1 h: OEE = 171 x 20 / 3600 = 95 %, its main loss quality.
    MOUNT running 3 h, down 1 h, 540 boards at 20 s: OEE 75 % x 100 % x 100 %, main loss down."""
    from line.e10 import TimeSplit, dominant_loss, loaded_oee, oee_losses

    spi = TimeSplit(scheduled_s=4 * 3600, productive_s=3600, starved_s=2 * 3600, blocked_s=3600)
    o = loaded_oee(spi, ideal_s=180 * 20, total=180, good=171)
    assert o.oee == pytest.approx(171 * 20 / 3600)
    losses = oee_losses(spi, o)
    assert sum(losses.values()) == pytest.approx(spi.loaded_s * (1 - o.oee))
    assert dominant_loss(losses) == "quality"
    mount = TimeSplit(scheduled_s=4 * 3600, productive_s=3 * 3600, down_s=3600)
    m = loaded_oee(mount, ideal_s=540 * 20, total=540, good=540)
    assert (m.availability, m.performance, m.quality) == (pytest.approx(0.75), pytest.approx(1.0), 1.0)
    assert dominant_loss(oee_losses(mount, m)) == "down"
    # a station without counts: its speed and quality are unknown, so not named as the loss
    reflow = TimeSplit(scheduled_s=4 * 3600, productive_s=3 * 3600, idle_s=600)
    assert dominant_loss(oee_losses(reflow, loaded_oee(reflow, 0.0, 0, 0))) == "idle"


def test_station_oees_from_segments_and_tallies(plant) -> None:  # type: ignore[no-untyped-def]
    """The line page's OEE: FCT's two jigs (8 machine hours, one down 1 h), FF-50's attempts at the
    plant file's FCT time."""
    from dashboard.queries import station_oees
    from line.e10 import time_splits
    from line.kpi import StationTally
    from line.status import Segment
    from stations.models import bind_plant

    t, h = datetime(2026, 11, 2, 0, 0, tzinfo=UTC), timedelta(hours=1)
    segs = [Segment("FCT", "FCT-01", "running", None, t, t + 3 * h),
            Segment("FCT", "FCT-01", "down", "USD_Repair", t + 3 * h, t + 4 * h),
            Segment("FCT", "FCT-02", "running", None, t, t + 4 * h)]  # fmt: skip
    tallies = {("FF-50", "FCT"): StationTally(units=40, first_pass=36, final_pass=40, attempts=44)}
    o = station_oees(plant, time_splits(segs, [(t, t + 4 * h)], ["FCT"]), tallies)["FCT"]
    ct = bind_plant(plant)["FCT"].seconds(plant.product("FF-50"))
    assert o.availability == pytest.approx(7 / 8)
    assert o.performance == pytest.approx(44 * ct / (7 * 3600))
    assert o.quality == pytest.approx(36 / 44)
