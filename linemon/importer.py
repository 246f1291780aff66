"""`linemon import FILE`: JSON lines of result/state records into the store, nothing lost.

Valid lines are stored (a known id is a duplicate and ignored); every other line goes to the
dead-letter table with its file, line number and reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from line.config import Plant
from line.errors import LinemonError, RecordError
from line.records import Record, parse_record, plant_problem
from store.base import Store, WriteCounts

BATCH = 20_000


@dataclass
class ImportResult:
    counts: WriteCounts = field(default_factory=WriteCounts)
    rejected: int = 0
    first_errors: list[str] = field(default_factory=list)


def import_file(path: str | Path, store: Store, plant: Plant) -> ImportResult:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, also on error
    except OSError as exc:
        raise LinemonError(f"{path}: cannot open ({exc.strerror})") from None
    with fh:
        return import_stream(fh, str(path), store, plant)


def import_stream(fh: BinaryIO, name: str, store: Store, plant: Plant) -> ImportResult:
    out = ImportResult()
    stations = {sid: st.line for sid, st in plant.spec.stations.items()}
    products = set(plant.spec.products)
    batch: list[Record] = []
    rejects: list[tuple[bytes, str, str, str | None]] = []
    for lineno, raw in _lines(fh):
        try:
            rec = parse_record(raw)
            problem = plant_problem(rec, stations, products)
            if problem:
                raise RecordError(problem)
        except RecordError as exc:
            out.rejected += 1
            rejects.append((raw, "import", str(exc), f"{name}:{lineno}"))
            if len(out.first_errors) < 10:
                out.first_errors.append(f"{name}:{lineno}: {exc}")
            continue
        batch.append(rec)
        if len(batch) >= BATCH:
            _flush(store, batch, rejects, out)
    _flush(store, batch, rejects, out)
    return out


def _flush(
    store: Store, batch: list[Record], rejects: list[tuple[bytes, str, str, str | None]], out: ImportResult
) -> None:
    """Commit what was read so far: a killed import keeps every batch it finished."""
    if batch:
        out.counts += store.write(batch)
        batch.clear()
    if rejects:
        store.dead_letter_many(rejects)
        rejects.clear()


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for lineno, raw in enumerate(fh, start=1):
        raw = raw.strip()
        if raw:
            yield lineno, raw
