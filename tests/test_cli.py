"""`linemon import` and `linemon report yield` as a user runs them (real processes, real files)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson

from store.sqlite import SqliteStore
from tests.conftest import PLANT_FILE, result


def linemon(*args: str, stdin: str | None = None, lang: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LINEMON_LANG")}
    return subprocess.run(
        [sys.executable, "-m", "linemon", *args], capture_output=True, text=True, timeout=120, input=stdin,
        env={**env, "LANG": lang},
    )  # fmt: skip


def test_import_stores_valid_and_dead_letters_invalid(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    good = [
        orjson.loads(orjson.dumps(r.model_dump(mode="json", by_alias=True)))
        for r in (
            result("A", "SPI", "PASS", 0, id="a1"),
            result("A", "FCT", "FAIL", 5, id="a2"),
            result("A", "FCT", "PASS", 9, id="a3"),
        )
    ]
    lines = [json.dumps(g) for g in good]
    lines.insert(1, "{not json")
    lines.append(json.dumps(dict(good[0], id="x", station="XRAY")))
    lines.append(json.dumps(dict(good[0], id="y", result="MAYBE")))
    lines.append("")
    lines.append(json.dumps(good[0]))  # duplicate
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    out = linemon("import", str(f), "--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))
    assert out.returncode == 1
    assert "stored 3, duplicate 1, rejected 3" in out.stdout
    assert f"{f}:2: (top level): Invalid JSON" in out.stderr
    assert f"{f}:5: station: unknown station 'XRAY'" in out.stderr
    assert f"{f}:6: result:" in out.stderr
    assert "Traceback" not in out.stderr
    s = SqliteStore(db)
    dl = s.dead_letters()
    assert sorted(d.location for d in dl) == [f"{f}:2", f"{f}:5", f"{f}:6"]
    assert any(d.raw == b"{not json" for d in dl)
    again = linemon("import", str(f), "--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))
    assert "stored 0, duplicate 4, rejected 3" in again.stdout
    assert s.result_count() == 3


def test_report_yield_json_and_table(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    s = SqliteStore(db)
    s.write(
        [
            result("A", "SPI", "PASS", 0),
            result("A", "FCT", "FAIL", 5),
            result("A", "FCT", "PASS", 9),
            result("B", "SPI", "PASS", 1),
            result("B", "FCT", "PASS", 6),
            result("R", "FCT", "PASS", 6, product="MR-1200"),
        ]
    )
    s.close()
    common = [
        "--store",
        f"sqlite:///{db}",
        "--config",
        str(PLANT_FILE),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-03",
    ]
    js = linemon("report", "yield", "--json", *common)
    assert js.returncode == 0, js.stderr
    rep = json.loads(js.stdout)["products"]
    ff = rep["FF-50"]
    assert ff["units"] == 2 and ff["rty"] == 0.5 and ff["final_yield"] == 1.0 and ff["dpmo"] == 0.0
    assert ff["stations"]["FCT"] == {
        "units": 2,
        "fpy": 0.5,
        "final_yield": 1.0,
        "retests": 1,
        "dpu": 0.0,
        "false_call_rate": None,
    }
    assert rep["GPS-70"]["units"] == 0 and rep["GPS-70"]["rty"] is None
    smt = json.loads(js.stdout)["lines"]["SMT1"]
    assert smt["rty"]["FF-50"] == 0.5 and smt["rty"]["MR-1200"] == 1.0 and smt["rty"]["GPS-70"] is None
    assert smt["fpy"] == {"SPI": 1.0, "FCT": 2 / 3}  # FCT: A fails first, B and R pass
    one = json.loads(linemon("report", "yield", "--json", "--product", "MR-1200", *common).stdout)["products"]
    assert list(one) == ["MR-1200"] and one["MR-1200"]["stations"]["FCT"]["fpy"] == 1.0
    table = linemon("report", "yield", *common)
    assert "FF-50" in table.stdout and "50.00%" in table.stdout and "Asia/Seoul" in table.stdout
    assert "Fish finder FF-50" in table.stdout and "final yield" in table.stdout
    korean = linemon("report", "yield", *common, lang="ko_KR.UTF-8")  # a Korean floor PC: whole messages
    assert "어군 탐지기 FF-50" in korean.stdout and "수율 2026-11-01 00:00 - 2026-11-03 00:00 (Asia/Seoul)" in korean.stdout
    assert "누적 직행률  50.00%   최종 수율 100.00%" in korean.stdout and "(이 기간 생산 없음)" in korean.stdout
    bad = linemon("report", "yield", "--product", "XX-1", *common)
    assert bad.returncode == 2 and "unknown product 'XX-1'" in bad.stderr
    bad = linemon("report", "yield", "--store", f"sqlite:///{db}", "--from", "yesterday")
    assert bad.returncode == 2 and "--from: 'yesterday' is not a date" in bad.stderr


def test_parallel_import_equals_serial_import(tmp_path: Path, plant) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from benchmarks.__main__ import lines
    from linemon import importer

    f = tmp_path / "big.jsonl"
    body = list(lines(45_000, datetime(2026, 11, 1, tzinfo=UTC), timedelta(days=10), 3))
    body.insert(7, b'{"schema": "linemon.result/1", "oops": 1}')
    body.insert(30_000, b"not json at all")
    f.write_bytes(b"\n".join(body) + b"\n")
    serial, parallel = SqliteStore(tmp_path / "a.db"), SqliteStore(tmp_path / "b.db")
    one = importer.import_file(f, serial, plant, jobs=0)
    two = importer.import_file(f, parallel, plant, jobs=2)
    assert one == two and one.rejected == 2 and one.counts.stored == 45_000
    assert one.first_errors[0].startswith(f"{f}:8: ") and one.first_errors[1].startswith(f"{f}:30001: ")
    t0, t1 = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    assert serial.yield_tallies(t0, t1) == parallel.yield_tallies(t0, t1)
    assert sorted(d.location for d in serial.dead_letters()) == sorted(
        d.location for d in parallel.dead_letters()
    )


def test_the_default_plant_file_missing_here_says_where_it_looked(tmp_path: Path) -> None:
    """Run from another directory without --config: the error says where it looked and how to
    name the plant file, not just 'not found'."""
    env = {k: v for k, v in os.environ.items() if k != "LINEMON_CONFIG"}
    out = subprocess.run(
        [sys.executable, "-m", "linemon", "ingest"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"config/jincheon.toml: file not found (looked for {tmp_path}/config/jincheon.toml)" in out.stderr
    assert "give --config FILE or $LINEMON_CONFIG" in out.stderr


def test_read_only_commands_refuse_a_store_that_does_not_exist(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    for cmd in (["report", "yield"], ["dashboard", "--port", "0"]):
        out = linemon(*cmd, "--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))
        assert out.returncode != 0, cmd
        assert f"no such store ({db} does not exist)" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
        assert not db.exists()  # not created empty


def test_report_and_dashboard_read_a_twin_store_on_its_plant_clock(tmp_path: Path) -> None:
    """A twin's store keeps the twin's clock: `report yield` and the dashboard both judge "the
    last 7 days" from the plant's now (2026-11-04 14:00 KST, the twin stopped there), not from
    the wall clock, so they show the same figures."""
    import time
    from datetime import UTC, datetime

    from dashboard.app import create_app
    from line.clock import StoredClock
    from line.config import load_plant

    db = tmp_path / "twin.db"
    s = SqliteStore(db)
    stop = datetime(2026, 11, 4, 5, 0, tzinfo=UTC)
    s.write([result("A", "SPI", "PASS", 0, start=datetime(2026, 11, 3, 1, 0, tzinfo=UTC)),
             result("B", "SPI", "FAIL", 0, start=datetime(2026, 11, 3, 2, 0, tzinfo=UTC))])  # fmt: skip
    s.put_clock(StoredClock(stop, time.time(), 0.0, time.time()))  # the twin stopped at `stop`
    out = linemon("report", "yield", "--json", "--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["to"] == stop.isoformat() and rep["products"]["FF-50"]["units"] == 2
    app = create_app(load_plant(PLANT_FILE), f"sqlite:///{db}")
    assert app.server.extensions["linemon"].now() == stop
    # a running twin's clock runs on (60x); a twin that stopped confirming it stands still
    wall = time.time()
    running = StoredClock(stop, wall - 10, 60.0, wall - 1)
    assert (running.at(wall) - stop).total_seconds() == 600
    dead = StoredClock(stop, wall - 100, 60.0, wall - 60)
    assert (dead.at(wall) - stop).total_seconds() == 40 * 60  # stands at its last heartbeat
    s.close()


def test_the_dashboard_command_serves_on_waitress(tmp_path: Path) -> None:
    """`linemon dashboard` on a production WSGI server, not Flask's development one."""
    import socket
    import time
    import urllib.request

    from tests.infra import linemon_proc, sigterm_exit_code

    SqliteStore(tmp_path / "w.db").close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "dash.log"
    proc = linemon_proc("dashboard", "--port", str(port), "--threads", "4", "--store", f"sqlite:///{tmp_path / 'w.db'}",
                        "--config", str(PLANT_FILE), log=log)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/overview", timeout=5) as r:
                    assert r.status == 200 and r.headers["Server"] == "linemon"  # waitress, named by us
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert "4 threads" in log.read_text() and "development server" not in log.read_text()
    finally:
        sigterm_exit_code(proc)
