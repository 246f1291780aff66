"""The QA page by the book, in Chromium on a fixed plant clock (Wednesday 2026-11-04 14:00 KST):
p-chart limits from a baseline before the judged days, readable with few points, percent axes,
and traceability by a serial's unique prefix with each attempt's measurements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.figures import p_chart_figure
from line.config import Plant
from line.spc import Subgroup, p_chart
from store.sqlite import SqliteStore
from tests.conftest import result
from tests.infra import served_app
from tests.test_dashboard import ARTIFACTS, chromium_page

NOW = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST


def test_a_p_chart_without_a_baseline_shows_points_and_no_limits() -> None:
    pts = p_chart([Subgroup("2026-11-03", 2, 10)], None)
    assert [(p.p, p.center, p.ucl, p.violations) for p in pts] == [(0.2, None, None, ())]
    fig = p_chart_figure(pts, "", "t")
    assert [tr.name for tr in fig.data] == ["p (% failing first pass)"]  # no limit lines
    assert fig.layout.xaxis.type == "category" and list(fig.data[0].text) == ["n=10"]


def _day(local_date: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{local_date}T{hour:02d}:00").replace(tzinfo=UTC) - timedelta(hours=9)


@pytest.fixture
def qa_site(tmp_path: Path, plant: Plant) -> Iterator[str]:
    db = tmp_path / "qa.db"
    s = SqliteStore(db)
    recs = []
    # baseline: 6 days before the last 7 days (10-20 .. 10-25), 20 units a day at FCT, 1 failing
    for d in range(6):
        day = _day(f"2026-10-{20 + d}")
        recs += [result(f"B{d}-{i:02d}", "FCT", "FAIL" if i == 0 else "PASS", i, start=day) for i in range(20)]
    # judged: 11-03, 20 units, 8 failing (40 %, beyond UCL 19.6 %); 11-04, 20 units, 1 failing
    recs += [result(f"J3-{i:02d}", "FCT", "FAIL" if i < 8 else "PASS", i, start=_day("2026-11-03")) for i in range(20)]
    recs += [result(f"J4-{i:02d}", "FCT", "FAIL" if i < 1 else "PASS", i, start=_day("2026-11-04")) for i in range(20)]
    # a traced unit: a false call at VI1, then FCT failing on V_TX, repaired, passing
    t0 = _day("2026-11-04", 11)
    recs += [
        result("FF50-2611-000123", "VI1", "PASS", 0, start=t0, defects=[{"code": "missing", "refdes": "C7", "confirmed": False}]),
        result("FF50-2611-000123", "FCT", "FAIL", 30, start=t0, defects=[{"code": "function_fail"}],
               measurements=[{"name": "V_TX", "value": 11.2, "unit": "V", "lo": 11.5, "hi": 12.5}]),
        result("FF50-2611-000123", "FCT", "PASS", 60, start=t0,
               measurements=[{"name": "V_TX", "value": 12.0, "unit": "V", "lo": 11.5, "hi": 12.5}]),
        result("FF50-2611-000200", "VI1", "PASS", 0, start=t0),
    ]  # fmt: skip
    s.write(recs)
    s.close()
    with served_app(create_app(plant, f"sqlite:///{db}", now=lambda: NOW)) as url:
        yield url + "qa"


def _texts(page: object, selector: str) -> list[str]:
    return page.locator(selector).evaluate_all("els => els.map(e => e.textContent)")  # type: ignore[attr-defined, no-any-return]


@pytest.mark.browser
def test_qa_page_p_chart_and_traceability(qa_site: str) -> None:
    with chromium_page(1300) as (page, errors):
        page.goto(qa_site)
        page.get_by_text("Last 7 days").click()
        page.wait_for_selector("#qa-pchart .legendtext:has-text('baseline')", timeout=20_000)
        centre = next(x for x in _texts(page, "#qa-pchart .legendtext") if "baseline" in x)
        # the baseline is the days before the judged ones, never the judged day itself
        assert "2026-10-20..2026-10-25" in centre and "n=120" in centre
        assert _texts(page, "#qa-pchart .xtick text") == ["2026-11-03", "2026-11-04"]  # days, not ms
        assert [x for x in _texts(page, "#qa-pchart .textpoint text") if x.startswith("n=")] == ["n=20", "n=21"]
        assert "rule 1" in _texts(page, "#qa-pchart .textpoint text")  # 11-03 at 40 % > UCL 19.6 %
        page.wait_for_selector("#qa-pareto .y2tick text", timeout=20_000)
        cum = _texts(page, "#qa-pareto .y2tick text")
        assert cum and all(x.endswith(" %") for x in cum), cum  # cumulative in %
        page.screenshot(path=str(ARTIFACTS / "qa-pchart-7d.png"), full_page=True)
        # 30 days judged: the 30 days before hold no units, so no limits, and the chart says why
        page.get_by_text("Last 30 days").click()
        page.wait_for_selector("#qa-pchart .gtitle:has-text('no limits')", timeout=10_000)
        assert not any("UCL" in x for x in _texts(page, "#qa-pchart .legendtext"))
        # traceability: an ambiguous prefix lists the serials, a unique one finds its serial
        page.fill("#qa-serial", "FF50-2611")
        page.click("#qa-search")
        page.wait_for_selector("#qa-prefix-many", timeout=10_000)
        assert "2 serials start with FF50-2611: FF50-2611-000123, FF50-2611-000200" in page.inner_text("#qa-prefix-many")
        page.fill("#qa-serial", "FF50-2611-0001")
        page.click("#qa-search")
        page.wait_for_selector("#qa-hist-FF50-2611-000123", timeout=10_000)
        rows = page.locator("#qa-history tbody tr")
        assert rows.count() == 3
        assert "missing@C7 (false call)" in rows.nth(0).inner_text()
        assert "V_TX 11.2 V [11.5, 12.5] ✗" in rows.nth(1).inner_text()
        assert "V_TX 12 V [11.5, 12.5]" in rows.nth(2).inner_text() and "✗" not in rows.nth(2).inner_text()
        page.screenshot(path=str(ARTIFACTS / "qa-trace.png"), full_page=True)
        assert page.inner_text("#qa-as-of").endswith("14:00:00")  # the time of its data, live
        page.goto(qa_site + "?lang=ko")
        page.wait_for_selector("#qa-pchart .legendtext:has-text('기준 기간')", timeout=20_000)  # 7 days judged by default
        page.screenshot(path=str(ARTIFACTS / "qa-ko.png"), full_page=True)
    assert errors == []
