"""The embedded store: one SQLite file in WAL mode (DESIGN.md §6).

Readers (the dashboard's threads) and the writer (ingest or import) may run in separate processes;
WAL lets them proceed together. Each thread gets its own connection. The queries are shared with
the PostgreSQL store (`store.sql_store`).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from store.base import StoreError, WriteCounts
from store.sql_dialect import SQLITE, measurements_from_results
from store.sql_rollup import refresh_rollups
from store.sql_schema import AFTER_SCHEMA, MIGRATIONS, SCHEMA, SCHEMA_VERSION
from store.sql_store import Rows, SqlStore, result_row, row_to_result, rows_of

__all__ = ["Rows", "SqliteStore", "result_row", "row_to_result", "rows_of"]


def _cache_kib() -> int:
    """SQLite's page cache per connection: 64 MiB unless $LINEMON_SQLITE_CACHE_MB says otherwise
    (a process's memory grows to this as the store grows, then stays)."""
    try:
        return max(1, int(float(os.environ.get("LINEMON_SQLITE_CACHE_MB", "64")) * 1024))
    except ValueError:
        return 64 * 1024


_RESULT_SQL = "INSERT OR IGNORE INTO results VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_STATE_SQL = "INSERT OR IGNORE INTO states VALUES (NULL,?,?,?,?,?,?,?)"
_MEASUREMENTS_SQL = measurements_from_results(SQLITE)


class LiteConn(sqlite3.Connection):
    """A SQLite connection that says its dialect to the shared queries."""

    dialect = SQLITE


class SqliteStore(SqlStore):
    """SQLite-backed store; see `store.sql_schema` for the roll-ups that keep queries fast."""

    def __init__(self, path: str | Path, url: str | None = None) -> None:
        self.path = str(path)
        self.url = url or f"sqlite:///{path}"
        self._local = threading.local()
        self._conn()  # create the schema now, so errors surface at open time

    def _conn(self) -> LiteConn:
        conn: LiteConn | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, factory=LiteConn)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA temp_store=MEMORY")  # the roll-ups' per-batch key tables
                conn.execute(f"PRAGMA cache_size=-{_cache_kib()}")
                self._migrate(conn)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.url}: cannot open the SQLite store ({exc})") from None
            self._local.conn = conn
        return conn

    @staticmethod
    def _migrate(conn: LiteConn) -> None:
        """Create the schema, or upgrade a store made by an older linemon (versioned steps);
        a store made by a newer one is refused, not misread."""
        steps: list[str] = []
        after: list[str] = []
        row = conn.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone()
        if row:
            v = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            version = int(v[0]) if v else SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"made by a newer linemon (schema version {version}; this one knows up to {SCHEMA_VERSION}): upgrade linemon"
                )
            steps = [sql for k in range(version, SCHEMA_VERSION) for sql in MIGRATIONS[k]]
            after = [sql for k in range(version, SCHEMA_VERSION) for sql in AFTER_SCHEMA.get(k, [])]
        # every statement of SCHEMA is IF NOT EXISTS: tables and indexes added since a store was
        # made appear. IMMEDIATE: take the write lock first (waiting for it), so a writer in
        # another process committing meanwhile cannot fail this transaction (a deferred one would
        # get SQLITE_BUSY when it turns from reading to writing, without waiting)
        upgrade, fill = "".join(f"{sql};" for sql in steps), "".join(f"{sql};" for sql in after)
        conn.executescript(
            f"BEGIN IMMEDIATE; {upgrade} {SCHEMA} {fill} "
            f"INSERT OR REPLACE INTO meta VALUES ('schema', '{SCHEMA_VERSION}'); COMMIT;"
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _tx(self, conn: LiteConn) -> _transaction:
        return _transaction(conn)

    def write_rows(self, rows: Rows) -> WriteCounts:
        """Store rows made by `rows_of` (possibly in another process: the parallel import)."""
        results, states = rows
        conn = self._conn()
        with _transaction(conn):
            stored = 0
            if results:
                since = conn.execute("SELECT coalesce(max(rid), 0) FROM results").fetchone()[0]
                stored = conn.executemany(_RESULT_SQL, results).rowcount
                if stored:
                    conn.execute(_MEASUREMENTS_SQL, {"since": since})
                    refresh_rollups(conn, since)
            stored += conn.executemany(_STATE_SQL, states).rowcount if states else 0
        return WriteCounts(stored, len(results) + len(states) - stored)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (connections run in autocommit mode)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


