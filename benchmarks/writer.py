"""The ingest writer's work per MQTT message, counted in CPU instructions (valgrind callgrind).

This machine's speed drifts by up to 2x within a minute (another tenant's load), so timed
comparisons of small changes need many interleaved runs. Instructions do not drift: the count
is the same run after run. The writer parses, validates, stores and rolls up N native messages
as `linemon ingest`'s writer process does (same functions, same batching, the same collector
settings); the count at two sizes, subtracted, leaves the work per message without start-up.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.ingest import RECORD, TOPIC

WORK = (
    RECORD
    + r"""
import sys, tempfile
from datetime import UTC, datetime
import orjson
from drivers.ingest import Writer, streaming_gc
from drivers.writer_proc import _batch
from line.config import load_plant
from store.base import open_store

plant = load_plant(sys.argv[2])
bindings = {b.id: b for b in plant.spec.bindings}
n, chunk = int(sys.argv[1]), 250
msgs = [("spi-mqtt", sys.argv[3], orjson.dumps(record("w", i)), i % 60000 + 1, 1) for i in range(n)]
store = open_store(f"sqlite:///{tempfile.mkdtemp()}/w.db")
writer = Writer(store, plant, health={})
streaming_gc()
for k in range(0, n, chunk):
    now = datetime.now(UTC)
    writer.commit([_batch(m, bindings, plant, now) for m in msgs[k:k + chunk]])
store.close()
"""
)


def _instructions(n: int, plant: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
             sys.executable, "-c", WORK, str(n), str(plant), TOPIC],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", out.stderr)
    if not found:
        raise RuntimeError(f"callgrind printed no total:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def bench_writer(small: int = 2_000, large: int = 12_000) -> None:
    if shutil.which("valgrind") is None:
        print("writer: valgrind is not installed (Debian: apt install valgrind); instruction count skipped")
        return
    plant = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
    per = (_instructions(large, plant) - _instructions(small, plant)) / (large - small)
    print(
        f"writer: {per / 1000:,.0f}k CPU instructions per native MQTT message "
        f"(parse, validate, store, roll up; callgrind, {large:,} - {small:,} messages)"
    )
