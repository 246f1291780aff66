"""InfluxDB as a mirror of the store, against a real server: VictoriaMetrics, which takes the
InfluxDB line protocol (no InfluxDB 2 here; a real one is used when LINEMON_TEST_INFLUX_URL is
set). Every stored record reaches it once, through an outage of the server, on SQLite and
PostgreSQL; records sharing a millisecond and tags stay distinct points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from line.records import StateRecord, record_from_dict
from linemon.broker import free_port, wait_for
from store.base import Store, StoreError, open_store
from store.influx import points_of
from store.mirror import InfluxMirror
from tests.conftest import T0, result


class Victoria:
    """A VictoriaMetrics server that can be stopped and started again on its port and data."""

    def __init__(self, folder: Path) -> None:
        exe = shutil.which("victoria-metrics")
        assert exe, "victoria-metrics is not installed (make test installs it with apt)"
        self.exe, self.folder, self.port = exe, folder, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, f"-storageDataPath={self.folder / 'vm'}", f"-httpListenAddr=127.0.0.1:{self.port}",
             "-retentionPeriod=100y", "-search.latencyOffset=0s", "-search.disableCache"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._healthy, 15, "victoria-metrics did not start")

    def _healthy(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "victoria-metrics exited"
        try:
            return bool(urllib.request.urlopen(f"{self.base}/health", timeout=1).read() == b"OK")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def mirror_url(self) -> str:
        return f"influxdb://127.0.0.1:{self.port}?org=jincheon&bucket=linemon"

    def export(self, match: str) -> list[dict]:
        urllib.request.urlopen(f"{self.base}/internal/force_flush").read()
        body = urllib.request.urlopen(f"{self.base}/api/v1/export?" + urlencode({"match[]": match})).read()
        return [json.loads(line) for line in body.decode().splitlines() if line]

    def values(self, metric: str) -> list[float]:
        return sorted(v for s in self.export(f'{{__name__="{metric}"}}') for v in s["values"])


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[Victoria]:
    vm = Victoria(tmp_path)
    yield vm
    vm.stop()


def _state(i: int) -> StateRecord:
    rec = record_from_dict({"schema": "linemon.state/1", "id": f"s{i}", "ts": T0 + timedelta(minutes=i),
                            "line": "SMT1", "station": "SPI", "equipment": "SPI-01",
                            "state": "PRD" if i % 2 else "SBY"})  # fmt: skip
    assert isinstance(rec, StateRecord)
    return rec


def _batch(k: int, n: int = 100) -> list:
    """n results (every 4 a panel: one timestamp), each with a measurement, and n/10 states."""
    recs: list = [
        result(f"P{k}-{i}", "FCT", "PASS" if i % 5 else "FAIL", k * 1000 + i // 4, id=f"r{k}-{i}",
               measurements=[{"name": "V_TX", "value": 12.0 + i / 1000, "unit": "V", "lo": 11.4, "hi": 12.6}])
        for i in range(n)
    ]  # fmt: skip
    return recs + [_state(k * 1000 + i) for i in range(n // 10)]


def test_a_panel_reported_at_one_instant_is_four_points() -> None:
    boards = [result(f"PANEL-7-{b}", "AOI", "PASS", 0, id=f"pb{b}") for b in range(4)]
    points = points_of([(1000 + b, r) for b, r in enumerate(boards)])
    lines = [p.to_line_protocol().split(" ") for p in points]  # measurement,tags  fields  time
    identities = {(line[0], line[-1]) for line in lines}
    assert len(points) == 4 and len(identities) == 4 and len({line[0] for line in lines}) == 1  # one series
    times = sorted(int(line[-1]) for line in lines)
    assert times[-1] - times[0] < 1_000_000  # within the records' millisecond


def _mirror_all(mirror: InfluxMirror) -> None:
    while mirror.step():
        pass


class Recorder:
    """Collects what the mirror reports to its health row."""

    def __init__(self) -> None:
        self.statuses: list[str] = []
        self.sent = 0
        self.errors: list[str] = []

    def set(self, status: str, detail: str | None = None) -> None:
        if not self.statuses or self.statuses[-1] != status:
            self.statuses.append(status)

    def counted(self, stored: int, rejected: int) -> None:
        self.sent += stored

    def error(self, detail: str) -> None:
        self.errors.append(detail)


def test_the_mirror_sends_every_record_once_through_an_outage(store: Store, victoria: Victoria) -> None:
    store.write(_batch(0))
    mirror = InfluxMirror(store, victoria.mirror_url(), batch=70)
    _mirror_all(mirror)
    assert mirror.behind() == 0
    victoria.stop()
    store.write(_batch(1))
    with pytest.raises(StoreError, match=r"influxdb://127\.0\.0\.1:\d+\?org=jincheon&bucket=linemon: write failed"):
        mirror.step()
    assert mirror.behind() == 110  # kept its position: nothing lost
    health, stop = Recorder(), threading.Event()
    runner = threading.Thread(target=mirror.run, args=(stop, health, 0.05))
    runner.start()
    try:
        wait_for(lambda: "reconnecting" in health.statuses, 10, "the outage was not reported")
        store.write(_batch(2))
        victoria.start()
        wait_for(lambda: mirror.behind() == 0, 30, "the mirror did not catch up")
    finally:
        stop.set()
        runner.join(10)
    assert health.statuses[-2:] == ["connected", "stopped"] and health.sent == 220
    rids = store.records_after("results", 0, 10_000)
    assert victoria.values("unit_result_rid") == sorted(float(rid) for rid, _ in rids)  # each once
    assert len(victoria.values("station_state_rid")) == 30
    assert len(victoria.values("unit_measurement_value")) == 300
    fails = victoria.export('{__name__="unit_result_pass",result="FAIL"}')
    assert sum(len(s["values"]) for s in fails) == 60
    assert all("serial" not in s["metric"] for s in fails)  # serials are fields, never tags


def test_an_influxdb_url_is_a_mirror_not_a_store() -> None:
    with pytest.raises(StoreError, match="InfluxDB is a mirror of the store, not a store"):
        open_store("influxdb://127.0.0.1:8086?org=a&bucket=b")
    with pytest.raises(StoreError, match=r"missing: bucket"):
        InfluxMirror(open_store("sqlite:///:memory:"), "influxdb://127.0.0.1:8086?org=a")


@pytest.mark.skipif(
    not os.environ.get("LINEMON_TEST_INFLUX_URL"),
    reason="needs a real InfluxDB 2: set LINEMON_TEST_INFLUX_URL=influxdb://host:8086?org=..&bucket=.. and LINEMON_INFLUX_TOKEN",
)
def test_round_trip_on_real_influxdb2(tmp_path: Path) -> None:
    from influxdb_client import InfluxDBClient

    store = open_store(f"sqlite:///{tmp_path / 'rt.db'}")
    tag = f"RT{time.time_ns()}"
    store.write([result(f"{tag}-{b}", "FCT", "PASS", 0, id=f"{tag}-{b}") for b in range(4)])
    mirror = InfluxMirror(store, os.environ["LINEMON_TEST_INFLUX_URL"])
    _mirror_all(mirror)
    t = mirror.target
    with InfluxDBClient(url=t.base_url, token=os.environ.get("LINEMON_INFLUX_TOKEN", ""), org=t.org) as client:
        tables = client.query_api().query(
            f'from(bucket: "{t.bucket}") |> range(start: 2026-10-01T00:00:00Z) '
            f'|> filter(fn: (r) => r._measurement == "unit_result" and r._field == "serial") '
            f'|> filter(fn: (r) => strings.hasPrefix(v: r._value, prefix: "{tag}"))'.replace(
                "from(", 'import "strings"\nfrom(', 1
            )
        )
    assert sum(len(tb.records) for tb in tables) == 4  # a panel at one instant: four points
    store.close()
