"""Output against plan: the levelled plan (hand-computed on the Jincheon calendar), the store's
work orders and per-hour output, the andon's order rows, and `linemon plan`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.queries import hourly_output, order_progress
from line.calendar import local_day_bounds
from line.config import Plant
from line.plan import PlannedOrder, planned_between, planned_by, scheduled_seconds
from linemon.cli import main
from stations.models import raw_process_times
from store.sqlite import SqliteStore
from tests.conftest import T0, result

SEOUL = ZoneInfo("Asia/Seoul")
MON = datetime(2026, 11, 23, 8, 30, tzinfo=SEOUL)  # Monday, first shift start
FRI = datetime(2026, 11, 27, 17, 30, tzinfo=SEOUL)  # Friday, end of the day shift
# Scheduled minutes Mon 08:30 - Fri 17:30: Mon-Thu 460 (day: 540 - 80 break) + 150 (overtime:
# 180 - 30) = 610 each, Friday 460: 2900 minutes.
WEEK_MIN = 4 * 610 + 460


def _week(*quantities: int) -> list[PlannedOrder]:
    return [PlannedOrder(f"WO-{i}", "FF-50", q, MON, FRI) for i, q in enumerate(quantities, 1)]


def test_levelled_plan_fills_orders_in_sequence(plant: Plant) -> None:
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    assert sched(MON, FRI) == WEEK_MIN * 60
    orders = _week(120, 80)
    # Monday 12:00: 08:30-10:30 and 10:40-12:00 worked = 200 min
    at = planned_by(orders, datetime(2026, 11, 23, 12, 0, tzinfo=SEOUL), sched)
    assert at["WO-1"] == pytest.approx(200 * 200 / WEEK_MIN) and at["WO-2"] == 0
    # Thursday 20:30 (end of overtime): 4 x 610 min; the first order is complete, the second partly
    at = planned_by(orders, datetime(2026, 11, 26, 20, 30, tzinfo=SEOUL), sched)
    assert at["WO-1"] == 120 and at["WO-2"] == pytest.approx(200 * 2440 / WEEK_MIN - 120)
    # a weekend changes nothing; after the due time everything is planned
    assert planned_by(orders, datetime(2026, 11, 29, 12, 0, tzinfo=SEOUL), sched) == {"WO-1": 120, "WO-2": 80}
    assert planned_by(orders, MON - timedelta(days=1), sched) == {"WO-1": 0, "WO-2": 0}


def test_plan_per_hour_follows_breaks(plant: Plant) -> None:
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    orders = _week(120, 80)
    h = datetime(2026, 11, 23, 9, 0, tzinfo=SEOUL)
    assert planned_between(orders, h, h + timedelta(hours=1), sched) == pytest.approx(200 * 60 / WEEK_MIN)
    h = datetime(2026, 11, 23, 10, 0, tzinfo=SEOUL)  # 10:30-10:40 is a break: 50 worked minutes
    assert planned_between(orders, h, h + timedelta(hours=1), sched) == pytest.approx(200 * 50 / WEEK_MIN)
    h = datetime(2026, 11, 23, 12, 0, tzinfo=SEOUL)  # lunch
    assert planned_between(orders, h, h + timedelta(hours=1), sched) == 0
    assert planned_between(orders, MON, FRI, sched) == pytest.approx(200)


def test_completions_start_one_lead_time_after_the_release(plant: Plant) -> None:
    """With a 1 h lead, output is levelled from Monday 09:30: by 12:00, 09:30-10:30 and
    10:40-12:00 are worked (140 min) of the window's 2900 - 60 minutes."""
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    orders = _week(120, 80)
    lead = {"FF-50": timedelta(hours=1)}
    at = datetime(2026, 11, 23, 12, 0, tzinfo=SEOUL)
    got = planned_by(orders, at, sched, lead)
    assert got["WO-1"] == pytest.approx(200 * 140 / (WEEK_MIN - 60)) and got["WO-2"] == 0
    assert planned_by(orders, MON + timedelta(minutes=59), sched, lead) == {"WO-1": 0, "WO-2": 0}
    assert planned_by(orders, FRI, sched, lead) == {"WO-1": 120, "WO-2": 80}  # still all due by the due time
    h = datetime(2026, 11, 23, 9, 0, tzinfo=SEOUL)  # the first output hour holds 30 planned minutes
    assert planned_between(orders, h, h + timedelta(hours=1), sched, lead) == pytest.approx(
        200 * 30 / (WEEK_MIN - 60)
    )


def test_raw_process_time_is_the_routings_work_without_waiting(plant: Plant) -> None:
    from stations.models import bind_plant, raw_process_times

    got = raw_process_times(plant, {"FF-50": "SPI", "GPS-70": "OQA"})
    assert got["FF-50"] == timedelta(seconds=25 + 20)  # PRINT board_s + SPI board_s of the plant file
    bound, gps = bind_plant(plant), plant.product("GPS-70")
    route = plant.spec.products["GPS-70"].routing
    assert "INSERT" not in route and route[-1] == "PACK"  # its own routing, up to OQA (not PACK)
    expected = sum(bound[s].seconds(gps) for s in route[: route.index("OQA") + 1])
    assert got["GPS-70"] == timedelta(seconds=expected) and got["GPS-70"] > timedelta(hours=4)  # 4 h aging


def test_orders_without_due_time_have_no_plan_by_time(plant: Plant) -> None:
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    orders = [PlannedOrder("A", "FF-50", 10, MON), *_week(30)]
    got = planned_by(orders, datetime(2026, 11, 24, 8, 30, tzinfo=SEOUL), sched)
    assert got["A"] is None and got["WO-1"] == pytest.approx(30 * 610 / WEEK_MIN)
    assert planned_between(orders[:1], MON, FRI, sched) == 0  # no due time: nothing by time


def test_store_keeps_work_orders_in_plan_order(store: SqliteStore) -> None:
    week = _week(120, 80, 40)
    later = PlannedOrder("NEXT", "GPS-70", 5, FRI + timedelta(days=3), FRI + timedelta(days=7))
    store.put_work_orders([*week, later, PlannedOrder("OPEN", "VDR-900", 3, MON - timedelta(days=30))])
    store.put_work_orders([PlannedOrder("WO-1", "FF-50", 100, MON, FRI)])  # re-planned: keeps its place
    got = store.planned_orders(MON + timedelta(days=1), MON + timedelta(days=2))
    assert [o.id for o in got] == ["OPEN", "WO-1", "WO-2", "WO-3"]
    assert got[1] == PlannedOrder("WO-1", "FF-50", 100, MON, FRI)
    assert got[1].start.utcoffset() == timedelta(0)  # the store gives UTC
    assert [o.id for o in store.planned_orders(FRI, FRI + timedelta(days=4))] == ["OPEN", "NEXT"]


def test_work_order_totals_and_hourly_output(store: SqliteStore) -> None:
    store.write([
        result("A", "SPI", "PASS", 0, work_order="W1"), result("B", "SPI", "FAIL", 10, work_order="W1"),
        result("B", "SPI", "PASS", 70, work_order="W1"), result("C", "SPI", "PASS", 75, work_order="W1"),
        result("D", "SPI", "FAIL", 130, work_order="W2"), result("A", "OQA", "PASS", 300, work_order="W1"),
    ])  # fmt: skip
    got = store.work_order_totals(["W1", "W2", "W9"], ["SPI", "OQA"])
    assert got == [("W1", "OQA", 1, 1), ("W1", "SPI", 3, 3), ("W2", "SPI", 1, 0)]
    # by hour of each unit's FIRST attempt: A, B in hour 0 (B passed on its retest), C in hour 1, D in hour 2
    hours = store.hourly_station_output(T0, T0 + timedelta(hours=3), "SPI")
    assert hours == {T0: (2, 2), T0 + timedelta(hours=1): (1, 1), T0 + timedelta(hours=2): (1, 0)}
    # a window starting and ending inside hours takes its edges unit by unit
    edge = store.hourly_station_output(T0 + timedelta(minutes=5), T0 + timedelta(minutes=131), "SPI")
    assert edge == {T0: (1, 1), T0 + timedelta(hours=1): (1, 1), T0 + timedelta(hours=2): (1, 0)}


def test_andon_rows_against_the_plan(store: SqliteStore, plant: Plant) -> None:
    """Monday 2026-11-02 (T0 = 09:00 Seoul): a week's two orders, levelled; the first had three
    units started and one finished; an unplanned order ran too."""
    mon = T0 - timedelta(minutes=30)
    fri = datetime(2026, 11, 6, 17, 30, tzinfo=SEOUL)
    store.put_work_orders(
        [PlannedOrder("W1", "FF-50", 100, mon, fri), PlannedOrder("W2", "GPS-70", 45, mon, fri)]
    )
    store.write([result(s, "SPI", "PASS", 0, work_order="W1") for s in "ABC"])
    store.write(
        [
            result("A", "OQA", "PASS", 60, work_order="W1"),
            result("X", "SPI", "PASS", 5, "VDR-900", work_order="W7"),
        ]
    )
    now = T0 + timedelta(hours=3)  # 12:00 Seoul
    rows = order_progress(store, plant, now, local_day_bounds(SEOUL, now.astimezone(SEOUL).date()))
    assert [(r.work_order, r.quantity, r.done, r.started_today, r.done_today, r.open) for r in rows] == [
        ("W1", 100, 1, 3, 1, 2), ("W2", 45, 0, 0, 0, 0), ("W7", None, 0, 1, 0, 1),
    ]  # fmt: skip
    # output counts at OQA, which a unit reaches after its 8 h aging at the earliest: nothing is due
    assert rows[0].planned_now == 0 and rows[0].versus_plan == 1
    assert rows[1].planned_now == 0 and rows[2].planned_now is None and rows[2].versus_plan is None
    lead = raw_process_times(plant, {"FF-50": "OQA"})["FF-50"]
    later = T0 + timedelta(days=1, hours=3)  # Tuesday 12:00
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    expected = 145 * sched(mon + lead, later) / sched(mon + lead, fri)
    rows = order_progress(store, plant, later, local_day_bounds(SEOUL, later.astimezone(SEOUL).date()))
    assert rows[0].planned_now == pytest.approx(expected) and 20 < expected < 25  # about 379 of 2469 min
    hours = hourly_output(store, plant, "SPI", T0 - timedelta(hours=1), T0 + timedelta(hours=2))
    assert [(h, u, g) for h, u, g, _ in hours] == [
        (T0 - timedelta(hours=1), 0, 0), (T0, 4, 4), (T0 + timedelta(hours=1), 0, 0)
    ]  # fmt: skip
    # at SPI the lead is 45 s (PRINT + SPI): output levelled from 08:30:45 over 2900 min - 45 s;
    # 08:00-09:00 holds 29.25 worked minutes, then 60, then 50 (break at 10:30)
    total = WEEK_MIN - 0.75
    plan = [p for *_, p in hours]
    assert plan == pytest.approx([145 * 29.25 / total, 145 * 60 / total, 145 * 50 / total])


def test_plan_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.db"
    assert main(["plan", "config/plans/jincheon-week.toml", "--store", f"sqlite:///{db}"]) == 0
    out = capsys.readouterr().out
    assert "WO-2648-01       FF-50         160  from 2026-11-23 08:30  due 2026-11-27 17:30" in out
    orders = SqliteStore(db).planned_orders(MON, FRI)
    assert [(o.id, o.quantity) for o in orders][-1] == ("WO-2648-05", 12)
    assert sum(o.quantity for o in orders) == 422
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[plan]\nname = "x"\nstart = 2026-11-23T08:30:00\ndue = 2026-11-22T08:30:00\n'
        '[[work_orders]]\nid = "W"\nproduct = "FF-5"\nquantity = 3\n'
    )
    assert main(["plan", str(bad), "--store", f"sqlite:///{db}"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "work_orders[0].product: unknown product 'FF-5'" in err
    assert "work_orders[0].due: 2026-11-22T08:30:00 is not after the order's release" in err
    assert len(SqliteStore(db).planned_orders(MON, FRI)) == 5  # nothing stored from the bad plan


def test_last_weeks_order_still_finishing_is_planned(store: SqliteStore, plant: Plant) -> None:
    prev = PlannedOrder("OLD", "FF-50", 2, MON - timedelta(days=7), FRI - timedelta(days=7))
    done = PlannedOrder("DONE", "FF-50", 1, MON - timedelta(days=7), FRI - timedelta(days=7))
    store.put_work_orders([prev, done, *_week(10)])
    start = MON - timedelta(days=7)
    store.write([result("A", "SPI", "PASS", 0, work_order="OLD", start=start),
                 result("D", "SPI", "PASS", 0, work_order="DONE", start=start),
                 result("D", "OQA", "PASS", 60, work_order="DONE", start=start),
                 result("A", "OQA", "PASS", 60, work_order="OLD", start=MON)])  # fmt: skip
    now = MON + timedelta(hours=2)
    rows = order_progress(store, plant, now, local_day_bounds(SEOUL, now.date()))
    assert [(r.work_order, r.quantity, r.done, r.planned_now) for r in rows][:1] == [("OLD", 2, 1, 2)]
    assert [r.work_order for r in rows] == ["OLD", "WO-1"]  # last week's finished order is gone


def test_plan_without_work_orders_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "conwip.toml"
    plan.write_text('[plan]\nname = "c"\nstart = 2026-11-23T08:30:00\nrelease = "conwip"\nwip_cap = 5\n'
                    'hours = 8\nmix = { FF-50 = 1 }\n')  # fmt: skip
    assert main(["plan", str(plan), "--store", f"sqlite:///{tmp_path / 'p.db'}"]) == 2
    err = capsys.readouterr().err
    assert f"{plan}" in err and "this plan has none" in err


def test_worked_time_from_running_totals_equals_walking_the_calendar(plant: Plant) -> None:
    walk = scheduled_seconds(plant.spec.calendar, plant.tz)
    fast = scheduled_seconds(
        plant.spec.calendar, plant.tz, (MON - timedelta(days=1), FRI + timedelta(days=3))
    )
    moments = [MON + timedelta(minutes=37 * k) for k in range(-40, 200)]  # breaks, nights, the weekend
    for a in moments[::7]:
        for b in moments[::5]:
            assert fast(a, b) == pytest.approx(walk(a, b)), (a, b)
    assert fast(MON, FRI) == WEEK_MIN * 60
    wide = (MON - timedelta(days=5), FRI + timedelta(days=9))  # beyond the span: walked
    assert fast(*wide) == pytest.approx(walk(*wide))


def test_the_plan_allows_the_flow_factor(store: SqliteStore) -> None:
    """[planning] flow_factor 2 (FF-50's own 3 over it): completions at OQA are planned from
    release + 3 x the raw process time, levelled over the scheduled time left to the due time."""
    import copy
    import tomllib

    from line.config import plant_from_dict
    from stations.models import planned_lead_times
    from tests.conftest import PLANT_FILE

    data = copy.deepcopy(tomllib.loads(PLANT_FILE.read_text()))
    data["planning"]["flow_factor"] = 2
    data["products"]["FF-50"]["flow_factor"] = 3.0
    plant = plant_from_dict(data, "plant.toml")
    raw = raw_process_times(plant, {"FF-50": "OQA", "GPS-70": "OQA"})
    lead = planned_lead_times(plant, {"FF-50": "OQA", "GPS-70": "OQA"})
    assert lead == {"FF-50": 3 * raw["FF-50"], "GPS-70": 2 * raw["GPS-70"]}
    mon = T0 - timedelta(minutes=30)
    fri = datetime(2026, 11, 6, 17, 30, tzinfo=SEOUL)
    store.put_work_orders([PlannedOrder("W1", "FF-50", 100, mon, fri)])
    later = T0 + timedelta(days=2, hours=3)  # Wednesday 12:00: 25.5 h after release, beyond 3 x 8.5 h
    sched = scheduled_seconds(plant.spec.calendar, plant.tz)
    start = mon + 3 * raw["FF-50"]
    expected = 100 * sched(start, later) / sched(start, fri)
    (row,) = order_progress(store, plant, later, local_day_bounds(SEOUL, later.astimezone(SEOUL).date()))
    assert row.planned_now == pytest.approx(expected) and 0 < expected < 100
    # with the raw lead alone the plan would be further along
    assert expected < 100 * sched(mon + raw["FF-50"], later) / sched(mon + raw["FF-50"], fri)
