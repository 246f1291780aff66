"""Shared fixtures: the reference plant, real stores (an SQLite file in tmp_path and a database on
a private PostgreSQL server), record builders."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from line.config import Plant, load_plant
from line.records import ResultRecord, StateRecord, record_from_dict
from linemon.pgserver import PgServer
from store.base import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
PLANT_FILE = ROOT / "config" / "jincheon.toml"
T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday 09:00 in Seoul
_ids = itertools.count()
_dbs = itertools.count()


@pytest.fixture(scope="session")
def plant() -> Plant:
    return load_plant(PLANT_FILE)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A private PostgreSQL server for the session (in a folder under /tmp that its `postgres`
    user can reach when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="linemon-pg-"))
    server = PgServer(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A new, empty database on the session's server."""
    import psycopg

    name = f"t{next(_dbs)}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg_server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on an SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/linemon.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
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
