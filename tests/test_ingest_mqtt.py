"""`linemon ingest` on a private mosquitto: native and IPC-CFX messages become the right records,
bad ones are dead-lettered, and a killed ingest or a restarted broker (SIGTERM and SIGKILL) loses
no accepted record and stores none twice (published versus stored, by id)."""

from __future__ import annotations

import gzip
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from drivers.emulate import EmuUnit, cfx_inspected, cfx_state
from drivers.mqtt_source import session_id
from store.sqlite import SqliteStore
from tests.conftest import PLANT_FILE
from tests.infra import Broker, linemon_proc, sigterm_exit_code, wait_for

FIX = Path(__file__).parent / "fixtures" / "cfx"
T = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
SPI = "linemon/jincheon/SMT1/SPI/SPI-01/result"


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The test session's private broker (restart tests start their own)."""
    b = Broker(tmp_path_factory.mktemp("mosquitto"))
    yield b
    b.stop()


def _ingest(broker: Broker, db: Path, log: Path, *extra: str):  # type: ignore[no-untyped-def]
    return linemon_proc("ingest", "--config", str(PLANT_FILE), "--store", f"sqlite:///{db}",
                        "--only=spi-mqtt", "--only=vi1-aoi-cfx", f"--mqtt=127.0.0.1:{broker.port}", *extra, log=log)  # fmt: skip


def _connected(log: Path, n: int = 1) -> bool:
    return log.exists() and log.read_text().count("spi-mqtt: connected") >= n


def _ids(db: Path, table: str = "results") -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return [r[0] for r in c.execute(f"SELECT id FROM {table}")]
    except sqlite3.OperationalError:  # the ingest is still creating the schema
        return []


def _spi(i: int, passed: bool = True, product: str = "FF-50") -> bytes:
    return orjson.dumps({
        "schema": "linemon.result/1", "id": f"m-{i:06d}", "ts": (T + timedelta(seconds=i)).isoformat(),
        "line": "SMT1", "station": "SPI", "equipment": "SPI-01", "serial": f"FF50-2611-{i:06d}",
        "product": product, "result": "PASS" if passed else "FAIL",
        "defects": [] if passed else [{"code": "insufficient_solder", "refdes": "C7"}],
    })  # fmt: skip


def _stop(proc) -> str:  # type: ignore[no-untyped-def]
    assert sigterm_exit_code(proc) == 0


def test_native_and_cfx_messages_become_records(tmp_path: Path, broker: Broker, plant) -> None:  # type: ignore[no-untyped-def]
    db, log = tmp_path / "m.db", tmp_path / "ingest.log"
    ing = _ingest(broker, db, log)
    pub = broker.client("test-pub-1")
    vi1 = next(b for b in plant.spec.bindings if b.id == "vi1-aoi-cfx")
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        for i in range(20):
            pub.publish(SPI, _spi(i, passed=i % 5 != 0), qos=1).wait_for_publish(5)
        units = [
            EmuUnit(
                f"AIS300-2611-{i:06d}", "AIS-300", "WO-1", i % 3 != 0, () if i % 3 else (("bridge", "U4"),)
            )
            for i in range(9)
        ]
        for u in units:
            pub.publish(*cfx_inspected(vi1, u, T, "AOIVendor.Model_7.SN0042"), qos=1).wait_for_publish(5)
        pub.publish(*cfx_state(vi1, "AOIVendor.Model_7.SN0042", T, "5300"), qos=1).wait_for_publish(5)
        pub.publish(
            "cfx/SMT1/VI1/AOI/batch", gzip.compress((FIX / "batch_states.json").read_bytes()), qos=1
        ).wait_for_publish(5)
        bad = [(SPI, b"{not json"), (SPI, _spi(900, product="NOPE-1")),
               (SPI, _spi(901).replace(b'"station":"SPI"', b'"station":"VI1"'))]  # fmt: skip
        for topic, payload in bad:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        pub.publish(SPI, _spi(3), qos=1).wait_for_publish(5)  # a duplicate by id
        wait_for(lambda: len(_ids(db)) == 29 and len(_ids(db, "dead_letters")) >= 5, 15, "records not stored")
        time.sleep(0.3)
    finally:
        _stop(ing)
        pub.disconnect()
    store = SqliteStore(db)
    spi = {r.serial: r for r in (store.unit_history(f"FF50-2611-{i:06d}")[0] for i in range(20))}
    assert [spi[f"FF50-2611-{i:06d}"].result for i in range(5)] == ["FAIL", "PASS", "PASS", "PASS", "PASS"]
    aoi = {u.serial: store.unit_history(u.serial) for u in units}
    for u in units:
        (rec,) = aoi[u.serial]
        assert (rec.product, rec.station, rec.result) == ("AIS-300", "VI1", "PASS" if u.passed else "FAIL")
        assert [d.code for d in rec.defects] == [
            c for c, _ in u.defects
        ] and rec.equipment == "AOIVendor.Model_7.SN0042"
    with sqlite3.connect(db) as c:
        states = c.execute("SELECT state, reason FROM states ORDER BY ts, rid").fetchall()
        regs = c.execute("SELECT serial, work_order FROM unit_registry").fetchall()
    assert ("UDT", "5300") in states and ("SBY", "SBY_NoProductStarved") in states and len(states) == 7
    assert regs == [("AIS300-2611-000001", "WO-2611-017")]
    reasons = sorted(d.reason for d in store.dead_letters())
    assert any(r.startswith("not JSON") for r in reasons)
    assert any(r.startswith("product: unknown product 'NOPE-1'") for r in reasons)
    assert "station: the topic says 'SPI', the payload 'VI1'" in reasons
    assert any("severity Warning" in r for r in reasons) and any("MaterialsLoaded" in r for r in reasons)
    assert "ingest stopped: stored 36, duplicate 1, rejected 5" in log.read_text()  # 29 results, 7 states
    health = {h.source: h for h in store.source_health()}
    assert health["spi-mqtt"].received == 24 and health["vi1-aoi-cfx"].stored == 9 + 1 + 6


def test_a_subscription_left_from_an_older_plant_file_is_dead_lettered_once(tmp_path: Path, plant) -> None:  # type: ignore[no-untyped-def]
    """The ingest's persistent session keeps the subscriptions of earlier runs: messages on a
    topic no binding matches any more are dead-lettered with the reason, acknowledged (not sent
    again after a restart), and the records around them are stored."""
    broker = Broker(tmp_path)
    db, log = tmp_path / "s.db", tmp_path / "ingest.log"
    old = broker.client(session_id(plant.spec.mqtt.client_id, ["spi-mqtt", "vi1-aoi-cfx"], plant), clean=False)
    subscribed = threading.Event()
    old.on_subscribe = lambda *a: subscribed.set()
    old.subscribe("retired/SMT9/#", qos=1)
    assert subscribed.wait(5)
    old.disconnect()
    old.loop_stop()
    pub = broker.client("test-pub-retired")
    ing = _ingest(broker, db, log)
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        pub.publish("retired/SMT9/AOI/result", b'{"from": "the old line"}', qos=1).wait_for_publish(5)
        pub.publish(SPI, _spi(1), qos=1).wait_for_publish(5)
        wait_for(lambda: len(_ids(db)) == 1 and len(_ids(db, "dead_letters")) == 1, 15, "not stored")
        _stop(ing)
        ing = _ingest(broker, db, log)
        wait_for(lambda: _connected(log, 2), 15, "ingest did not reconnect")
        pub.publish(SPI, _spi(2), qos=1).wait_for_publish(5)
        wait_for(lambda: len(_ids(db)) == 2, 15, "the second record was not stored")
        time.sleep(0.5)  # a redelivered message would arrive before this one
    finally:
        _stop(ing)
        pub.disconnect()
        broker.stop()
    (dead,) = SqliteStore(db).dead_letters()
    assert (dead.source, dead.location, dead.raw) == (
        "mqtt",
        "retired/SMT9/AOI/result",
        b'{"from": "the old line"}',
    )
    assert dead.reason == "topic retired/SMT9/AOI/result matches no binding"


class Publisher:
    """Publishes native records with unique ids at a steady pace, through broker restarts."""

    def __init__(self, broker: Broker, n: int, rate: float) -> None:
        self.client = broker.client("test-pub-stream")
        self.n, self.rate, self.sent = n, rate, 0
        self.infos: list = []  # type: ignore[type-arg]
        self.acked: set[int] = set()  # PUBACKs; a publish while the broker is down is queued, not lost
        self.client.on_publish = lambda c, u, mid, rc, p: self.acked.add(mid)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        for i in range(self.n):
            self.infos.append(self.client.publish(SPI, _spi(i), qos=1))
            self.sent = i + 1
            time.sleep(max(0.0, t0 + (i + 1) / self.rate - time.monotonic()))

    def finish(self) -> None:
        self.thread.join(120)
        wait_for(lambda: {i.mid for i in self.infos} <= self.acked, 60, "publisher did not get all PUBACKs")
        self.client.disconnect()


class Witness:
    """An independent persistent subscriber: what the broker really delivered (pitfall: a SIGKILL
    can lose messages inside the broker even after PUBACK; compare with this, not the publisher)."""

    def __init__(self, broker: Broker) -> None:
        self.ids: set[str] = set()
        self.client = broker.client("test-witness", clean=False)
        self.client.on_message = lambda c, u, m: self.ids.add(orjson.loads(m.payload)["id"])
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("linemon/#", qos=1)
        self.client.subscribe("linemon/#", qos=1)


def _interrupted_stream(
    tmp_path: Path, interrupt: Callable[[subprocess.Popen[bytes], Path], None]
) -> tuple[Path, Path, int]:
    """3000 messages at 600/s; once 600 are stored, `interrupt` (given the ingest and its log)
    ends the ingest, which is then started again. Returns the store, the log and how many were
    stored when the ingest was interrupted."""
    broker = Broker(tmp_path)
    db, log = tmp_path / "i.db", tmp_path / "ingest.log"
    ing = _ingest(broker, db, log)
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        pub = Publisher(broker, 3000, rate=600)
        wait_for(lambda: len(_ids(db)) > 600, 20, "nothing stored")
        interrupt(ing, log)
        first = len(_ids(db))
        time.sleep(0.5)
        ing = _ingest(broker, db, log)
        pub.finish()
        wait_for(lambda: len(_ids(db)) == 3000, 60, "not all 3000 stored after the restart")
    finally:
        _stop(ing)
        broker.stop()
    return db, log, first


@pytest.mark.parametrize("victim", ["ingest", "writer"])
def test_a_killed_ingest_loses_and_duplicates_nothing(tmp_path: Path, victim: str) -> None:
    """SIGKILL mid-stream, with messages received but not committed: of the ingest process, or of
    its writer process alone (out of memory, say), after which the ingest says so and exits with
    an error for its service manager to restart it. Nothing received after the last commit was
    acknowledged, so the restarted ingest stores every message once."""
    import psutil

    def kill(ing: subprocess.Popen[bytes], log: Path) -> None:
        if victim == "ingest":
            ing.send_signal(signal.SIGKILL)
            ing.wait(10)
        else:
            psutil.Process(ing.pid).children()[-1].kill()  # the writer process
            assert ing.wait(30) == 1
            assert "the writer process ended unexpectedly" in log.read_text()

    db, log, _ = _interrupted_stream(tmp_path, kill)
    ids = _ids(db)
    assert len(ids) == len(set(ids)) == 3000
    assert _connected(log, 2)


def test_a_stopped_ingest_leaves_nothing_to_deliver_again(tmp_path: Path) -> None:
    """SIGTERM mid-stream: what the ingest took is committed and acknowledged before it
    disconnects, and what it did not take stays with the broker. The restarted ingest gets only
    that: each run stores its share and finds no duplicate."""
    db, log, first = _interrupted_stream(tmp_path, lambda ing, _log: _stop(ing))
    runs = re.findall(r"ingest stopped: stored (\d+), duplicate (\d+), rejected (\d+)", log.read_text())
    assert runs == [(str(first), "0", "0"), (str(3000 - first), "0", "0")]
    assert len(set(_ids(db))) == 3000


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "killed"])
def test_broker_restart_loses_and_duplicates_nothing(tmp_path: Path, sig: int) -> None:
    broker = Broker(tmp_path)
    db, log = tmp_path / "b.db", tmp_path / "ingest.log"
    ing = _ingest(broker, db, log)
    witness = Witness(broker)
    try:
        wait_for(lambda: _connected(log), 15, "ingest did not connect")
        pub = Publisher(broker, 2000, rate=500)
        wait_for(lambda: pub.sent > 700, 20, "publisher stuck")
        broker.stop(sig)
        time.sleep(0.5)
        broker.start()
        pub.finish()
        want = 2000 if sig == signal.SIGTERM else 1990
        wait_for(
            lambda: len(witness.ids) >= want and len(_ids(db)) >= want, 60, "not delivered after the restart"
        )
        time.sleep(2)  # redeliveries still in flight settle (they must all be duplicates)
    finally:
        _stop(ing)
        witness.client.disconnect()
        broker.stop()
    ids = _ids(db)
    assert len(ids) == len(set(ids))  # nothing twice
    if sig == signal.SIGTERM:
        assert len(ids) == 2000 and set(ids) == witness.ids  # a graceful restart keeps every message
    else:
        # A SIGKILLed mosquitto can lose messages it had queued for one client even with
        # autosave_on_changes (seen here: 1 of 2000 for the ingest while the faster witness had
        # them all; the reference saw 9). Those were never delivered to the ingest, so the test
        # allows them, and only them: 0.5 % at most, and nothing stored twice.
        missing = witness.ids - set(ids)
        assert len(missing) <= 10, f"{len(missing)} of {len(witness.ids)} missing after a broker SIGKILL"


def test_writer_merges_what_waits_in_its_pipe() -> None:
    """The writer process commits every chunk already waiting together (one commit instead of
    many small ones), stops at its limit, and on the sender's end or loss keeps what arrived."""
    import multiprocessing as mp

    from drivers.ingest import RawMessage
    from drivers.writer_proc import _gather

    def msgs(*mids: int) -> list[RawMessage]:
        return [RawMessage("spi-mqtt", SPI, b"{}", m, 1) for m in mids]

    a, b = mp.Pipe()
    a.send(msgs(1, 2))
    a.send(msgs(3))
    got, last = _gather(b)
    assert [m.mid for m in got] == [1, 2, 3] and not last  # the pipe is empty now: commit these
    a.send(msgs(4, 5, 6))
    a.send(msgs(7))
    got, last = _gather(b, most=2)
    assert [m.mid for m in got] == [4, 5, 6] and not last  # at the limit: the rest comes next
    a.send(None)
    got, last = _gather(b)
    assert [m.mid for m in got] == [7] and last  # the sender has finished after it
    a.send(msgs(8))
    a.close()
    got, last = _gather(b)
    assert [m.mid for m in got] == [8] and last  # the ingest process is gone: store what came
    assert _gather(b) == ([], True)


def test_a_writer_process_that_cannot_start_is_an_error_at_start_up(tmp_path: Path) -> None:
    """The sources start only once the writer process is ready; if it cannot open the store,
    the ingest says so at once instead of receiving messages it can never store."""
    from drivers.writer_proc import WriterLink
    from line.errors import LinemonError

    url = f"sqlite:///{tmp_path}/missing-dir/s.db"
    with pytest.raises(LinemonError, match=r"writer process: sqlite:///.*missing-dir/s\.db: cannot open"):
        WriterLink(str(PLANT_FILE), url, {})


def test_the_writer_process_acknowledges_only_what_it_has_committed(tmp_path: Path) -> None:
    """Each MQTT acknowledgement reaches the ingest process only once its message is in the
    store: counted in the store at the moment each acknowledgement is sent."""
    from drivers.ingest import RawMessage
    from drivers.writer_proc import WriterLink

    db = tmp_path / "a.db"
    link = WriterLink(str(PLANT_FILE), f"sqlite:///{db}", {})
    stored_at_ack: dict[int, set[str]] = {}
    link.ack = lambda acks: stored_at_ack.update((mid, set(_ids(db))) for mid, _qos in acks)
    for i in range(1, 301):
        link.put(RawMessage("spi-mqtt", SPI, _spi(i), i, 1))
    link.put(RawMessage("spi-mqtt", SPI, b"{not json", 301, 1))  # dead-lettered, acknowledged too
    done = threading.Event()
    done.set()
    link.run(done)
    assert sorted(stored_at_ack) == list(range(1, 302))
    for mid in range(1, 301):
        assert f"m-{mid:06d}" in stored_at_ack[mid]
    assert (link.stored, link.rejected) == (300, 1) and len(_ids(db, "dead_letters")) == 1
