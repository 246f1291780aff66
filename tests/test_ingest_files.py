"""Inspection equipment that reports by file: CSV layouts described in the plant file (columns by
header name), parsed from recorded fixtures, and a folder read by `linemon ingest` end to end -
a half-written file waits until it is finished, a garbled one goes to failed/ and the dead-letter
table, a duplicate is stored once, and a file read again after a crash adds nothing."""

from __future__ import annotations

import csv
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.fileformat import parse_csv, parse_file
from drivers.items import Draft, Reject
from drivers.lineformat import Context
from line.config import Plant
from line.config_model import BindingDef
from tests.conftest import PLANT_FILE
from tests.infra import linemon_proc, sigterm_exit_code, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "files"
NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _ctx(plant: Plant, station: str) -> Context:
    b = BindingDef(id=f"{station.lower()}-files", transport="file", station=station, format="x", path="/tmp")
    return Context(b, plant.station(station).line, plant.tz, NOW)


def test_an_aoi_call_report_with_operator_verdicts(plant: Plant) -> None:
    fmt = plant.spec.formats["aoi_calls_csv"]
    data = (FIXTURES / "aoi_calls.csv").read_bytes()
    items = parse_csv(fmt, _ctx(plant, "VI1"), data, "aoi_calls.csv")
    drafts = [i.data for i in items if isinstance(i, Draft)]
    assert [(d["serial"], d["result"]) for d in drafts] == [
        ("FF50-2611-000101", "PASS"), ("FF50-2611-000102", "FAIL"), ("FF50-2611-000103", "PASS")]  # fmt: skip
    # the operator confirmed the bridge and rejected the missing part: a defect and a false call
    assert [(d["code"], d["refdes"], d["confirmed"]) for d in drafts[1]["defects"]] == [
        ("bridge", "U3", True), ("missing", "C12", False)]  # fmt: skip
    assert drafts[2]["defects"][0]["confirmed"] is False and drafts[0]["defects"] == []
    assert drafts[1]["ts"] == datetime(2026, 11, 24, 9, 12, 40, tzinfo=plant.tz) and drafts[1]["equipment"] == "AOI-01"
    again = parse_csv(fmt, _ctx(plant, "VI1"), data, "copy.csv")  # the same content: the same ids
    assert [i.data["id"] for i in again if isinstance(i, Draft)] == [d["id"] for d in drafts]


def test_an_spi_pad_report_is_summarised_per_board_and_pad_type(plant: Plant) -> None:
    fmt = plant.spec.formats["spi_pads_csv"]
    items = parse_csv(fmt, _ctx(plant, "SPI"), (FIXTURES / "spi_pads.csv").read_bytes(), "spi_pads.csv")
    drafts = {i.data["serial"]: i.data for i in items if isinstance(i, Draft)}
    assert {s: d["result"] for s, d in drafts.items()} == {"FF50-2611-000201": "PASS", "FF50-2611-000202": "FAIL"}
    with open(FIXTURES / "spi_pads.csv") as fh:  # the same figures computed from the file directly
        rows = [r for r in csv.DictReader(fh) if r["PanelID"] == "FF50-2611-000202" and r["PadType"] == "0402"]
    vol = [float(r["Volume(%)"]) for r in rows]
    got = {m["name"]: m["value"] for m in drafts["FF50-2611-000202"]["measurements"]}
    assert got["Volume(%) 0402 mean"] == pytest.approx(statistics.fmean(vol))
    assert got["Volume(%) 0402 min"] == min(vol) == 38.0 and got["Volume(%) 0402 max"] == max(vol)
    assert len(got) == 3 * 3 * 2  # volume, height, area x mean, min, max x two pad types: not 120 pads


def test_a_bad_file_is_one_reject_that_says_why(plant: Plant) -> None:
    fmt = plant.spec.formats["aoi_calls_csv"]
    ctx = _ctx(plant, "VI1")
    (r,) = parse_csv(fmt, ctx, b"Serial,Result\nX1,OK\n", "b1.csv")
    assert isinstance(r, Reject) and "b1.csv: no column 'Barcode'" in r.reason
    (r,) = parse_csv(fmt, ctx, b"\xff\xfe\x00garbage\x00\x81", "b2.csv")
    assert isinstance(r, Reject) and r.reason.startswith("b2.csv: not utf-8-sig text")
    head = (FIXTURES / "aoi_calls.csv").read_bytes().splitlines()[0]
    (r,) = parse_csv(fmt, ctx, head + b"\nS9,AOI-01,2026-11-24 09:12:01,U1,Bridge,MAYBE,FF-50\n", "b3.csv")
    assert isinstance(r, Reject) and "operator verdict 'MAYBE'" in r.reason


def _plant_with_folder(tmp: Path, inbox: Path, fmt: str = "aoi_calls_csv") -> Path:
    text = PLANT_FILE.read_text() + (
        "\n[[bindings]]\n"
        'id = "aoi-files"\ntransport = "file"\nstation = "VI1"\nequipment = "AOI-01"\n'
        f'path = "{inbox}"\nformat = "{fmt}"\npoll_s = 0.2\nsettle_s = 0.6\n'
    )
    p = tmp / "plant.toml"
    p.write_text(text)
    return p


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as c:
        return int(c.execute(sql).fetchone()[0])


def test_a_folder_of_result_files_end_to_end(tmp_path: Path) -> None:
    inbox, db, log = tmp_path / "inbox", tmp_path / "f.db", tmp_path / "ingest.log"
    inbox.mkdir()
    plant = _plant_with_folder(tmp_path, inbox)
    aoi = (FIXTURES / "aoi_calls.csv").read_bytes()
    ing = linemon_proc("ingest", "--config", str(plant), "--store", f"sqlite:///{db}", "--only=aoi-files", log=log)
    try:
        wait_for(lambda: "aoi-files: connected" in log.read_text(), 30, "the file binding did not start")
        (inbox / "b1.csv").write_bytes(aoi)
        half = inbox / "b2.csv"  # a tester still writing: the second half comes after a pause
        other = aoi.replace(b"0001", b"0002")
        with open(half, "wb") as fh:
            fh.write(other[: len(other) // 2])
            fh.flush()
            time.sleep(0.4)  # less than settle_s: not read yet
            fh.write(other[len(other) // 2 :])
        (inbox / "garbled.csv").write_bytes(b"\x00\x01 this is not a report \xff")
        (inbox / "b1-again.csv").write_bytes(aoi)  # the same report dropped twice
        wait_for(lambda: not list(inbox.glob("*.csv")), 30, f"files left in the inbox: {list(inbox.iterdir())}")
        assert sorted(p.name for p in (inbox / "done").iterdir()) == ["b1-again.csv", "b1.csv", "b2.csv"]
        assert [p.name for p in (inbox / "failed").iterdir()] == ["garbled.csv"]
        assert _count(db, "SELECT count(*) FROM results") == 6  # 3 boards x 2 reports, the duplicate once
        assert _count(db, "SELECT count(*) FROM results WHERE serial LIKE 'FF50-2611-00020%'") == 3  # b2 whole
        reason = sqlite3.connect(db).execute("SELECT reason, location FROM dead_letters").fetchall()
        assert len(reason) == 1 and reason[0][0].startswith("garbled.csv: ") and reason[0][1].endswith("garbled.csv")
    finally:
        assert sigterm_exit_code(ing) == 0


def test_a_file_read_again_after_a_crash_adds_nothing(tmp_path: Path) -> None:
    """Killed between the commit and the move, the file is read again at the next start: its
    content-derived ids make it duplicates. Killed before the commit, it is simply read then."""
    inbox, db, log = tmp_path / "inbox", tmp_path / "c.db", tmp_path / "ingest.log"
    inbox.mkdir()
    plant = _plant_with_folder(tmp_path, inbox)
    args = ("ingest", "--config", str(plant), "--store", f"sqlite:///{db}", "--only=aoi-files")
    first = linemon_proc(*args, log=log)
    wait_for(lambda: "aoi-files: connected" in log.read_text(), 30, "the file binding did not start")
    (inbox / "b1.csv").write_bytes((FIXTURES / "aoi_calls.csv").read_bytes())
    wait_for(lambda: (inbox / "done" / "b1.csv").exists(), 30, "b1.csv was not processed")
    shutil.copy(inbox / "done" / "b1.csv", inbox / "b1.csv")  # as if the move had not happened
    (inbox / "b2.csv").write_bytes((FIXTURES / "aoi_calls.csv").read_bytes().replace(b"0001", b"0003"))
    first.send_signal(signal.SIGKILL)  # before b2 has settled: nothing of it committed
    first.wait(10)
    assert (inbox / "b2.csv").exists()
    again = linemon_proc(*args, log=log)
    try:
        wait_for(lambda: not list(inbox.glob("*.*")), 30, f"files left: {list(inbox.iterdir())}")
        assert _count(db, "SELECT count(*) FROM results") == 6
        assert len(list((inbox / "done").iterdir())) == 3  # b1 twice (renamed), b2
    finally:
        assert sigterm_exit_code(again) == 0


def test_check_config_names_what_a_file_binding_lacks(plant: Plant) -> None:
    from line.config import plant_from_dict
    from line.errors import ConfigError

    data = plant.spec.model_dump(mode="json", exclude_unset=True)
    data["bindings"].append({"id": "spi-files", "transport": "file", "station": "SPI", "format": "fct_line"})
    data["formats"]["bare_csv"] = {"type": "csv", "rows": "pad", "columns": {"result": "R"}}
    with pytest.raises(ConfigError) as err:
        plant_from_dict(data, "files.toml")
    text = str(err.value)
    assert "bindings[8] (spi-files).path: required for a file binding" in text
    assert "a file binding takes a csv or xml format (expected one of aoi_calls_csv, aoi_xml, bare_csv, spi_pads_csv), not 'fct_line'" in text
    assert "formats.bare_csv.columns: must name the 'serial' column" in text
    assert "formats.bare_csv: pad rows need a 'code' column or measure_columns" in text


def test_emulated_reports_read_back_as_written(plant: Plant) -> None:
    import random

    from drivers.emulate import EmuUnit
    from drivers.emulate_files import csv_report

    ts = datetime(2026, 11, 24, 9, 30, 5, tzinfo=plant.tz)
    unit = EmuUnit("FF50-E1", "FF-50", "WO-1", False, (("bridge", "U3"),), (("missing", "C7"),))
    for name, station in (("aoi_calls_csv", "VI1"), ("spi_pads_csv", "SPI")):
        fmt = plant.spec.formats[name]
        ctx = _ctx(plant, station)
        data = csv_report(fmt, ctx.binding, unit, ts, random.Random(1), "EQ-1")
        (draft,) = parse_csv(fmt, ctx, data, "x.csv")
        assert isinstance(draft, Draft), draft
        assert (draft.data["serial"], draft.data["result"], draft.data["ts"]) == ("FF50-E1", "FAIL", ts)
    calls = parse_csv(plant.spec.formats["aoi_calls_csv"], _ctx(plant, "VI1"),
                      csv_report(plant.spec.formats["aoi_calls_csv"], _ctx(plant, "VI1").binding, unit, ts,
                                 random.Random(1)), "y.csv")  # fmt: skip
    assert [(d["code"], d["confirmed"]) for d in calls[0].data["defects"]] == [("bridge", True), ("missing", False)]  # type: ignore[union-attr]


def test_an_emulated_xml_report_reads_back_as_written(plant: Plant) -> None:
    import random

    from drivers.emulate import EmuUnit
    from drivers.emulate_files import report
    from drivers.fileformat import parse_file

    ts = datetime(2026, 11, 24, 9, 30, 5, tzinfo=plant.tz)
    unit = EmuUnit("FF50-X1", "FF-50", "WO-7", False, (("bridge", "U3"),), (("missing", "C7"),),
                   (("V_TX", 12.01, "V"), ("I_RX", 98.5, "mA")))  # fmt: skip
    fmt = plant.spec.formats["aoi_xml"]
    ctx = _ctx(plant, "VI1")
    data, name = report(fmt, ctx.binding, unit, ts, random.Random(1))
    assert name.endswith(".xml") and data.startswith(b"<?xml")
    (draft,) = parse_file(fmt, ctx, data, name)
    assert isinstance(draft, Draft), draft
    d = draft.data
    assert (d["serial"], d["result"], d["product"], d["work_order"]) == ("FF50-X1", "FAIL", "FF-50", "WO-7")
    assert [(x["code"], x["refdes"], x["confirmed"]) for x in d["defects"]] == [("bridge", "U3", True), ("missing", "C7", False)]
    assert [(m["name"], m["value"], m["unit"]) for m in d["measurements"]] == [("V_TX", 12.01, "V"), ("I_RX", 98.5, "mA")]


@pytest.mark.parametrize("fmt", ["aoi_calls_csv", "aoi_xml"])
def test_linemon_emulate_fills_a_folder_the_ingest_reads(tmp_path: Path, fmt: str) -> None:
    inbox, db, log = tmp_path / "inbox", tmp_path / "e.db", tmp_path / "ingest.log"
    inbox.mkdir()
    plant = _plant_with_folder(tmp_path, inbox, fmt)
    emu = subprocess.run([sys.executable, "-m", "linemon", "emulate", "aoi-files", "--config", str(plant),
                          "--folder", str(inbox), "--count", "25", "--rate", "0"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert emu.returncode == 0 and "wrote 25 reports" in emu.stdout, emu.stderr
    ing = linemon_proc("ingest", "--config", str(plant), "--store", f"sqlite:///{db}", "--only=aoi-files", log=log)
    try:
        wait_for(lambda: not list(inbox.glob("*.*")), 30, f"files left: {list(inbox.iterdir())}")
        assert _count(db, "SELECT count(*) FROM results") == 25 and len(list((inbox / "done").iterdir())) == 25
    finally:
        assert sigterm_exit_code(ing) == 0


def test_an_xml_panel_report_by_paths(plant: Plant) -> None:
    fmt = plant.spec.formats["aoi_xml"]
    data = (FIXTURES / "aoi_report.xml").read_bytes()
    items = parse_file(fmt, _ctx(plant, "VI1"), data, "aoi_report.xml")
    d = [i.data for i in items if isinstance(i, Draft)]
    assert [(x["serial"], x["result"], x["product"], x["work_order"]) for x in d] == [
        ("FF50-2611-000301", "PASS", "FF-50", "WO-2648-01"), ("FF50-2611-000302", "FAIL", "FF-50", "WO-2648-01")]  # fmt: skip
    assert [(x["code"], x["refdes"], x["confirmed"]) for x in d[1]["defects"]] == [
        ("bridge", "U7", True), ("missing", "C33", False)]  # fmt: skip
    assert d[1]["measurements"] == [{"name": "Offset_X", "value": 0.043, "unit": "mm", "hi": 0.10}]
    assert d[0]["ts"] == datetime(2026, 11, 24, 10, 5, 11, tzinfo=plant.tz)
    (bad,) = parse_file(fmt, _ctx(plant, "VI1"), data[: len(data) // 2], "cut.xml")
    assert isinstance(bad, Reject) and bad.reason.startswith("cut.xml: not well-formed XML")


def test_read_files_are_kept_for_keep_days(plant: Plant, tmp_path: Path) -> None:
    import os

    from drivers.file_source import FileSource
    from drivers.ingest import Health

    b = BindingDef(id="aoi-files", transport="file", station="VI1", format="aoi_calls_csv", path=str(tmp_path),
                   keep_days=30)  # fmt: skip
    src = FileSource(b, plant, lambda batch: None, Health("aoi-files"))
    (tmp_path / "done").mkdir()
    (tmp_path / "failed").mkdir()
    old, new, bad = tmp_path / "done" / "old.csv", tmp_path / "done" / "new.csv", tmp_path / "failed" / "bad.csv"
    for f in (old, new, bad):
        f.write_text("x")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(bad, (month_ago, month_ago))
    src._scan()  # the first scan purges
    assert not old.exists() and not bad.exists() and new.exists()


def test_a_change_in_the_folder_wakes_the_scan_before_the_next_poll(tmp_path: Path, plant: Plant) -> None:
    """With inotify (Linux) a finished file is read about settle_s after it was written, not at
    the next poll: here the poll comes every 10 minutes, and the file is read within seconds."""
    import threading

    from drivers.file_source import FileSource
    from drivers.ingest import Health

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    b = BindingDef(id="aoi-files", transport="file", station="VI1", format="aoi_calls_csv", path=str(inbox),
                   poll_s=600, settle_s=0.3)  # fmt: skip
    got: list = []
    seen = threading.Event()
    src = FileSource(b, plant, lambda batch: (got.append(batch), seen.set()), Health("aoi-files"))
    src.start()
    try:
        time.sleep(0.5)  # the first scan (an empty folder) has run; the next poll is 10 minutes away
        (inbox / "board.csv").write_bytes((FIXTURES / "aoi_calls.csv").read_bytes())
        assert seen.wait(30), "the new file was not read before the next poll"
        assert got[0].location.endswith("board.csv") and got[0].items
    finally:
        src.stop()
