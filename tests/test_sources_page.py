"""Rejected data in view on the dashboard, in Chromium: each binding's health and reject share,
dead letters per source and reason and the latest ones shown safely; the andon's alarm for a
binding rejecting too much of its input; the language switch keeping a TV wall a TV wall."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from line.config import Plant
from line.status import rejecting_sources
from store.base import SourceHealth
from store.sqlite import SqliteStore
from tests.infra import served_app
from tests.test_dashboard import ARTIFACTS, chromium_page


def _health(source: str, stored: int, rejected: int, now: datetime) -> SourceHealth:
    return SourceHealth(source, "connected", now - timedelta(seconds=3), stored + rejected, stored, rejected, 0,
                        None, now, recent_stored=stored, recent_rejected=rejected)  # fmt: skip


def test_a_binding_rejecting_too_much_needs_a_sample_and_a_share() -> None:
    now = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)
    rows = [_health("a", 30, 10, now), _health("b", 99, 1, now), _health("c", 5, 5, now)]
    got = rejecting_sources(rows, share_max=0.05, min_messages=20)
    assert [(p.source, p.count, p.seen) for p in got] == [("a", 10, 40)]  # b: 1 %; c: only 10 messages


@pytest.fixture
def site(tmp_path: Path, plant: Plant) -> Iterator[str]:
    db = tmp_path / "src.db"
    s = SqliteStore(db)
    now = datetime.now(UTC)
    s.put_health([_health("fct-jig-1", 30, 10, now), _health("spi-mqtt", 500, 0, now)])
    s.dead_letter_many([(b"FCT-01;X;FF-50;MAYBE\r\n", "fct-jig-1", "field 'result': 'MAYBE' is no verdict", "/dev/ttyUSB0")] * 3
                       + [(b"\x1b[2J{bad", "spi-mqtt", "not JSON: unexpected character", "linemon/jincheon/SMT1/SPI/SPI-01/result")])  # fmt: skip
    s.close()
    with served_app(create_app(plant, f"sqlite:///{db}")) as url:
        yield url


@pytest.mark.browser
def test_sources_page_and_the_reject_alarm(site: str) -> None:
    with chromium_page(1200) as (page, errors):
        page.goto(site + "sources")
        page.wait_for_selector("#src-row-fct-jig-1", timeout=20_000)
        assert page.inner_text("#src-share-fct-jig-1") == "25.0 % (10/40)"
        assert "text-danger" in (page.get_attribute("#src-share-fct-jig-1", "class") or "")
        assert page.inner_text("#src-share-spi-mqtt") == "0.0 % (0/500)"
        counts = page.inner_text("#dl-count-table")
        assert "fct-jig-1\tfield 'result'\t3" in counts and "spi-mqtt\tnot JSON\t1" in counts
        page.wait_for_selector("#dl-grid .ag-row", timeout=10_000)
        grid = page.inner_text("#dl-grid")
        assert "\\x1b[2J{bad" in grid and "FCT-01;X;FF-50;MAYBE\\r\\n" in grid  # escaped, not rendered raw
        page.screenshot(path=str(ARTIFACTS / "sources.png"), full_page=True)
        page.goto(site + "overview?tv=1")
        page.wait_for_selector("#ov-alarm-list", timeout=20_000)
        assert "fct-jig-1: 25 % of its input rejected over the last 15 min (10 of 40)" in page.inner_text("#ov-alarm-list")
        assert "spi-mqtt" not in page.inner_text("#ov-alarm-list")
        page.click("#lang-ko")
        page.wait_for_selector("#nav-links:has-text('현황')", timeout=20_000)
        assert "tv=1" in page.url and "lang=ko" in page.url  # still the TV wall
        page.goto(site + "sources?lang=ko")
        page.wait_for_selector("#src-row-fct-jig-1", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "sources-ko.png"), full_page=True)
    assert errors == []
