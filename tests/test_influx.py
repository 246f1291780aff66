"""InfluxDB backend: writes against a real VictoriaMetrics (same /api/v2/write protocol), Flux
built and aggregated as pure functions, and the full round trip when LINEMON_TEST_INFLUX_URL
points at a real InfluxDB 2 (no InfluxDB 2 server can be installed on build machines)."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from store.base import open_store
from store.influx import flux_unit_rows, tallies_from_rows
from store.sqlite import SqliteStore
from tests.conftest import T0, result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("victoria-metrics")
    assert exe, "victoria-metrics is not installed (make test installs it with apt)"
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            f"-storageDataPath={tmp_path / 'vm'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
            "-search.disableCache",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        assert proc.poll() is None, "victoria-metrics exited"
        try:
            if urllib.request.urlopen(f"{base}/health", timeout=1).read() == b"OK":
                break
        except OSError:
            assert time.monotonic() < deadline, "victoria-metrics did not start"
            time.sleep(0.05)
    yield base
    proc.terminate()
    proc.wait(10)


def _export(base: str, match: str) -> list[dict]:
    urllib.request.urlopen(f"{base}/internal/force_flush").read()
    body = urllib.request.urlopen(f"{base}/api/v1/export?" + urlencode({"match[]": match})).read().decode()
    return [json.loads(line) for line in body.splitlines() if line]


def test_writes_reach_a_real_server(victoria: str) -> None:
    host_port = victoria.removeprefix("http://")
    store = open_store(f"influxdb://{host_port}?org=jincheon&bucket=linemon")
    recs = [
        result("A", "FCT", "PASS", 0),
        result("B", "FCT", "FAIL", 1, defects=[{"code": "open"}]),
        result("C", "SPI", "PASS", 2),
    ]
    assert store.write(recs).stored == 3
    store.close()
    deadline = time.monotonic() + 15
    while True:
        series = _export(victoria, '{__name__="unit_result_pass"}')
        if sum(len(s["values"]) for s in series) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    labels = {
        (s["metric"]["station"], s["metric"]["product"], s["metric"]["result"]): s["values"] for s in series
    }
    assert labels == {
        ("FCT", "FF-50", "PASS"): [1],
        ("FCT", "FF-50", "FAIL"): [0],
        ("SPI", "FF-50", "PASS"): [1],
    }
    assert all("serial" not in s["metric"] for s in series)  # serials are fields, never tags
    defects = _export(victoria, '{__name__="unit_result_defects",result="FAIL"}')
    assert defects[0]["values"] == [1]
    assert defects[0]["timestamps"] == [int((T0 + timedelta(minutes=1)).timestamp() * 1000)]


def test_flux_builder() -> None:
    q = flux_unit_rows('line"mon', T0, T0 + timedelta(days=1), product="FF-50")
    assert q.startswith('from(bucket: "line\\"mon")')
    assert "range(start: 2026-08-04T00:00:00.000Z)" in q  # 90 days of lookback for first attempts
    assert 'r.product == "FF-50"' in q and 'r._measurement == "unit_result"' in q
    assert "pivot(" in q and 'sort(columns: ["_time"])' in q
    assert "r.product" not in flux_unit_rows("b", T0, T0 + timedelta(days=1))


def test_flux_rows_aggregate_like_sqlite(tmp_path: Path) -> None:
    recs = [
        result("A", "FCT", "FAIL", -5, defects=[{"code": "open"}]),
        result("A", "FCT", "PASS", 5),
        result("B", "FCT", "FAIL", 10),
        result("B", "FCT", "FAIL", 50),
        result("B", "SPI", "PASS", 1),
        result("C", "FCT", "PASS", 70, defects=[{"code": "missing", "confirmed": False}]),
    ]
    rows = [
        {
            "_time": r.ts,
            "product": r.product,
            "station": r.station,
            "serial": r.serial,
            "pass": int(r.result == "PASS"),
            "defects": r.confirmed_defects,
            "false_calls": r.false_calls,
        }
        for r in sorted(recs, key=lambda r: r.ts)
    ]
    sq = SqliteStore(tmp_path / "x.db")
    sq.write(recs)
    for a, b in ((T0, T0 + timedelta(days=1)), (T0 - timedelta(hours=1), T0 + timedelta(minutes=30))):
        assert tallies_from_rows(rows, a, b) == sq.yield_tallies(a, b)


@pytest.mark.skipif(
    not os.environ.get("LINEMON_TEST_INFLUX_URL"),
    reason="needs a real InfluxDB 2: set LINEMON_TEST_INFLUX_URL=influxdb://host:8086?org=..&bucket=.. and LINEMON_INFLUX_TOKEN",
)
def test_round_trip_on_real_influxdb2() -> None:
    store = open_store(os.environ["LINEMON_TEST_INFLUX_URL"])
    recs = [result(f"RT{time.time_ns()}", "FCT", "FAIL", 0), result("RT-B", "FCT", "PASS", 1)]
    recs.append(result(recs[0].serial, "FCT", "PASS", 3))
    store.write(recs)
    st, _ = store.yield_tallies(T0 - timedelta(minutes=1), T0 + timedelta(minutes=10))
    assert st[("FF-50", "FCT")].units >= 2
    store.close()
