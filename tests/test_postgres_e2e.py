"""Beyond one machine: two `linemon ingest` services (line SMT1's SPI binding and line ASSY1's
MES binding) write to one PostgreSQL store at once, through a private mosquitto, while a
`linemon dashboard` reads it, and one of the services mirrors the store to InfluxDB (a real
VictoriaMetrics taking the line protocol). Every record is stored once (the MES binding also hears SPI's topic,
so both services write the SPI records: the same ids from two writers), the roll-ups match the
published data counted by hand (the two writers touch the same units' summaries: no lost
update), and the yield page shows those figures."""

from __future__ import annotations

import math
import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from line.kpi import StationTally
from store.base import open_store
from tests.conftest import PLANT_FILE
from tests.infra import Broker, linemon_proc, sigterm_exit_code, wait_for
from tests.test_dashboard import ARTIFACTS, chromium_page
from tests.test_influx import Victoria

N = 240  # units, each through SPI (SMT1) and FT (ASSY1)


def _record(i: int, station: str, passed: bool, ts: datetime, attempt: int) -> tuple[str, bytes]:
    line, equipment = ("SMT1", "SPI-01") if station == "SPI" else ("ASSY1", "FT-01")
    rec = {"schema": "linemon.result/1", "id": f"pg-{station}-{i:04d}-{attempt}", "ts": ts.isoformat(),
           "line": line, "station": station, "equipment": equipment, "serial": f"FF50-PG-{i:04d}",
           "product": "FF-50", "result": "PASS" if passed else "FAIL"}  # fmt: skip
    return f"linemon/jincheon/{line}/{station}/{equipment}/result", orjson.dumps(rec)


def _messages(t0: datetime) -> list[tuple[str, bytes]]:
    """Every unit: SPI (every 10th fails once, then passes), FT an hour later (every 7th fails
    once). Interleaved so both services write the same units' summaries at the same time."""
    out = []
    for i in range(N):
        at = t0 + timedelta(seconds=10 * i)
        out.append(_record(i, "SPI", i % 10 != 0, at, 0))
        if i % 10 == 0:
            out.append(_record(i, "SPI", True, at + timedelta(seconds=5), 1))
        out.append(_record(i, "FT", i % 7 != 0, at + timedelta(hours=1), 0))
        if i % 7 == 0:
            out.append(_record(i, "FT", True, at + timedelta(hours=1, seconds=5), 1))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_two_ingests_and_a_dashboard_on_one_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    broker = Broker(tmp_path)
    victoria = Victoria(tmp_path)  # the MES service also mirrors the store to "InfluxDB"
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    msgs = _messages(t0)
    store = open_store(pg_url)  # the schema exists before the services start
    procs = []
    try:
        for only in ("spi-mqtt", "line-mes"):
            mirror = [f"--mirror={victoria.mirror_url()}"] if only == "line-mes" else []
            procs.append(linemon_proc("ingest", "--config", str(PLANT_FILE), "--store", pg_url, f"--only={only}",
                                      f"--mqtt=127.0.0.1:{broker.port}", *mirror, log=tmp_path / f"{only}.log"))  # fmt: skip
        for only in ("spi-mqtt", "line-mes"):
            log = tmp_path / f"{only}.log"
            wait_for(lambda log=log, only=only: log.exists() and f"{only}: connected" in log.read_text(), 30,
                     f"{only} did not connect")  # fmt: skip
        pub = broker.client("pg-pub")
        for topic, payload in msgs:
            pub.publish(topic, payload, qos=1)
        wait_for(lambda: store.result_count() >= len(msgs), 60, "not every record was stored")
        time.sleep(1.0)  # the slower service's duplicates of SPI arrive too: still no second copy
        assert store.result_count() == len(msgs)
        # what the published data says, counted here
        spi_first_fail = math.ceil(N / 10)
        ft_first_fail = math.ceil(N / 7)
        stations, products = store.yield_tallies(t0 - timedelta(hours=1), t0 + timedelta(hours=3))
        assert stations[("FF-50", "SPI")] == StationTally(N, N - spi_first_fail, N, N + spi_first_fail, 0, 0)
        assert stations[("FF-50", "FT")] == StationTally(N, N - ft_first_fail, N, N + ft_first_fail, 0, 0)
        assert (products["FF-50"].units, products["FF-50"].final_good) == (N, N)
        # the mirror has every record once, whichever service stored it, and says so in its health row
        wait_for(lambda: len(victoria.values("unit_result_rid")) >= len(msgs), 30, "not every record was mirrored")
        assert len(set(victoria.values("unit_result_rid"))) == len(victoria.values("unit_result_rid")) == len(msgs)
        wait_for(lambda: any(h.source == "mirror:influxdb" and h.status == "connected" and "0 records behind" in (h.detail or "")
                             for h in store.source_health()), 10, "the mirror's health row does not say it caught up")  # fmt: skip
        # the dashboard on a third process reads the same store
        port = _free_port()
        procs.append(linemon_proc("dashboard", "--port", str(port), "--store", pg_url, "--config", str(PLANT_FILE),
                                  log=tmp_path / "dashboard.log"))  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: _up(url), 60, "the dashboard did not start")
        with chromium_page(1300) as (page, _errors):
            page.goto(url)
            page.wait_for_selector("#fpy-FF-50-FT", timeout=30_000)
            assert page.inner_text("#fpy-FF-50-SPI") == f"{100 * (N - spi_first_fail) / N:.1f} %"
            assert page.inner_text("#fpy-FF-50-FT") == f"{100 * (N - ft_first_fail) / N:.1f} %"
            rty = 100 * (N - spi_first_fail) / N * (N - ft_first_fail) / N  # both stations' FPY, multiplied
            assert page.inner_text("#rty-FF-50") == f"{rty:.1f} %"
            assert page.inner_text("#units-FF-50") == str(N)
            page.screenshot(path=str(ARTIFACTS / "yield-page-postgresql.png"), full_page=True)
    finally:
        for p in procs:
            sigterm_exit_code(p)
        store.close()
        broker.stop()
        victoria.stop()
    for only in ("spi-mqtt", "line-mes"):
        assert "Traceback" not in (tmp_path / f"{only}.log").read_text()


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def test_a_postgresql_restart_under_a_running_ingest_loses_nothing(tmp_path: Path) -> None:
    """The store's server restarts (as for an upgrade or a failover) while records keep coming:
    the ingest keeps them unacknowledged, tries again, and stores each once when the server is
    back, without being restarted itself."""
    import shutil
    import tempfile

    from linemon.pgserver import PgServer

    folder = Path(tempfile.mkdtemp(prefix="linemon-pg-restart-"))
    server, broker = PgServer(folder), Broker(tmp_path)
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    spi = [m for m in _messages(t0) if b'"SPI"' in m[1]]
    store = open_store(server.url)
    log = tmp_path / "ingest.log"
    ing = linemon_proc("ingest", "--config", str(PLANT_FILE), "--store", server.url, "--only=spi-mqtt",
                       f"--mqtt=127.0.0.1:{broker.port}", log=log)  # fmt: skip
    try:
        wait_for(lambda: log.exists() and "spi-mqtt: connected" in log.read_text(), 30, "ingest did not connect")
        pub = broker.client("pg-restart-pub")
        half = len(spi) // 2
        for topic, payload in spi[:half]:
            pub.publish(topic, payload, qos=1)
        wait_for(lambda: store.result_count() == half, 30, "the first half was not stored")
        server.stop()
        for topic, payload in spi[half:]:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        wait_for(lambda: "trying again" in log.read_text(), 30, "the writer did not say it waits for the store")
        server.start()
        wait_for(lambda: _count(server.url) == len(spi), 90, "not every record was stored after the restart")
        assert ing.poll() is None, "the ingest should still run"
    finally:
        code = sigterm_exit_code(ing)
        store.close()
        broker.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    text = log.read_text()
    assert code == 0 and "Traceback" not in text, text[-2000:]
    assert f"ingest stopped: stored {len(spi)}," in text


def _count(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2) as c:
            row = c.execute("SELECT count(*) FROM results").fetchone()
            return int(row[0]) if row else 0
    except psycopg.OperationalError:
        return -1
