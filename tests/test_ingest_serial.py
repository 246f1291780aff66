"""`linemon ingest` reading real pseudo-terminals: every serial format of the reference plant,
bad frames dead-lettered, and a port unplugged and plugged back losing and duplicating nothing."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from drivers.emulate import RackEmulator, random_units, scanner_frame, unit_frame
from drivers.emulate_io import PtyPort
from store.sqlite import SqliteStore
from tests.conftest import PLANT_FILE
from tests.infra import linemon_proc, sigterm_exit_code, wait_for

SERIAL = ("fct-jig-1", "ft-tester", "scanner-smt1", "aging-racks")


def _plant_file(tmp: Path) -> Path:
    """The reference plant with a rack of 6 slots polled every 0.2 s (the test's time scale)."""
    text = PLANT_FILE.read_text().replace("slots = 240", "slots = 6").replace("poll_s = 60.0", "poll_s = 0.2")
    p = tmp / "plant.toml"
    p.write_text(text)
    return p


def _rows(db: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(db) as c:
        return c.execute(sql).fetchall()


def _connected_count(log: Path, binding: str) -> int:
    return log.read_text().count(f"{binding}: connected")


@pytest.fixture
def ptys(tmp_path: Path):  # type: ignore[no-untyped-def]
    ports = {b: PtyPort(str(tmp_path / f"tty-{b}")) for b in SERIAL}
    yield ports
    for p in ports.values():
        p.close()


def test_every_serial_format_and_bad_frames(tmp_path: Path, ptys, plant) -> None:  # type: ignore[no-untyped-def]
    plant_file, db, log = _plant_file(tmp_path), tmp_path / "s.db", tmp_path / "ingest.log"
    args = [f"--port={b}={tmp_path / f'tty-{b}'}" for b in SERIAL]
    ing = linemon_proc("ingest", "--config", str(plant_file), "--store", f"sqlite:///{db}",
                       *[f"--only={b}" for b in SERIAL], *args, log=log)  # fmt: skip
    try:
        wait_for(
            lambda: log.exists() and all(_connected_count(log, b) for b in SERIAL),
            15,
            "ingest did not open the ports",
        )
        rng = random.Random(4)
        fmts = plant.spec.formats
        b = {x.id: x for x in plant.spec.bindings}
        units = random_units(plant, "FCT", rng, fail_rate=0.3)
        fct = [next(units) for _ in range(30)]
        for u in fct:
            ptys["fct-jig-1"].write(unit_frame(fmts["fct_line"], b["fct-jig-1"], u, rng))
        ft = [next(random_units(plant, "FT", rng)) for _ in range(5)]
        for u in ft:
            ptys["ft-tester"].write(unit_frame(fmts["ft_framed"], b["ft-tester"], u, rng))
        scans = [next(units) for _ in range(5)]
        for u in scans:  # each scanned twice in a row: the repeat is debounced
            ptys["scanner-smt1"].write(scanner_frame(fmts["scanner"], b["scanner-smt1"], u) * 2)
        bad = [b"FCT-01;FF50-X1;FF-50;MAYBE;;\r\n", b"FCT-01;FF50-X2;NOPE-1;PASS;;\r\n", b"\xff\xfe;;\r\n",
               b"X" * 10_000 + b"\r\n"]  # fmt: skip  (a line past the 4 KB frame limit: kept whole)
        ptys["fct-jig-1"].write(b"".join(bad))
        good_payload = b"FT-01|VDR900-T-1|VDR-900|WO-1|OK||"
        ptys["ft-tester"].write(b"\x02" + good_payload + b"\x0300")  # wrong checksum
        rack = RackEmulator(fmts["aging_poll"], 6, random_units(plant, "AGING", rng), polls=2)
        stop = threading.Event()

        def answer_polls() -> None:
            buf = b""
            while not stop.is_set():
                buf += ptys["aging-racks"].read(0.1)
                while b"\r" in buf:
                    req, _, buf = buf.partition(b"\r")
                    reply = rack.answer(req, rng)
                    if reply:
                        ptys["aging-racks"].write(reply + b"\r")

        t = threading.Thread(target=answer_polls, daemon=True)
        t.start()
        wait_for(lambda: len(rack.finished) >= 6, 30, "the rack was not polled to completion")
        stop.set()
        t.join()
        wait_for(
            lambda: _rows(db, "SELECT count(*) FROM results WHERE station='FCT'")[0][0] == 30,
            10,
            "FCT results missing",
        )
    finally:
        assert sigterm_exit_code(ing) == 0
    store = SqliteStore(db)
    got = {
        r[0]: r
        for r in _rows(db, "SELECT serial, product, result, equipment FROM results WHERE station='FCT'")
    }
    assert got == {u.serial: (u.serial, u.product, "PASS" if u.passed else "FAIL", "FCT-01") for u in fct}
    ft_rows = _rows(db, "SELECT serial, product, work_order, result FROM results WHERE station='FT'")
    assert sorted(ft_rows) == sorted(
        (u.serial, u.product, u.work_order, "PASS" if u.passed else "FAIL") for u in ft
    )
    regs = _rows(db, "SELECT serial, station FROM unit_registry WHERE station='PRINT'")
    assert sorted(regs) == sorted((u.serial, "PRINT") for u in scans)
    aged = _rows(db, "SELECT serial, result FROM results WHERE station='AGING'")
    finished = {u.serial: "PASS" if u.passed else "FAIL" for u in rack.finished}
    assert {s: r for s, r in aged if s in finished} == finished and len(aged) == len(set(s for s, _ in aged))
    reasons = sorted(d.reason.split(":")[0] for d in store.dead_letters())
    assert reasons == ["checksum mismatch", "field 'result'", "line of 10000 bytes, longer than the 4096-byte frame limit",
                       "not valid ascii", "product"]  # fmt: skip
    assert [d.raw for d in store.dead_letters() if d.reason.startswith("line of")] == [b"X" * 10_000]
    assert {d.location for d in store.dead_letters()} <= {str(tmp_path / f"tty-{x}") for x in SERIAL}
    health = {h.source: h for h in store.source_health()}
    assert health["fct-jig-1"].status == "stopped" and health["fct-jig-1"].stored == 30
    assert health["fct-jig-1"].rejected == 4


def test_unplugged_port_reconnects_without_loss_or_duplicates(tmp_path: Path, plant) -> None:  # type: ignore[no-untyped-def]
    link, db, log = tmp_path / "tty-fct", tmp_path / "u.db", tmp_path / "ingest.log"
    port = PtyPort(str(link))
    ing = linemon_proc("ingest", "--config", str(PLANT_FILE), "--store", f"sqlite:///{db}", "--only=fct-jig-1",
                       f"--port=fct-jig-1={link}", log=log)  # fmt: skip
    rng = random.Random(9)
    units = random_units(plant, "FCT", rng)
    b = next(x for x in plant.spec.bindings if x.id == "fct-jig-1")
    sent: list[str] = []

    def send(n: int) -> None:
        for _ in range(n):
            u = next(units)
            port.write(unit_frame(plant.spec.formats["fct_line"], b, u, rng))
            sent.append(u.serial)

    def stored() -> int:
        return int(_rows(db, "SELECT count(*) FROM results")[0][0]) if db.exists() else 0

    try:
        wait_for(
            lambda: log.exists() and _connected_count(log, "fct-jig-1") == 1,
            15,
            "ingest did not open the port",
        )
        send(50)
        wait_for(lambda: stored() == 50, 10, "first 50 not stored")
        port.write(b"FCT-01;FF50-HALF")  # a frame cut by the unplug: never completed, kept as partial
        time.sleep(0.5)  # the bytes reach the ingest (the port is read every 0.2 s), then the cable goes
        port.close()  # unplug: the device side disappears
        wait_for(lambda: "fct-jig-1: reconnecting" in log.read_text(), 10, "the unplug was not noticed")
        port = PtyPort(str(link))  # plug back in (a new /dev/pts behind the same name)
        wait_for(lambda: _connected_count(log, "fct-jig-1") == 2, 20, "did not reconnect")
        send(50)
        wait_for(lambda: stored() == 100, 10, "second 50 not stored")
    finally:
        assert sigterm_exit_code(ing) == 0
        port.close()
    serials = [r[0] for r in _rows(db, "SELECT serial FROM results")]
    assert sorted(serials) == sorted(sent) and len(set(serials)) == 100
    assert "ingest stopped: stored 100, duplicate 0, rejected 1" in log.read_text()
    (cut,) = SqliteStore(db).dead_letters()
    assert (cut.raw, cut.reason) == (b"FCT-01;FF50-HALF", "partial frame: the port closed before its terminator (unplugged?)")


SLOW_STOP = """
import signal, sys, threading, time
from drivers.service import IngestOptions, run_ingest
from line.config import load_plant
from store.base import open_store
def slow_handler(*_):
    time.sleep(0.2)  # longer than the forwarder's 50 ms wait: its deadline passes meanwhile
    stop.set()
if __name__ == "__main__":  # the writer process is spawned: it imports this file again
    import logging
    logging.basicConfig(level=logging.INFO)  # "<binding>: connected" goes to the log
    stop = threading.Event()
    signal.signal(signal.SIGTERM, slow_handler)
    opts = IngestOptions({"fct-jig-1": sys.argv[3]}, "127.0.0.1", 1883, ["fct-jig-1"])
    run_ingest(load_plant(sys.argv[1]), open_store(sys.argv[2]), opts, stop)
    print("stopped", flush=True)
"""


def test_sigterm_stops_the_ingest_even_when_it_interrupts_a_wait(tmp_path: Path) -> None:
    """SIGTERM lands on the main thread. If that thread waits on a queue.SimpleQueue with a
    timeout, CPython 3.11 can wait forever once a signal handler outlasts the timeout (seen as a
    `linemon ingest` that ignored SIGTERM); the ingest must stop all the same, every time."""
    import subprocess
    import sys

    port = PtyPort(str(tmp_path / "tty"))
    script = tmp_path / "slow_stop.py"
    script.write_text(SLOW_STOP)
    try:
        for i in range(3):
            log = tmp_path / f"ingest-{i}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, str(script), str(PLANT_FILE), f"sqlite:///{tmp_path / 's.db'}", str(tmp_path / "tty")],
                    stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent,
                )  # fmt: skip
            try:
                wait_for(
                    lambda p=log: "fct-jig-1: connected" in p.read_text(), 20, "ingest did not open the port"
                )
                time.sleep(0.3)  # idle: the forwarder waits on its queue
                assert sigterm_exit_code(proc) == 0 and "stopped" in log.read_text()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        port.close()
