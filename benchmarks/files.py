"""File ingest and measurement SPC at scale (issue 18).

- file ingest: N SPI per-pad reports (120 pads each, the plant file's `spi_pads_csv`) dropped into
  a folder, read by `linemon ingest` (a process of its own, settle time 0) until every file is in
  done/: boards/s and pads/s, against the physical limit measured in the same run (reading and
  splitting the same files with Python's csv module, nothing else).
- QA capability table on a year of SPI data: a store holding a year of per-board SPI summaries
  (18 measurements per board), the QA page's measurement SPC callback for the last 30 days (the
  chart, the histogram, the capability and the table ranking all 18 measurements by Cpk).
Usage: python -m benchmarks --only files
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drivers.emulate import EmuUnit
from drivers.emulate_files import PADS, csv_report
from line.config import load_plant
from line.config_model import BindingDef

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
NOW = datetime(2026, 10, 30, 7, 0, tzinfo=UTC)  # Friday 16:00 in Seoul


def _reports(folder: Path, n: int) -> None:
    plant = load_plant(PLANT)
    fmt = plant.spec.formats["spi_pads_csv"]
    b = BindingDef(id="spi-files", transport="file", station="SPI", format="spi_pads_csv", path=str(folder))
    rng = random.Random(1)
    t0 = datetime(2026, 10, 1, tzinfo=plant.tz)
    for i in range(n):
        u = EmuUnit(f"FF50-B{i:07d}", "FF-50", "WO-B", rng.random() > 0.02)
        ts = t0 + timedelta(seconds=30 * i)
        (folder / f"{u.serial}.csv").write_bytes(csv_report(fmt, b, u, ts, rng))


def _raw_parse_rate(folder: Path) -> float:
    """Boards per second of reading and splitting the files, nothing else: the floor."""
    files = sorted(folder.glob("*.csv"))
    t0 = time.perf_counter()
    rows = 0
    for f in files:
        with open(f, newline="") as fh:
            rows += sum(1 for _ in csv.reader(fh))
    return len(files) / (time.perf_counter() - t0)


def bench_file_ingest(work: Path, n: int = 3000) -> None:
    inbox = work / "spi-inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    _reports(inbox, n)
    raw = _raw_parse_rate(inbox)
    plant = work / "files-plant.toml"
    plant.write_text(PLANT.read_text() + (
        f'\n[[bindings]]\nid = "spi-files"\ntransport = "file"\nstation = "SPI"\npath = "{inbox}"\n'
        'format = "spi_pads_csv"\npoll_s = 0.2\nsettle_s = 0\n'
    ))  # fmt: skip
    db = work / "files.db"
    log = open(work / "files-ingest.log", "wb")  # noqa: SIM115 - the child writes it until it ends
    t0 = time.perf_counter()
    ing = subprocess.Popen([sys.executable, "-m", "linemon", "ingest", "--config", str(plant), "--store",
                            f"sqlite:///{db}", "--only=spi-files"], stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while any(inbox.glob("*.csv")):
            if ing.poll() is not None:
                raise RuntimeError(f"the ingest ended: see {work / 'files-ingest.log'}")
            time.sleep(0.05)
        dt = time.perf_counter() - t0
    finally:
        ing.terminate()
        ing.wait(30)
        log.close()
    rate = n / dt
    print(f"file ingest: {n:,} SPI reports ({PADS} pads each) in {dt:.1f} s = {rate:,.0f} boards/s, "
          f"{rate * PADS:,.0f} pads/s (start-up included); reading and splitting the same files alone "
          f"{raw:,.0f} boards/s -> ratio {rate / raw:.2f}")  # fmt: skip


def bench_spc_year(work: Path) -> None:
    from dashboard.app import create_app
    from line.records import record_from_dict
    from store.sqlite import SqliteStore

    plant = load_plant(PLANT)
    db = work / "spc-year.db"
    store = SqliteStore(db)
    rng = random.Random(2)
    boards = 30_000  # a year of the plant's SPI: ~580 boards a week
    if store.result_count() < boards:
        t0 = time.perf_counter()
        step = timedelta(days=365) / boards
        batch = []
        for i in range(boards):
            ms = [{"name": f"{m} {g} {s}", "value": rng.gauss(100, 5), "unit": "%"}
                  for m in ("Volume(%)", "Height(um)", "Area(%)") for g in ("0402", "QFN")
                  for s in ("mean", "min", "max")]  # fmt: skip
            batch.append(record_from_dict({
                "schema": "linemon.result/1", "id": f"spc-{i}", "ts": NOW - timedelta(days=365) + step * i,
                "line": "SMT1", "station": "SPI", "serial": f"FF50-Y{i:07d}", "product": "FF-50",
                "result": "PASS", "measurements": ms}))  # fmt: skip
            if len(batch) == 5000:
                store.write(batch)
                batch = []
        store.write(batch)
        print(f"spc: a year of SPI summaries stored ({boards:,} boards, {boards * 18:,} measurements) "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    app = create_app(plant, f"sqlite:///{db}", now=lambda: NOW)
    page = sys.modules["pages.qa_page"]
    with app.server.test_request_context():
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            page.update_spc(1, "30d", "FF-50", "SPI", "Volume(%) 0402 mean")
            times.append(time.perf_counter() - t0)
    print(f"spc: QA page measurement SPC over 30 days of a year's SPI data (chart, histogram, capability, "
          f"18 measurements ranked by Cpk): best {min(times) * 1000:.0f} ms, median "
          f"{sorted(times)[2] * 1000:.0f} ms (target < 300 ms)")  # fmt: skip


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        bench_file_ingest(Path(tmp))
        bench_spc_year(Path(tmp))
