"""Yield alarms with evidence and hysteresis (line.alarms), against hand-computed bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from line.alarms import below_with_evidence, fpy_alarms, fpy_upper_bound

T = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def test_clopper_pearson_upper_bound_by_hand() -> None:
    # 3 of 4: the bound solves P(X <= 3 | n=4, p) = 0.05, i.e. 1 - p^4 = 0.05: p = 0.95^(1/4)
    assert fpy_upper_bound(3, 4, 0.95) == pytest.approx(0.95 ** 0.25, abs=1e-9)
    # 0 of n: (1 - p)^n = 0.05
    assert fpy_upper_bound(0, 10, 0.95) == pytest.approx(1 - 0.05 ** (1 / 10), abs=1e-9)
    assert fpy_upper_bound(5, 5, 0.95) == 1.0


def test_one_bad_unit_in_four_is_not_evidence_but_a_sample_or_a_clear_interval_is() -> None:
    assert not below_with_evidence(3, 4, 0.9, min_units=30, confidence=0.95)  # bound 98.7 %
    assert below_with_evidence(30, 40, 0.9, min_units=30, confidence=0.95)  # n >= 30 and 75 %
    assert below_with_evidence(30, 40, 0.9, min_units=0, confidence=0.95)  # bound 85.6 % < 90 %
    assert not below_with_evidence(26, 29, 0.9, min_units=30, confidence=0.95)  # 89.7 %, bound 97 %
    assert below_with_evidence(2, 12, 0.9, min_units=30, confidence=0.95)  # 17 %: bound 44 %
    assert not below_with_evidence(9, 10, 0.9, min_units=1, confidence=0.95)  # at the floor


def _attempts(verdicts: str, station: str = "FCT") -> list[tuple[datetime, str, bool]]:
    return [(T + timedelta(minutes=i), station, v == "P") for i, v in enumerate(verdicts)]


def test_the_fpy_alarm_says_when_it_was_raised_and_clears_with_hysteresis() -> None:
    floors = {"FCT": 0.9}
    # 3 fails after 10 passes: 10/13 = 76.9 %, bound 93.4 %: no evidence yet; the 4th fail
    # (10/14, bound 89.6 %) raises it at minute 13; it still holds after the 5th
    assert fpy_alarms(_attempts("P" * 10 + "FFF"), floors, 0, 0.95, 0.02) == []
    got = fpy_alarms(_attempts("P" * 10 + "FFFFF"), floors, 0, 0.95, 0.02)
    assert [(a.station, a.passed, a.n, a.since) for a in got] == [("FCT", 10, 15, T + timedelta(minutes=13))]
    # back to 90.0 % (45/50) is not enough to clear (floor + 2 %), 92.06 % (58/63) is
    seq = "P" * 10 + "FFFFF" + "P" * 35
    assert [a.n for a in fpy_alarms(_attempts(seq), floors, 0, 0.95, 0.02)] == [50]  # 90 %: holds
    seq += "P" * 13  # 58/63 = 92.06 %
    assert fpy_alarms(_attempts(seq), floors, 0, 0.95, 0.02) == []
    # without hysteresis it would have cleared at 90 % already
    assert fpy_alarms(_attempts("P" * 10 + "FFFFF" + "P" * 35), floors, 0, 0.95, 0.0) == []
    # a station without a floor is not judged
    assert fpy_alarms(_attempts("FFFFFFFF", "PRINT"), floors, 0, 0.95, 0.02) == []
