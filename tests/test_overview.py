"""The andon: station status from state records (pure), the store's state queries, and the
overview page in Chromium with known states, output, alarms and the stale-data banner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from line.config import Plant, plant_from_dict
from line.plan import PlannedOrder
from line.records import StateRecord, record_from_dict
from line.status import (
    COLOURS,
    LABELS,
    PRIORITY,
    SourceProblem,
    data_freshness,
    display_state,
    down_too_long,
    segments,
    segments_on_shift,
    source_problems,
    station_status,
    stations_run_since,
    status_on_shift,
)
from store.base import SourceHealth
from store.sqlite import SqliteStore
from tests.conftest import result
from tests.infra import served_app
from tests.test_dashboard import ARTIFACTS, CHROMIUM, chromium_page

T = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


def _state(
    station: str, state: str, ts: datetime, equipment: str | None = None, reason: str | None = None
) -> StateRecord:
    line = "ASSY1" if station in ("ASSY", "AGING", "FT", "OQA", "PACK") else "SMT1"
    rec = record_from_dict({"schema": "linemon.state/1", "ts": ts, "line": line, "station": station,
                            "equipment": equipment or f"{station}-01", "state": state, "reason": reason})  # fmt: skip
    assert isinstance(rec, StateRecord)
    return rec


@pytest.mark.parametrize(
    ("state", "reason", "shown"),
    [("PRD", None, "running"), ("SBY", "starved", "starved"), ("SBY", "SBY_NoProductBlocked", "blocked"),
     ("SBY", "2202", "starved"), ("SBY", None, "idle"), ("SDT", "setup", "setup"), ("SDT", "SDT_PreventiveMaintenance", "planned_down"),
     ("UDT", "breakdown", "down"), ("NST", None, "not_scheduled"), ("ENG", None, "engineering")],
)  # fmt: skip
def test_display_states(state: str, reason: str | None, shown: str) -> None:
    assert display_state(state, reason) == shown


def test_every_display_state_has_a_label_and_a_colour_of_its_own() -> None:
    # the Gantt legend and the andon tell states apart by colour alone
    assert set(COLOURS) == set(LABELS) == set(PRIORITY)
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_station_shows_its_most_urgent_equipment_and_since_when() -> None:
    changes = [
        _state("FCT", "PRD", T, "FCT-01"),
        _state("FCT", "SBY", T + timedelta(minutes=1), "FCT-02", "starved"),
        _state("FCT", "UDT", T + timedelta(minutes=5), "FCT-02", "breakdown"),
        _state("FCT", "PRD", T + timedelta(minutes=9), "FCT-03"),
        _state("SPI", "NST", T),
    ]
    st = station_status(changes, ["FCT", "SPI", "VI1"])
    assert (st["FCT"].display, st["FCT"].since) == ("down", T + timedelta(minutes=5))
    assert st["FCT"].equipment == {"FCT-01": "running", "FCT-02": "down", "FCT-03": "running"}
    assert st["SPI"].display == "not_scheduled" and st["VI1"].display == "unknown"
    late = down_too_long(st, T + timedelta(minutes=20), {"FCT": 10, "SPI": 10, "VI1": 10})
    assert late == [("FCT", 15.0)]
    assert down_too_long(st, T + timedelta(minutes=14), {"FCT": 10, "SPI": 10, "VI1": 10}) == []


def test_state_changes_include_the_state_at_the_window_start(store: SqliteStore) -> None:
    store.write([_state("MOUNT", "UDT", T - timedelta(hours=3)), _state("MOUNT", "PRD", T + timedelta(minutes=10)),
                 _state("MOUNT", "SBY", T - timedelta(hours=5), reason="starved"), _state("SPI", "PRD", T + timedelta(hours=2))])  # fmt: skip
    got = store.state_changes(T, T + timedelta(hours=1))
    assert [(s.station, s.state, s.ts) for s in got] == [
        ("MOUNT", "UDT", T - timedelta(hours=3)),
        ("MOUNT", "PRD", T + timedelta(minutes=10)),
    ]
    assert store.last_data_time() == T + timedelta(hours=2)


def test_work_order_counts(store: SqliteStore) -> None:
    store.write([result("A", "SPI", "PASS", 0, work_order="W1"), result("B", "SPI", "FAIL", 1, work_order="W1"),
                 result("B", "SPI", "PASS", 2, work_order="W1"), result("A", "OQA", "PASS", 30, work_order="W1"),
                 result("C", "SPI", "PASS", 3, work_order="W2")])  # fmt: skip
    got = store.work_order_counts(T - timedelta(hours=1), T + timedelta(hours=1), ["SPI", "OQA"])
    assert got == [("FF-50", "W1", "OQA", 1, 1), ("FF-50", "W1", "SPI", 2, 2), ("FF-50", "W2", "SPI", 1, 1)]


# The andon's plant clock runs with the wall clock (the stale banner needs real seconds to pass)
# from Wednesday 2026-11-04 10:00 KST, so its "today", shift and hour never depend on when the
# tests run (a run just after midnight used to see a day with 20 minutes in it)
PLANT_T0 = datetime(2026, 11, 4, 1, 0, tzinfo=UTC)
_OFFSET = PLANT_T0 - datetime.now(UTC)


def plant_now() -> datetime:
    return datetime.now(UTC) + _OFFSET


@pytest.fixture
def andon(tmp_path: Path, plant: Plant) -> Iterator[tuple[str, SqliteStore]]:
    data = plant.spec.model_dump(mode="json", exclude_unset=True)
    data.setdefault("alarms", {})["source_silent_min"] = 0.1  # 6 s: the stale banner within the test
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # worked around the clock: whatever the
    data["calendar"] = {"shifts": [{"name": "am", "start": "00:00", "end": "12:00", "days": days},  # date
                                   {"name": "pm", "start": "12:00", "end": "00:00", "days": days}]}  # fmt: skip
    quick = plant_from_dict(data, "quick-stale.toml")
    db = tmp_path / "andon.db"
    s = SqliteStore(db)
    now = plant_now()
    s.write([_state(sid, "PRD", now - timedelta(hours=1)) for sid in plant.station_order])
    s.write([_state("MOUNT", "UDT", now - timedelta(minutes=30), reason="breakdown"),
             _state("REFLOW", "SBY", now - timedelta(minutes=3), reason="starved"),
             _state("ASSY", "SDT", now - timedelta(minutes=2), reason="setup")])  # fmt: skip
    recs = [
        result(f"S{i}", "SPI", "PASS", 0, work_order="WO-A", start=now - timedelta(minutes=20))
        for i in range(4)
    ] + [result("S0", "OQA", "PASS", 0, work_order="WO-A", start=now - timedelta(minutes=5))]
    # S4 failed FCT three times without passing: scrapped by the plant's rule, not WIP
    recs += [result("S4", "SPI", "PASS", 0, work_order="WO-A", start=now - timedelta(minutes=20))]
    recs += [result("S4", "FCT", "FAIL", k, work_order="WO-A", start=now - timedelta(minutes=4)) for k in range(3)]
    # FCT this shift: 3 of 4 first passed (75 %, n=4): no evidence against the 90 % floor
    recs += [result(f"F{i}", "FCT", "PASS", 0, start=now - timedelta(seconds=90)) for i in range(3)]
    # VI1 this shift: 30 of 40 first passed: below the floor with evidence, an alarm
    recs += [result(f"V{i}", "VI1", "PASS" if i >= 10 else "FAIL", i / 60, start=now - timedelta(seconds=80))
             for i in range(40)]  # fmt: skip
    s.write(recs)
    s.put_work_orders([PlannedOrder("WO-A", "FF-50", 10, now - timedelta(days=1), now + timedelta(days=1))])
    with served_app(create_app(quick, f"sqlite:///{db}", now=plant_now)) as url:
        yield url + "overview", s


@contextmanager
def _ingest_reporting(store: SqliteStore) -> Iterator[None]:
    """A source's health row written every 0.5 s, as `linemon ingest` does every 2 s."""
    done = threading.Event()

    def report() -> None:
        while not done.is_set():
            now = plant_now()
            store.put_health([SourceHealth("spi-mqtt", "connected", None, 0, 0, 0, 0, None, now)])
            done.wait(0.5)

    th = threading.Thread(target=report, daemon=True)
    th.start()
    try:
        yield
    finally:
        done.set()
        th.join(5)


def test_data_freshness_tells_a_quiet_line_from_a_dead_feed() -> None:
    silent = timedelta(minutes=5)
    up = [SourceHealth("spi-mqtt", "connected", None, 0, 0, 0, 0, None, T - timedelta(seconds=2))]
    assert data_freshness(T, T - timedelta(minutes=4), [], silent) == "live"
    assert data_freshness(T, T - timedelta(minutes=6), up, silent) == "quiet"
    assert data_freshness(T, None, up, silent) == "quiet"
    assert data_freshness(T, T - timedelta(minutes=6), [], silent) == "stale"  # imports only
    down = [replace(up[0], status="reconnecting")]
    assert data_freshness(T, T - timedelta(minutes=6), down, silent) == "stale"
    gone = [replace(up[0], updated=T - timedelta(minutes=6))]  # the ingest stopped writing
    assert data_freshness(T, T - timedelta(minutes=6), gone, silent) == "stale"


@pytest.mark.browser
def test_overview_page_in_chromium(andon: tuple[str, SqliteStore]) -> None:
    url, store = andon
    store.write([_state("PRINT", "PRD", plant_now())])  # fresh data: no banner yet
    with chromium_page(1200) as (page, errors):
        page.goto(url)
        page.wait_for_selector("#ov-state-MOUNT", timeout=20_000)
        assert page.inner_text("#ov-state-MOUNT") == "DOWN"
        assert (
            page.inner_text("#ov-state-REFLOW") == "Starved" and page.inner_text("#ov-state-ASSY") == "Setup"
        )
        assert page.inner_text("#ov-state-SPI") == "Running"
        assert "MOUNT down for 30 min" in page.inner_text("#ov-alarm-list")
        assert page.locator("#ov-stale-banner").count() == 0
        assert page.inner_text("#ov-done-FF-50-WO-A") == "1"
        assert page.inner_text("#ov-plan-FF-50-WO-A") == "10"  # the planned order and its quantity
        assert page.inner_text("#ov-wip") == "3 WIP"  # S1-S3 started at SPI, not through OQA yet
        assert page.inner_text("#ov-scrap-FF-50-WO-A") == "1"  # S4, scrapped at FCT: not open
        assert page.inner_text("#ov-open-FF-50-WO-A") == "3"
        assert page.inner_text("#ov-fpy-FCT") == "FPY shift 75.0 % (n=4)"
        assert page.inner_text("#ov-fpy-VI1") == "FPY shift 75.0 % (n=40)"
        alarms = page.inner_text("#ov-alarm-list")
        assert "VI1 FPY this shift 75.0 % (n=40): alarm since" in alarms and "(floor 90 %, clears at 92 %)" in alarms
        assert "FCT FPY" not in alarms  # one bad unit in four is not evidence
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
        time.sleep(7)  # no new data for longer than the (test) silence limit
        page.wait_for_selector("#ov-stale-banner", timeout=15_000)
        assert "STALE" in page.inner_text("#ov-stale-banner")
        with _ingest_reporting(store):  # the ingest is up and connected, the line just quiet
            page.wait_for_selector("#ov-quiet-banner", timeout=15_000)
            assert page.locator("#ov-stale-banner").count() == 0
            assert "the ingest is connected" in page.inner_text("#ov-quiet-banner")
        page.goto(url + "?tv=1")
        page.wait_for_selector("#ov-state-MOUNT", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "overview-tv.png"), full_page=True)
        page.click("#lang-ko")  # the language switch: Korean labels, same figures
        page.wait_for_selector("#ov-state-MOUNT:text-is('고장')", timeout=20_000)
        assert page.inner_text("#ov-state-SPI") == "가동" and page.inner_text("#ov-state-ASSY") == "셋업"
        page.wait_for_selector("#nav-links:has-text('현황')", timeout=20_000)  # the navigation follows
        alarms = page.inner_text("#ov-alarm-list")
        assert "MOUNT 고장 30분째 (한도 10분)" in alarms  # Korean word order, from the catalog
        assert "VI1 이번 근무조 직행률 75.0 % (n=40): " in alarms and "(기준 90 %, 92 % 이상이면 해제)" in alarms
        assert page.inner_text("#ov-done-FF-50-WO-A") == "1"
        assert page.inner_text("#nav-brand") == "linemon · 진천 공장"  # names from the plant file's name_ko
        page.screenshot(path=str(ARTIFACTS / "overview-ko.png"), full_page=True)
        page.goto(url + "?lang=ko")  # not a TV: each tile names its station, in Korean
        page.wait_for_selector("#ov-tile-PRINT:has-text('크림 솔더 인쇄')", timeout=20_000)
        assert "30분째" in page.inner_text("#ov-tile-MOUNT") and "SMT1 · 제조 1라인 (SMT)" in page.inner_text("#ov-lines")
        assert page.inner_text("#ov-fpy-VI1") == "근무조 직행률 75.0 % (n=40)"
        page.click("#lang-en")
        page.wait_for_selector("#ov-state-MOUNT:text-is('DOWN')", timeout=20_000)
    assert errors == []


@pytest.mark.browser
def test_the_tv_wall_fits_1920_by_1080(andon: tuple[str, SqliteStore]) -> None:
    """Every station, the alarms and the work orders on a 1080p TV without scrolling."""
    url, _ = andon
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(url + "?tv=1")
        page.wait_for_selector("#ov-orders", timeout=20_000)
        page.wait_for_selector("#ov-alarm-list", timeout=20_000)
        assert page.evaluate("document.documentElement.scrollHeight") <= 1080
        for sel in ["#ov-orders", "#ov-alarm-list", *[f"#ov-tile-{s}" for s in ("PRINT", "VI2", "ASSY", "PACK")]]:
            box = page.locator(sel).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 1080, sel
        page.screenshot(path=str(ARTIFACTS / "overview-tv-1080p.png"))
        browser.close()


def test_segments_and_downtime() -> None:
    from line.status import downtime_minutes, segments

    changes = [
        _state("MOUNT", "PRD", T - timedelta(hours=1)),
        _state("MOUNT", "UDT", T + timedelta(minutes=10), reason="breakdown"),
        _state("MOUNT", "SDT", T + timedelta(minutes=25), reason="setup"),
        _state("MOUNT", "PRD", T + timedelta(minutes=40)),
    ]
    segs = segments(changes, T, T + timedelta(hours=1))
    assert [(s.display, s.start, s.end) for s in segs] == [
        ("running", T, T + timedelta(minutes=10)),
        ("down", T + timedelta(minutes=10), T + timedelta(minutes=25)),
        ("setup", T + timedelta(minutes=25), T + timedelta(minutes=40)),
        ("running", T + timedelta(minutes=40), T + timedelta(hours=1)),
    ]
    assert downtime_minutes(segs) == {"down: breakdown": 15.0, "setup: setup": 15.0}


@pytest.mark.browser
def test_line_page_in_chromium(andon: tuple[str, SqliteStore]) -> None:
    url, _ = andon
    with chromium_page(1300) as (page, errors):
        page.goto(url.replace("/overview", "/line"))
        page.wait_for_selector("#line-avail-MOUNT", timeout=20_000)
        page.wait_for_selector("#line-gantt .main-svg", timeout=20_000)
        page.wait_for_selector("#line-downtime text:has-text('down: breakdown')", timeout=20_000)
        assert page.locator("#line-gantt g.trace.bars").count() >= 2  # running and down at least
        page.wait_for_selector("#line-output .legendtext:text-is('plan')", timeout=20_000)
        page.wait_for_selector("#line-gantt .annotation-text:text-is('am')", timeout=20_000)  # shift starts
        english_ticks = page.locator("#line-gantt .xtick text").all_text_contents()
        # the last hour (all stations reporting since): MOUNT running 30 min, down 30 min;
        # REFLOW starved for 3 min is standby, not downtime: availability 100 %, starved 5 %
        assert page.inner_text("#line-avail-MOUNT") == "50 %"
        assert page.inner_text("#line-loss-MOUNT") == "breakdowns"
        assert page.inner_text("#line-avail-REFLOW") == "100 %"
        assert page.inner_text("#line-starved-REFLOW") == "5 %"
        assert page.inner_text("#line-util-REFLOW") == "95 %"
        neck = page.inner_text("#line-bottleneck")
        assert neck.startswith("not one station:") and "MOUNT" in neck and "REFLOW" not in neck
        assert "starved and blocked are standby" in page.inner_text("#line-oee-definition")
        page.screenshot(path=str(ARTIFACTS / "line.png"), full_page=True)
        page.get_by_text("ASSY1 · ").click()
        page.wait_for_selector("#line-avail-ASSY", timeout=10_000)
        page.get_by_text("Yesterday").click()  # no state at all: the stops chart says so in words
        page.wait_for_selector("#line-downtime text:has-text('no stops in this period')", timeout=10_000)
        page.goto(url.replace("/overview", "/line") + "?lang=ko")
        page.wait_for_selector("#line-oee-definition:has-text('자재 대기와 후공정 대기는 대기')", timeout=20_000)
        # Plotly's own Korean locale: the date axis names the month as a Korean reader writes it
        page.wait_for_selector("#line-gantt .xtick text:has-text('11월')", timeout=20_000)
        assert any("Nov" in x for x in english_ticks), english_ticks
        assert page.inner_text("#line-loss-MOUNT") == "고장"
        page.screenshot(path=str(ARTIFACTS / "line-ko.png"), full_page=True)
    assert errors == []


def test_source_alarms_only_when_a_source_is_expected_to_talk() -> None:
    """Silence counts only while the source's station runs; the catch-all only with messages on
    unknown topics; a source that is not connected always."""
    now = T + timedelta(hours=2)

    def health(
        source: str, status: str = "connected", last: datetime | None = None, rejected: int = 0
    ) -> SourceHealth:
        return SourceHealth(source, status, last, 0, 0, rejected, 0, "lost", now)

    status = {"FCT", "SPI"}  # ran within the hold time; FT starved all along
    bindings = {"fct": "FCT", "ft": "FT", "spi": "SPI", "mes": None, "gone": "SPI"}
    rows = [
        health("fct", last=now - timedelta(minutes=20)),  # running and silent 20 min: alarm
        health("ft"),  # no message yet, but its station has no units: quiet, not broken
        health("spi", last=now - timedelta(minutes=1)),  # talking
        health("mes"),  # a gateway for many stations: its silence is not judged
        health("gone", status="reconnecting"),
        health("mqtt"),  # the catch-all, nothing on unknown topics
        health("stopped-one", status="stopped"),
    ]
    got = source_problems(rows, bindings, status, now, timedelta(minutes=5))
    assert [(p.source, p.kind, p.since) for p in got] == [
        ("fct", "silent", now - timedelta(minutes=20)), ("gone", "status", None),
    ]  # fmt: skip
    assert source_problems([health("mqtt", rejected=3)], bindings, status, now, timedelta(minutes=5)) == [
        SourceProblem("mqtt", "unbound", count=3)
    ]


def test_a_silent_source_alarm_holds_while_its_station_blinks_between_running_and_blocked() -> None:
    """SPI runs, is blocked for 40 s, runs, is blocked again: its source, silent for 20 min, stays
    reported through the blocked spells (hold 10 min), and clears only once the station has not
    run for the hold time."""
    now = T + timedelta(hours=2)
    changes = [_state("SPI", "PRD", now - timedelta(minutes=3)),
               _state("SPI", "SBY", now - timedelta(seconds=100), reason="SBY_NoProductBlocked"),
               _state("SPI", "PRD", now - timedelta(seconds=60)),
               _state("SPI", "SBY", now - timedelta(seconds=20), reason="SBY_NoProductBlocked")]  # fmt: skip
    health = [SourceHealth("spi", "connected", now - timedelta(minutes=20), 0, 0, 0, 0, None, now)]
    hold = timedelta(minutes=10)
    for probe in (now - timedelta(seconds=80), now - timedelta(seconds=40), now):  # blocked, running, blocked
        ran = stations_run_since(changes, probe - hold, probe)
        got = source_problems(health, {"spi": "SPI"}, ran, probe, timedelta(minutes=5))
        assert [p.source for p in got] == ["spi"], probe
    later = now + timedelta(minutes=11)
    assert stations_run_since(changes, later - hold, later) == set()
    assert source_problems(health, {"spi": "SPI"}, set(), later, timedelta(minutes=5)) == []


def test_waiting_outside_worked_time_is_not_scheduled() -> None:
    """Equipment starved since Thursday evening is "not scheduled" over the weekend and starved
    only from Monday's shift start; work and stops are kept as reported, even in a break."""
    thu = datetime(2026, 11, 5, 11, 0, tzinfo=UTC)  # 20:00 Seoul
    mon = datetime(2026, 11, 8, 23, 30, tzinfo=UTC)  # Monday 08:30 Seoul
    worked = [(thu - timedelta(hours=2), thu + timedelta(minutes=30)), (mon, mon + timedelta(hours=2)),
              (mon + timedelta(hours=2, minutes=10), mon + timedelta(hours=3, minutes=30))]  # fmt: skip
    changes = [_state("FT", "SBY", thu, reason="starved"), _state("MOUNT", "UDT", thu, reason="breakdown")]
    segs = segments_on_shift(segments(changes, thu, mon + timedelta(hours=3)), worked)
    ft = [(s.display, s.start, s.end) for s in segs if s.station == "FT"]
    assert ft == [
        ("starved", thu, thu + timedelta(minutes=30)),
        ("not_scheduled", thu + timedelta(minutes=30), mon),
        ("starved", mon, mon + timedelta(hours=2)),
        ("not_scheduled", mon + timedelta(hours=2), mon + timedelta(hours=2, minutes=10)),  # the break
        ("starved", mon + timedelta(hours=2, minutes=10), mon + timedelta(hours=3)),
    ]
    assert [(s.display, s.start, s.end) for s in segs if s.station == "MOUNT"] == [
        ("down", thu, mon + timedelta(hours=3))
    ]
    status = station_status(changes, ["FT", "MOUNT", "VI1"])
    weekend = status_on_shift(status, mon - timedelta(days=1), worked)
    assert (weekend["FT"].display, weekend["FT"].since) == ("not_scheduled", thu + timedelta(minutes=30))
    assert weekend["MOUNT"] == status["MOUNT"]  # a breakdown is a breakdown, shift or not
    assert (weekend["VI1"].display, weekend["VI1"].since) == ("not_scheduled", thu + timedelta(minutes=30))
    monday = status_on_shift(status, mon + timedelta(minutes=20), worked)
    assert (monday["FT"].display, monday["FT"].since) == ("starved", mon)
    assert (monday["VI1"].display, monday["VI1"].since) == ("unknown", mon)


def test_the_tick_cache_computes_once_for_every_screen_of_a_tick() -> None:
    """Twenty screens refreshing at once: one computation, all get its result; another key or an
    expired entry computes again."""
    from dashboard.context import TickCache

    cache, calls, gate = TickCache(), [], threading.Event()

    def slow() -> int:
        calls.append(1)
        gate.wait(2)
        return len(calls)

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("t1", 5.0, slow))) for _ in range(20)]
    for th in threads:
        th.start()
    time.sleep(0.2)
    gate.set()
    for th in threads:
        th.join(5)
    assert got == [1] * 20 and len(calls) == 1
    assert cache.get("t2", 5.0, slow) == 2  # the next tick
    assert cache.get("t3", 0.0, slow) == 3 and cache.get("t3", 0.0, slow) == 4  # expired at once


@pytest.mark.browser
def test_a_line_without_work_marks_no_station_as_its_bottleneck(tmp_path: Path, plant: Plant) -> None:
    """Every SMT station starved since the shift began (the week's orders done): the page says
    the line waited for work, and no row carries a "bottleneck" badge (it did on all nine)."""
    now = datetime(2026, 11, 4, 3, 0, tzinfo=UTC)  # Wednesday 12:00 KST, in the day shift
    s = SqliteStore(tmp_path / "idle.db")
    s.write([_state(sid, "SBY", now - timedelta(hours=3), reason="SBY_NoProductStarved")
             for sid in plant.spec.lines["SMT1"].stations])  # fmt: skip
    s.close()
    with served_app(create_app(plant, f"sqlite:///{tmp_path / 'idle.db'}", now=lambda: now)) as url, \
            chromium_page() as (page, errors):  # fmt: skip
        page.goto(url + "line")
        page.wait_for_selector("#line-bottleneck", timeout=20_000)
        assert page.inner_text("#line-bottleneck").startswith("none: the line waited for work")
        assert page.locator("#line-e10 .badge:has-text('bottleneck')").count() == 0
        assert page.inner_text("#line-starved-PRINT") == "100 %" and page.inner_text("#line-avail-PRINT") == "100 %"
    assert errors == []
