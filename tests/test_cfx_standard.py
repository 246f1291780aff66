"""IPC-CFX as the standard writes it, through a real mosquitto and `linemon ingest` into the store,
`linemon report yield` and the Yield page; and bad input sent between good messages: the good
ones are stored, each bad one is dead-lettered with its reason."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from dashboard.app import create_app
from line.config import Plant
from tests.conftest import PLANT_FILE
from tests.infra import Broker, served_app, wait_for
from tests.test_cli import linemon
from tests.test_dashboard import ARTIFACTS, chromium_page
from tests.test_ingest_mqtt import SPI, _connected, _ids, _ingest, _spi, _stop, broker  # noqa: F401

FIX = Path(__file__).parent / "fixtures" / "cfx"
CFX = "cfx/SMT1/VI1/aoi"


def _dead(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db, timeout=5) as c:
        return [(r[0], r[1]) for r in c.execute("SELECT location, reason FROM dead_letters ORDER BY id")]


def test_a_two_up_panel_with_mixed_results_end_to_end(tmp_path: Path, broker: Broker, plant: Plant) -> None:  # noqa: F811
    """Position 1 passed, position 2 failed at VI1: 2 units, FPY 50 %, final yield 50 %, no
    retest (counted as one unit tested twice it was FPY 0 %, final 100 %, 1 retest)."""
    db, log = tmp_path / "p.db", tmp_path / "ingest.log"
    ing = _ingest(broker, db, log)
    pub = broker.client("test-pub-panel")
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        for name in ("work_started_panel.json", "units_inspected_panel_2up.json"):
            pub.publish(CFX, (FIX / name).read_bytes(), qos=1).wait_for_publish(5)
        wait_for(lambda: len(_ids(db)) == 2, 15, "the panel's two units were not stored")
    finally:
        _stop(ing)
        pub.disconnect()
    with sqlite3.connect(db) as c:
        rows = sorted(c.execute("SELECT serial, product, work_order, result FROM results"))
    assert rows == [("FF50-P2611-0007/1", "FF-50", "WO-2648-01", "PASS"),
                    ("FF50-P2611-0007/2", "FF-50", "WO-2648-01", "FAIL")]  # fmt: skip
    out = linemon("report", "yield", "--json", "--from", "2026-11-24", "--to", "2026-11-25",
                  "--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))  # fmt: skip
    assert out.returncode == 0, out.stderr
    vi1 = json.loads(out.stdout)["products"]["FF-50"]["stations"]["VI1"]
    assert (vi1["units"], vi1["fpy"], vi1["final_yield"], vi1["retests"]) == (2, 0.5, 0.5, 0)
    now = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 14:00 KST that day
    with served_app(create_app(plant, f"sqlite:///{db}", now=lambda: now)) as url, chromium_page() as (page, errors):
        page.goto(url)
        page.get_by_text("Today").click()
        page.wait_for_selector("#fpy-FF-50-VI1:text-is('50.0 %')", timeout=20_000)
        assert page.inner_text("#units-FF-50") == "2"
        page.screenshot(path=str(ARTIFACTS / "yield-cfx-panel.png"), full_page=True)
    assert errors == []


def test_bad_input_between_good_messages_is_dead_lettered_with_its_reason(tmp_path: Path, broker: Broker) -> None:  # noqa: F811
    db, log = tmp_path / "b.db", tmp_path / "ingest.log"
    ing = _ingest(broker, db, log)
    pub = broker.client("test-pub-bad")
    now = datetime.now(UTC)

    def native(i: int, ts: datetime) -> bytes:
        return _spi(i).replace(orjson.dumps(datetime(2026, 11, 21, tzinfo=UTC) + timedelta(seconds=i))[1:-1],
                               ts.isoformat().encode())  # fmt: skip

    bomb = gzip.compress(b" " * 20_000_000)  # 20 KB that inflates to 20 MB, past the 16 MB limit
    sent = [
        (SPI, native(1, now)), (SPI, b"[]"), (SPI, native(2, now)),
        (SPI, native(3, datetime(1970, 1, 1, tzinfo=UTC))), (SPI, native(4, now)),
        (SPI, native(5, datetime(3000, 1, 1, tzinfo=UTC))), (SPI, native(6, now)),
        (CFX, b"[]"), (SPI, native(7, now)), (CFX, bomb), (SPI, native(8, now)),
    ]  # fmt: skip
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        for topic, payload in sent:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(lambda: len(_ids(db)) == 6 and len(_ids(db, "dead_letters")) == 5, 15, "not all arrived")
    finally:
        _stop(ing)
        pub.disconnect()
    assert sorted(_ids(db)) == [f"m-{i:06d}" for i in (1, 2, 4, 6, 7, 8)]
    reasons = [r for _, r in _dead(db)]
    assert reasons[0] == "an empty JSON array: no record in the message"
    assert "1970-01-01T00:00:00+00:00 is more than [ingest] max_age_days = 400 days before the ingest's clock" in reasons[1]
    assert "3000-01-01T00:00:00+00:00 is more than [ingest] max_future_h = 24 h ahead of the ingest's clock" in reasons[2]
    assert reasons[3] == "an empty JSON array: no CFX envelope in the message"
    assert reasons[4].startswith("gzip payload inflates past the 16 MB limit")
    with sqlite3.connect(db) as c:
        (kept,) = c.execute("SELECT length(raw) FROM dead_letters ORDER BY id DESC LIMIT 1").fetchone()
    assert kept == len(bomb)  # the raw input as it came (compressed), not the inflated 20 MB
