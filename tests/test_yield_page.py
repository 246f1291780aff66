"""The yield page read as a supervisor and QA read it, in Chromium, on a fixed plant clock
(Wednesday 2026-11-04 14:00 KST, in the day shift) with data whose answers are known."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.periods import page_window
from line.config import Plant
from store.sqlite import SqliteStore
from tests.conftest import result
from tests.infra import served_app
from tests.test_dashboard import ARTIFACTS, chromium_page

NOW = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)  # Wednesday 14:00 KST
KST = timedelta(hours=9)


def _at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - KST


def _rec(serial: str, station: str, verdict: str, local: str, product: str = "FF-50", **kw: object) -> object:
    return result(serial, station, verdict, 0, product=product, start=_at(local), **kw)


def test_shift_windows_follow_the_calendar(plant: Plant) -> None:
    a, b, label = page_window("shift", plant, (None, None), NOW)
    assert (a, b, label) == (_at("2026-11-04T08:30"), NOW, "2026-11-04 day")
    a, b, label = page_window("prev_shift", plant, (None, None), NOW)
    assert (a, b, label) == (_at("2026-11-03T17:30"), _at("2026-11-03T20:30"), "2026-11-03 overtime")
    night = _at("2026-11-04T23:00")  # no shift now: "this shift" is the last one, the evening's overtime
    assert page_window("shift", plant, (None, None), night)[2] == "2026-11-04 overtime"
    assert page_window("prev_shift", plant, (None, None), night)[2] == "2026-11-04 day"


@pytest.fixture
def yield_site(tmp_path: Path, plant: Plant) -> Iterator[tuple[str, SqliteStore]]:
    db = tmp_path / "yield.db"
    s = SqliteStore(db)
    s.write([
        _rec("A", "SPI", "PASS", "2026-11-04T11:00"), _rec("B", "SPI", "PASS", "2026-11-04T11:00"),
        _rec("A", "FCT", "PASS", "2026-11-04T13:00"), _rec("B", "FCT", "FAIL", "2026-11-04T13:00"),
        _rec("B", "FCT", "PASS", "2026-11-04T13:20"),
        # VDR-900's only unit entered at SPI 10 days ago and was tested at FCT today: no unit of
        # the product entered the last 7 days, so no RTY (the station still shows its FPY)
        _rec("V1", "SPI", "PASS", "2026-10-25T10:00", "VDR-900"), _rec("V1", "FCT", "PASS", "2026-11-04T13:30", "VDR-900"),
        _rec("P1", "FCT", "FAIL", "2026-11-03T19:00"),  # Tuesday's overtime
    ])  # type: ignore[list-item]  # fmt: skip
    with served_app(create_app(plant, f"sqlite:///{db}", now=lambda: NOW)) as url:
        yield url, s
    s.close()


@pytest.mark.browser
def test_yield_page_figures_as_a_reader_needs_them(yield_site: tuple[str, SqliteStore]) -> None:
    url, store = yield_site
    with chromium_page(1300) as (page, errors):
        page.goto(url)
        page.wait_for_selector("#fpy-FF-50-FCT", timeout=20_000)
        # last 7 days: FF-50's RTY multiplies SPI and FCT only, and says so
        assert page.inner_text("#rty-FF-50") == "33.3 %"  # SPI 2/2 x FCT 1/3 (A; B failed first; P1)
        assert page.inner_text("#rty-cover-FF-50") == "RTY over 2 of 7 stations"
        # VDR-900: 0 units entered the window: no RTY on its card, no bar, its FCT FPY in the table
        assert page.inner_text("#units-VDR-900") == "0" and page.inner_text("#rty-VDR-900") == "–"
        assert page.inner_text("#fpy-VDR-900-FCT") == "100.0 %"
        page.wait_for_selector("#yield-rty .xtick text", timeout=20_000)  # the figure is drawn after the cards
        bars = page.locator("#yield-rty .xtick text").evaluate_all("els => els.map(e => e.textContent)")
        assert bars == ["FF-50"]  # the bar chart agrees with the cards
        # all products per station: A, B, V1 and Tuesday's P1 at FCT: 2 of 4
        assert page.inner_text("#fpy-ALL-FCT") == "50.0 %"
        page.screenshot(path=str(ARTIFACTS / "yield-page-7d.png"), full_page=True)
        # this shift (the day shift up to 14:00): A, B, V1 at FCT, 2 of 3, as the andon says
        page.get_by_text("This shift").click()
        page.wait_for_selector("#yield-window:has-text('shift 2026-11-04 day')", timeout=10_000)
        page.wait_for_selector("#fpy-ALL-FCT:text-is('66.7 %')", timeout=10_000)
        page.goto(url + "overview")  # the andon's shift FPY is the same figure
        page.wait_for_selector("#ov-fpy-FCT:text-is('FPY shift 66.7 % (n=3)')", timeout=20_000)
        page.goto(url)
        page.wait_for_selector("#fpy-FF-50-FCT", timeout=20_000)
        page.get_by_text("Previous shift").click()
        page.wait_for_selector("#yield-window:has-text('2026-11-03 overtime')", timeout=10_000)
        page.wait_for_selector("#fpy-ALL-FCT:text-is('0.0 %')", timeout=10_000)
        # dates typed into the range apply without picking "Custom" first
        page.fill("input.dash-datepicker-start-date", "2026-10-20")
        page.keyboard.press("Enter")
        page.fill("input.dash-datepicker-end-date", "2026-10-27")
        page.keyboard.press("Enter")
        page.wait_for_selector("#yield-window:has-text('2026-10-20 00:00 – 2026-10-28 00:00')", timeout=10_000)
        assert page.inner_text("#units-VDR-900") == "1"
        # an unknown work order says so
        page.fill("#yield-wo", "WO-NOPE")
        page.press("#yield-wo", "Enter")
        page.wait_for_selector("#yield-wo-missing", timeout=30_000)  # a loaded CI machine took > 10 s once
        assert page.inner_text("#yield-wo-missing") == "No units for work order WO-NOPE"
        page.fill("#yield-wo", "")
        page.keyboard.press("Enter")
        page.get_by_text("Last 7 days").click()
        page.wait_for_selector("#units-FF-50:text-is('3')", timeout=10_000)  # A, B, P1
        # live: a unit stored now shows up at the next refresh without touching the page
        store.write([_rec("C", "SPI", "PASS", "2026-11-04T13:50")])  # type: ignore[list-item]
        page.wait_for_selector("#units-FF-50:text-is('4')", timeout=45_000)
        page.goto(url + "?lang=ko")
        page.wait_for_selector("#rty-cover-FF-50:text-is('7개 공정 중 2개 공정 기준')", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "yield-page-ko.png"), full_page=True)
    assert errors == []
