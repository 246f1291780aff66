"""Rejected data in view and bounded: `linemon dead-letters`, the per-row cap with size and hash,
the retention, and the store's versioned upgrade that added them (real SQLite files)."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store.base import StoreError, open_store
from store.sql_dead import ROW_CAP
from store.sql_schema import SCHEMA_VERSION
from store.sqlite import SqliteStore
from tests.conftest import PLANT_FILE
from tests.test_cli import linemon

BIG = b"\x1b[2J" + b"A" * (20 * 1024 * 1024)  # 20 MB, starting with a terminal escape


def test_a_big_payload_is_kept_as_its_start_with_its_size_and_hash(store: SqliteStore) -> None:
    store.dead_letter_many([(BIG, "spi-mqtt", "not JSON: unexpected character", "linemon/x"),
                            (b"short\r\n", "fct-jig-1", "field 'result': MAYBE", "/dev/ttyUSB0")])  # fmt: skip
    short, big = store.dead_letters()
    assert (big.size, len(big.raw), big.sha256) == (len(BIG), ROW_CAP, hashlib.sha256(BIG).hexdigest())
    assert big.raw == BIG[:ROW_CAP] and big.cut
    assert (short.raw, short.size, short.sha256, short.cut) == (b"short\r\n", 7, None, False)
    assert store.dead_letter_counts() == [("fct-jig-1", "field 'result'", 1), ("spi-mqtt", "not JSON", 1)]
    assert [d.source for d in store.dead_letters(source="spi-mqtt")] == ["spi-mqtt"]


def test_dead_letters_older_than_the_retention_go(store: SqliteStore) -> None:
    store.dead_letter_many([(b"x", "a", "r", None)])
    assert store.purge_dead_letters(datetime.now(UTC) - timedelta(days=30)) == 0
    assert store.purge_dead_letters(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert store.dead_letters() == []


def test_the_dead_letters_command(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    s = SqliteStore(db)
    s.dead_letter_many([(BIG, "spi-mqtt", "not JSON: unexpected character", "linemon/x"),
                        (b"FCT-01;X;FF-50;MAYBE\r\n", "fct-jig-1", "field 'result': MAYBE is no verdict", "/dev/ttyUSB0")])  # fmt: skip
    s.close()
    args = ("--store", f"sqlite:///{db}", "--config", str(PLANT_FILE))
    out = linemon("dead-letters", *args)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "fct-jig-1  /dev/ttyUSB0  22 B" in text and "reason: field 'result': MAYBE is no verdict" in text
    assert "raw:    FCT-01;X;FF-50;MAYBE\\r\\n" in text  # control characters escaped, not sent to the terminal
    assert f"{len(BIG):,} B (first {ROW_CAP:,} kept, sha256 {hashlib.sha256(BIG).hexdigest()[:16]}…)" in text
    assert "raw:    \\x1b[2JAAAA" in text and "\x1b" not in text
    one = linemon("dead-letters", "--source", "spi-mqtt", "--json", "--raw", str(tmp_path / "raw"), *args)
    (row,) = [json.loads(line) for line in one.stdout.splitlines()]
    assert (row["source"], row["size"], row["kept"]) == ("spi-mqtt", len(BIG), ROW_CAP)
    assert base64.b64decode(row["raw_b64"]) == BIG[:ROW_CAP]
    assert (tmp_path / "raw" / f"{row['id']}.bin").read_bytes() == BIG[:ROW_CAP]
    later = linemon("dead-letters", "--since", "2999-01-01", *args)
    assert later.returncode == 0 and later.stdout.strip() == "no dead letters since 2999-01-01"
    bad = linemon("dead-letters", "--since", "yesterday", *args)
    assert bad.returncode == 2 and "--since: 'yesterday' is not a date or time" in bad.stderr


def test_a_store_of_the_previous_schema_is_upgraded_and_a_newer_one_refused(tmp_path: Path) -> None:
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as c:  # the version-1 tables this upgrade touches
        c.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, received INTEGER NOT NULL, source TEXT NOT NULL,"
            " location TEXT, reason TEXT NOT NULL, raw BLOB NOT NULL);"
            "INSERT INTO dead_letters VALUES (NULL, 1764000000000, 'spi-mqtt', 't', 'not JSON', x'7b');"
            "CREATE TABLE source_health (source TEXT PRIMARY KEY, status TEXT NOT NULL, last_message INTEGER,"
            " received INTEGER NOT NULL, stored INTEGER NOT NULL, rejected INTEGER NOT NULL, errors INTEGER NOT NULL,"
            " detail TEXT, updated INTEGER NOT NULL) WITHOUT ROWID;"
        )
    s = SqliteStore(old)
    (d,) = s.dead_letters()
    assert (d.raw, d.size, d.reason) == (b"{", 1, "not JSON")  # kept through the upgrade
    s.dead_letter_many([(b"x" * 10, "a", "r", None)])
    assert s.dead_letters(limit=1)[0].size == 10
    s.close()
    with sqlite3.connect(old) as c:
        assert c.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == (str(SCHEMA_VERSION),)
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreError, match=rf"made by a newer linemon \(schema version 99; this one knows up to {SCHEMA_VERSION}\)"):
        open_store(f"sqlite:///{old}")


def test_a_postgresql_store_of_a_newer_linemon_is_refused_and_its_url_keeps_no_password(pg_url: str) -> None:
    import psycopg

    open_store(pg_url).close()  # creates the schema
    with psycopg.connect(pg_url, autocommit=True) as c:
        assert c.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA_VERSION),)
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreError, match=rf"made by a newer linemon \(schema version 99; this one knows up to {SCHEMA_VERSION}\)"):
        open_store(pg_url)
    with pytest.raises(StoreError, match=r":\*\*\*@.*PGPASSWORD or ~/.pgpass") as err:
        open_store(pg_url.replace("linemon@", "linemon:hunter2@"))
    assert "hunter2" not in str(err.value)


def test_a_sources_recent_counts_stay_small_however_busy_the_stream() -> None:
    """10,000 commits within seconds: the window's counts are exact and held in a few buckets,
    not one entry per commit (a busy stream commits hundreds of chunks a second)."""
    from drivers.ingest import Health

    h = Health("spi-mqtt", window_min=15)
    for _ in range(10_000):
        h.counted(3, 1)
    snap = h.snapshot()
    assert (snap.recent_stored, snap.recent_rejected) == (30_000, 10_000)
    assert len(h._recent) <= 2
