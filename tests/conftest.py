"""Shared fixtures: the reference plant, real SQLite stores in tmp_path, record builders."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from line.config import Plant, load_plant
from line.records import ResultRecord, StateRecord, record_from_dict
from store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
PLANT_FILE = ROOT / "config" / "jincheon.toml"
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul
_ids = itertools.count()


@pytest.fixture(scope="session")
def plant() -> Plant:
    return load_plant(PLANT_FILE)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "linemon.db")
    yield s
    s.close()


def result(
    serial: str,
    station: str,
    verdict: str,
    minutes: float,
    product: str = "FF-50",
    defects: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> ResultRecord:
    """A result record `minutes` after T0; the line is looked up from the reference plant's flow."""
    line = "ASSY1" if station in ("ASSY", "AGING", "FT", "OQA", "PACK") else "SMT1"
    rec = record_from_dict(
        {
            "schema": "linemon.result/1",
            "id": extra.pop("id", f"t{next(_ids)}"),
            "ts": extra.pop("start", T0) + timedelta(minutes=minutes),
            "line": line,
            "station": station,
            "serial": serial,
            "product": product,
            "result": verdict,
            "defects": defects or [],
            **extra,
        }
    )
    assert isinstance(rec, ResultRecord)
    return rec


def state(station: str, st: str, minutes: float, line: str = "SMT1") -> StateRecord:
    rec = record_from_dict(
        {
            "schema": "linemon.state/1",
            "ts": T0 + timedelta(minutes=minutes),
            "line": line,
            "station": station,
            "state": st,
        }
    )
    assert isinstance(rec, StateRecord)
    return rec
