"""The dashboard: pure figure builders, and the yield page in a real Chromium (Playwright)."""

import contextlib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.app import create_app
from dashboard.figures import fpy_heatmap, rty_bars
from line.config import Plant
from line.kpi import ProductTally, StationTally, yield_report
from line.records import record_from_dict
from store.sqlite import SqliteStore
from tests.infra import served_app

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_fpy_heatmap_and_rty_bars(plant: Plant) -> None:
    figs = yield_report(
        plant,
        {("FF-50", "SPI"): StationTally(4, 3, 4, 5, 1, 0), ("FF-50", "FCT"): StationTally(4, 2, 3, 6, 3, 1)},
        {"FF-50": ProductTally(4, 3, 4)},
    )
    hm = fpy_heatmap(figs, [s for s in plant.station_order if plant.inspects(s)])
    trace = hm.data[0]
    assert list(trace.x) == ["SPI", "FCT"]  # only stations with data, in flow order
    assert list(trace.y) == list(plant.spec.products)
    assert trace.z[0] == (75.0, 50.0) or list(trace.z[0]) == [75.0, 50.0]
    assert trace.text[0][1] == "50.0%" and trace.z[1][0] is None  # no data is blank, not 0 %
    bars = rty_bars(figs)
    assert [b.name for b in bars.data] == ["RTY", "Final yield"]
    assert list(bars.data[0].x) == ["FF-50"] and bars.data[0].y[0] == pytest.approx(37.5)


def _rec(
    serial: str,
    station: str,
    verdict: str,
    ts: datetime,
    product: str = "FF-50",
    defects: tuple[str, ...] = (),
) -> object:
    return record_from_dict(
        {
            "schema": "linemon.result/1",
            "ts": ts,
            "line": "SMT1",
            "station": station,
            "serial": serial,
            "product": product,
            "work_order": "WO-T1",
            "result": verdict,
            "defects": [{"code": c.split("@")[0], "refdes": c.split("@")[1]} for c in defects],
        }
    )


@pytest.fixture
def served(tmp_path: Path, plant: Plant) -> Iterator[str]:
    db = tmp_path / "ui.db"
    s = SqliteStore(db)
    now = datetime.now(UTC)
    recent, old = now - timedelta(hours=2), now - timedelta(days=20)
    s.write(
        [
            _rec("A", "FCT", "PASS", recent),
            _rec("B", "FCT", "FAIL", recent, defects=("bridge@U12",)),
            _rec("B", "FCT", "PASS", recent + timedelta(minutes=9)),
            _rec("A", "SPI", "PASS", recent - timedelta(minutes=30)),
            _rec("B", "SPI", "PASS", recent - timedelta(minutes=30)),
            _rec("C", "FCT", "PASS", old),
            _rec("D", "FCT", "PASS", old),
            _rec("R", "FCT", "FAIL", recent, "MR-1200", defects=("bridge@U3", "open@R1")),
        ]
    )  # type: ignore[list-item]
    s.close()
    with served_app(create_app(plant, f"sqlite:///{db}")) as url:
        yield url


@contextmanager
def chromium_page(height: int = 1000) -> Iterator[tuple[Any, list[str]]]:
    """Debian's Chromium through Playwright, with console errors and page errors collected."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": height})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, errors
        browser.close()


@pytest.mark.browser
def test_yield_page_in_chromium(served: str) -> None:
    with chromium_page() as (page, errors):
        page.goto(served)
        page.wait_for_selector("#fpy-FF-50-FCT", timeout=20_000)
        # last 7 days (default): A passes, B fails then passes -> FPY 50 %, final 100 %
        assert page.inner_text("#fpy-FF-50-FCT") == "50.0 %"
        assert page.inner_text("#fpy-FF-50-SPI") == "100.0 %"
        assert page.inner_text("#rty-FF-50") == "50.0 %"
        assert page.inner_text("#units-FF-50") == "2"
        assert page.inner_text("#rty-MR-1200") == "0.0 %"
        assert page.inner_text("#rty-GPS-70") == "–"  # a product without data says so
        for code in ("FF-50", "MR-1200", "AIS-300", "GPS-70", "VDR-900"):
            assert page.locator(f"#card-{code}").is_visible()
        page.wait_for_selector(".js-plotly-plot .main-svg")
        page.screenshot(path=str(ARTIFACTS / "yield-7d.png"), full_page=True)
        page.get_by_text("Last 30 days").click()
        page.wait_for_selector("#units-FF-50:text-is('4')", timeout=10_000)
        assert page.inner_text("#fpy-FF-50-FCT") == "75.0 %"
        page.screenshot(path=str(ARTIFACTS / "yield-30d.png"), full_page=True)
        page.goto(served + "?lang=ko")  # Korean labels, the same figures
        page.wait_for_selector("#card-FF-50:has-text('누적 직행률(RTY)')", timeout=20_000)
        assert page.inner_text("#fpy-FF-50-FCT") == "50.0 %"
        assert "최근 30일" in page.inner_text("#yield-period") and "직행률" in page.inner_text(
            "#yield-tables"
        )
        page.wait_for_selector("#yield-heatmap .gtitle:text-is('제품·공정별 직행률')", timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "yield-ko.png"), full_page=True)
    assert errors == []


def test_pareto_and_p_chart_figures() -> None:
    from dashboard.figures import p_chart_figure, pareto_figure
    from line.kpi import pareto
    from line.spc import Subgroup, p_chart

    fig = pareto_figure(pareto({"open": 1, "bridge": 3, "missing": 1}), "t")
    assert list(fig.data[0].x) == ["bridge", "missing", "open"] and list(fig.data[0].y) == [3, 1, 1]
    assert list(fig.data[1].y) == [60.0, 80.0, 100.0] and fig.data[1].yaxis == "y2"
    pts = p_chart([Subgroup("d1", 1, 100), Subgroup("d2", 30, 100)], pbar=0.02)
    fig = p_chart_figure(pts, "baseline", "t")
    assert [t.name for t in fig.data][-1] == "rule violation" and list(fig.data[-1].x) == ["d2"]
    assert fig.data[1].line.shape == "hvh"  # limits drawn as steps


def test_daily_subgroups_count_units_by_local_day(store: SqliteStore, plant: Plant) -> None:
    from dashboard.queries import daily_subgroups

    day1 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    store.write(
        [
            _rec("A", "FCT", "FAIL", day1), _rec("A", "FCT", "PASS", day1 + timedelta(hours=1)),
            _rec("B", "FCT", "PASS", day1), _rec("C", "FCT", "PASS", day1 + timedelta(hours=15)),  # 00:00 next day
            _rec("D", "SPI", "FAIL", day1),
        ]
    )  # type: ignore[list-item]  # fmt: skip
    groups = daily_subgroups(store, plant, day1 - timedelta(days=1), day1 + timedelta(days=2), "FCT", None)
    assert [(g.label, g.defective, g.n) for g in groups] == [("2026-11-02", 1, 2), ("2026-11-03", 0, 1)]


@pytest.mark.browser
def test_qa_page_in_chromium(served: str) -> None:
    with chromium_page(1100) as (page, errors):
        page.goto(served + "qa")
        page.wait_for_selector("#qa-top-key", timeout=20_000)
        assert page.inner_text("#qa-top-key") == "bridge"  # 2 bridges (B, R) before 1 open
        assert "(2 / 3)" in page.inner_text("#qa-top")
        page.get_by_text("Reference designator").click()
        page.wait_for_selector("#qa-top:has-text('/ 3')")
        page.fill("#qa-serial", "B")
        page.click("#qa-search")
        page.wait_for_selector("#qa-hist-B", timeout=10_000)
        assert "FF-50" in page.inner_text("#qa-hist-B") and "WO-T1" in page.inner_text("#qa-hist-B")
        rows = page.locator("#qa-history tbody tr")
        assert rows.count() == 3 and "bridge@U12" in rows.nth(1).inner_text()
        page.screenshot(path=str(ARTIFACTS / "qa-serial.png"), full_page=True)
        page.fill("#qa-serial", "WO-T1")
        page.click("#qa-search")
        page.wait_for_selector("#qa-wo-count", timeout=10_000)
        assert page.inner_text("#qa-wo-count") == "Work order WO-T1: 5 units"
        page.fill("#qa-serial", "NOPE")
        page.click("#qa-search")
        page.wait_for_selector("#qa-notfound", timeout=10_000)
    assert errors == []


@pytest.mark.browser
def test_simulation_page_runs_in_the_background(served: str) -> None:
    with chromium_page(1300) as (page, errors):
        page.goto(served + "simulate")
        page.wait_for_selector("#sim-run", timeout=20_000)
        page.fill("#sim-reps", "2")
        page.fill("#sim-whatif", "stations.FT.machines=1")
        page.click("#sim-run")
        page.wait_for_selector("#sim-table", timeout=120_000)
        bottleneck = page.inner_text("#sim-bottleneck-whatif")  # with its share of the time and interval
        assert re.fullmatch(r"FT \d+% of the time \[\d+%, \d+%\] \(sole \d+%, shifting \d+%\).*", bottleneck), bottleneck
        row = page.inner_text("#sim-row-throughput_per_hour")
        assert "[" in row and "(runs " in row  # the mean with its interval, and what single runs gave
        assert page.inner_text("#sim-progress") == "4/4 runs"
        cells = page.locator("#sim-flow-FF-50 td").all_inner_texts()  # product, lead and flow factor x2
        assert cells[0] == "FF-50" and len(cells) == 5 and float(cells[2]) >= 1.0  # never below raw time
        page.screenshot(path=str(ARTIFACTS / "simulation.png"), full_page=True)
        page.fill("#sim-whatif", "stations.NOPE.machines=1")
        page.click("#sim-run")
        page.wait_for_selector("#sim-error", timeout=60_000)
        assert "NOPE" in page.inner_text("#sim-error")
    assert errors == []


@pytest.mark.browser
def test_simulation_of_a_product_mix_in_korean(served: str) -> None:
    with chromium_page(1300) as (page, errors):
        page.goto(served + "simulate?lang=ko")
        page.wait_for_selector("#sim-run:has-text('실행')", timeout=20_000)
        page.get_by_text("제품 구성").click()
        page.wait_for_selector("#sim-mix-box.show", timeout=10_000)
        page.fill("#sim-reps", "2")
        page.fill("#sim-whatif", "stations.FT.machines=1")
        page.click("#sim-run")  # nothing typed in yet: a clear message, not a traceback
        page.wait_for_selector("#sim-error", timeout=60_000)
        assert page.inner_text("#sim-error") == "적어도 한 제품의 수량을 입력하세요."
        page.fill('[id*="sim-mix"][id*="GPS-70"]', "30")
        page.fill("#sim-lot", "15")
        page.click("#sim-run")
        page.wait_for_selector("#sim-table", timeout=120_000)
        head = page.inner_text("#sim-table thead")
        assert "제품 구성" in head and "대응 95 % 신뢰구간" in head
        assert (
            "병목 공정" in page.inner_text("#sim-table")
            and page.inner_text("#sim-bottleneck-whatif").startswith("FT 시간의 ")
        )
        page.wait_for_selector(".gtitle:has-text('시간 구성')", timeout=10_000)  # figure titles too
        assert "흐름 계수" in page.inner_text("#sim-flow thead")
        gps = page.locator("#sim-flow-GPS-70 td").all_inner_texts()
        assert (
            gps[0] == "GPS-70"
            and float(gps[2]) >= 1.0
            and page.inner_text("#sim-flow-FF-50 td >> nth=2") == "–"
        )
        page.screenshot(path=str(ARTIFACTS / "simulation-mix-ko.png"), full_page=True)
    assert errors == []


def test_state_timeline_is_local_time_with_translated_states() -> None:
    from dashboard.figures import state_timeline
    from line.status import COLOURS, Segment

    t0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    segs = [Segment("FCT", "FCT-01", "running", None, t0, t0 + timedelta(minutes=30)),
            Segment("FCT", "FCT-01", "down", "breakdown", t0 + timedelta(minutes=30), t0 + timedelta(minutes=45)),
            Segment("SPI", "SPI", "running", None, t0, t0 + timedelta(hours=1))]  # fmt: skip
    fig = state_timeline(segs, ZoneInfo("Asia/Seoul"), COLOURS, "t", "ko")
    down, running = fig["data"]
    assert (down["name"], running["name"]) == ("고장", "가동")
    assert down["base"] == ["2026-11-02T09:30:00"] and down["x"] == [15 * 60 * 1000]
    assert down["y"] == ["FCT · FCT-01"] and down["hovertext"] == ["breakdown"]
    assert running["y"] == ["FCT · FCT-01", "SPI"] and running["marker"]["color"] == COLOURS["running"]
    assert fig["layout"]["yaxis"]["categoryarray"] == ["SPI", "FCT · FCT-01"]  # sorted, first on top
    flow = state_timeline(segs, ZoneInfo("Asia/Seoul"), COLOURS, "t", flow=["SPI", "FCT"])
    assert flow["layout"]["yaxis"]["categoryarray"] == ["FCT · FCT-01", "SPI"]  # the line's flow, top down


@pytest.mark.browser
def test_yield_filters_and_trends_in_chromium(served: str) -> None:
    with chromium_page(1400) as (page, errors):
        page.goto(served)
        page.wait_for_selector("#units-FF-50:text-is('2')", timeout=20_000)  # last 7 days: A and B
        page.wait_for_selector("#yield-trend .legendtext:text-is('FF-50')", timeout=20_000)
        page.fill("#yield-wo", "WO-T1")
        page.press("#yield-wo", "Enter")  # the work order's units, whenever made: A, B, C, D
        page.wait_for_selector("#units-FF-50:text-is('4')", timeout=10_000)
        assert page.inner_text("#fpy-FF-50-FCT") == "75.0 %" and "WO-T1" in page.inner_text("#yield-window")
        page.screenshot(path=str(ARTIFACTS / "yield-work-order.png"), full_page=True)
        page.fill("#yield-wo", "")
        page.press("#yield-wo", "Enter")
        page.wait_for_selector("#units-FF-50:text-is('2')", timeout=10_000)
        page.get_by_text("by week").click()
        page.wait_for_selector("#yield-trend .gtitle:has-text('RTY by week')", timeout=10_000)
        page.goto(served + "qa")
        page.wait_for_selector("#qa-weekly .legendtext:text-is('bridge')", timeout=20_000)
        assert page.locator("#qa-weekly .legendtext:text-is('first attempts failed %')").count() == 1
        page.screenshot(path=str(ARTIFACTS / "qa-weekly.png"), full_page=True)
    assert errors == []


def test_shift_marks_at_local_shift_boundaries(plant: Plant) -> None:
    from dashboard.figures import shift_marks
    from line.calendar import shifts_between

    seoul = ZoneInfo("Asia/Seoul")
    mon = datetime(2026, 11, 2, 0, 0, tzinfo=seoul)
    shapes, notes = shift_marks(
        shifts_between(plant.spec.calendar, seoul, mon, mon + timedelta(days=1)), seoul
    )
    assert [s["x0"] for s in shapes] == ["2026-11-02T08:30:00", "2026-11-02T17:30:00",
                                         "2026-11-02T17:30:00", "2026-11-02T20:30:00"]  # fmt: skip
    assert [(n["x"], n["text"]) for n in notes] == [
        ("2026-11-02T08:30:00", "day"),
        ("2026-11-02T17:30:00", "overtime"),
    ]


def test_output_figure_bars_and_plan_cover_their_hour() -> None:
    from dashboard.figures import output_figure

    seoul = ZoneInfo("Asia/Seoul")
    h = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    fig = output_figure([(h, 5, 4, 6.2), (h + timedelta(hours=1), 3, 3, 5.17)], seoul, "VI2")
    passed, failed, plan = fig.data
    assert [str(x) for x in passed.x] == ["2026-11-02 09:30:00", "2026-11-02 10:30:00"]  # mid-hour
    assert list(passed.y) == [4, 3] and list(failed.y) == [1, 0] and passed.width == 3_240_000
    assert list(plan.y) == [6.2, 5.17] and plan.line.shape == "hvh"
    assert fig.layout.title.text == "Output per hour at VI2"
    bare = output_figure([(h, 2, 2, None)], seoul, "VI2", "ko")
    assert len(bare.data) == 2 and bare.layout.title.text == "VI2 시간당 생산량 (계획 없음)"


def test_time_split_figure_stacks_each_stations_shares() -> None:
    from dashboard.figures import SPLIT_COLOURS, time_split_figure

    split = {k: {"mean": v} for k, v in zip(SPLIT_COLOURS, (0.5, 0.1, 0.05, 0.15, 0.2, 0.0), strict=True)}
    idle = {k: {"mean": 0.0} for k in SPLIT_COLOURS} | {"off_shift": {"mean": 1.0}}
    fig = time_split_figure({"MOUNT": {"time_split": split}, "FT": {"time_split": idle}}, "t", "ko")
    assert [d.name for d in fig.data] == ["가공", "셋업", "고장", "후공정 대기", "자재 대기", "비근무"]
    assert list(fig.data[0].y) == ["MOUNT", "FT"] and list(fig.data[0].x) == [50.0, 0.0]
    assert [d.x[0] for d in fig.data] == [50.0, 10.0, 5.0, 15.0, 20.0, 0.0]  # MOUNT sums to 100 %
    assert list(fig.data[-1].x) == [0.0, 100.0] and fig.layout.barmode == "stack"


@pytest.mark.browser
def test_a_store_that_cannot_answer_is_said_on_the_page(plant: Plant) -> None:
    """A callback whose store query fails (here the PostgreSQL server went away after the
    dashboard started) puts the store's own message, naming it, in an alert on the page; the
    page does not stay silently stale."""
    import shutil
    import tempfile

    from linemon.pgserver import PgServer

    folder = Path(tempfile.mkdtemp(prefix="linemon-pg-gone-"))
    server = PgServer(folder)
    try:
        app = create_app(plant, server.url)
        server.stop()
        with served_app(app) as base, chromium_page() as (page, _errors):
            page.goto(base + "overview")
            page.wait_for_selector("#app-error", state="visible", timeout=20_000)
            text = page.inner_text("#app-error")
            page.screenshot(path=str(ARTIFACTS / "store-error.png"), full_page=True)
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    assert server.url in text and "Traceback" not in text
