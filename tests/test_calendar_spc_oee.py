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
