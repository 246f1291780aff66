"""`linemon import FILE`: JSON lines of result/state records into the store, nothing lost.

Valid lines are stored (a known id is a duplicate and ignored); every other line goes to the
dead-letter table with its file, line number and reason. Parsing and validation of large inputs
run in worker processes while this process writes (on SQLite, which accepts prepared rows), so
the two halves of the work use two cores; batches are committed in input order.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from line.config import Plant
from line.errors import LinemonError, RecordError
from line.records import Record, parse_record, plant_problem
from store.base import Store, WriteCounts

BATCH = 20_000
Lines = list[tuple[int, bytes]]
Reject = tuple[bytes, str, str, str | None]


@dataclass
class ImportResult:
    counts: WriteCounts = field(default_factory=WriteCounts)
    rejected: int = 0
    first_errors: list[str] = field(default_factory=list)


def import_file(path: str | Path, store: Store, plant: Plant, jobs: int | None = None) -> ImportResult:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, also on error
    except OSError as exc:
        raise LinemonError(f"{path}: cannot open ({exc.strerror})") from None
    with fh:
        out = import_stream(fh, str(path), store, plant, jobs)
    store.refresh_statistics()  # the dashboard's queries are planned on what is there now
    return out


def import_stream(
    fh: BinaryIO, name: str, store: Store, plant: Plant, jobs: int | None = None
) -> ImportResult:
    """`jobs` parser processes (default: one less than the cores; 0 parses in this process)."""
    out = ImportResult()
    stations = {sid: st.line for sid, st in plant.spec.stations.items()}
    products = frozenset(plant.spec.products)
    chunks = _chunks(_lines(fh), BATCH)
    workers = max(0, (os.cpu_count() or 1) - 1) if jobs is None else jobs
    write_rows = getattr(store, "write_rows", None)
    if workers == 0 or write_rows is None:
        for chunk in chunks:
            recs, rejects = parse_chunk(chunk, name, stations, products)
            _commit(out, rejects, lambda r=recs: store.write(r), store)  # type: ignore[misc]  # bind the loop value
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[tuple[Any, list[Reject]]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(parse_chunk_rows, chunk, name, stations, products))
            if len(pending) > workers + 1:  # a bounded read-ahead: memory stays flat
                _commit_future(out, pending.popleft(), write_rows, store)
        while pending:
            _commit_future(out, pending.popleft(), write_rows, store)
    return out


def parse_chunk(
    chunk: Lines, name: str, stations: dict[str, str], products: frozenset[str]
) -> tuple[list[Record], list[Reject]]:
    recs: list[Record] = []
    rejects: list[Reject] = []
    for lineno, raw in chunk:
        try:
            rec = parse_record(raw)
            problem = plant_problem(rec, stations, products)
            if problem:
                raise RecordError(problem)
        except RecordError as exc:
            rejects.append((raw, "import", str(exc), f"{name}:{lineno}"))
            continue
        recs.append(rec)
    return recs, rejects


def parse_chunk_rows(
    chunk: Lines, name: str, stations: dict[str, str], products: frozenset[str]
) -> tuple[Any, list[Reject]]:
    """In a worker process: parse, validate and turn into SQLite rows (cheap to send back)."""
    from store.sql_store import rows_of

    recs, rejects = parse_chunk(chunk, name, stations, products)
    return rows_of(recs), rejects


def _commit_future(
    out: ImportResult,
    fut: Future[tuple[Any, list[Reject]]],
    write_rows: Callable[[Any], WriteCounts],
    store: Store,
) -> None:
    rows, rejects = fut.result()
    _commit(out, rejects, lambda: write_rows(rows), store)


def _commit(out: ImportResult, rejects: list[Reject], write: Callable[[], WriteCounts], store: Store) -> None:
    """Commit one batch: a killed import keeps every batch it finished."""
    out.counts += write()
    if rejects:
        store.dead_letter_many(rejects)
        out.rejected += len(rejects)
        for _raw, _src, reason, loc in rejects[: max(0, 10 - len(out.first_errors))]:
            out.first_errors.append(f"{loc}: {reason}")


def _chunks(lines: Iterator[tuple[int, bytes]], n: int) -> Iterator[Lines]:
    while chunk := list(islice(lines, n)):
        yield chunk


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    for lineno, raw in enumerate(fh, start=1):
        raw = raw.strip()
        if raw:
            yield lineno, raw
