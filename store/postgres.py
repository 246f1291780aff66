"""The store for more than one machine: PostgreSQL through psycopg 3.

Several ingest services (one per line or plant) write to one database and dashboards on other
machines read it. The queries are the SQLite store's (`store.sql_store`); what differs is here:
connections (one per thread, reopened when the server went away), the schema's versioning, and
the write path. A batch is copied into a temporary table and inserted from there; the writers of
results and states take one transaction-level advisory lock, so the roll-ups' read-modify-write
steps of two ingests never interleave (no lost updates) while readers never wait for it.

The password never appears in the store URL (it would show in process lists, logs and the
dashboard): libpq takes it from $PGPASSWORD or ~/.pgpass.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlparse

import psycopg
from psycopg.adapt import Loader

from store.base import StoreError, StoreUnavailable, WriteCounts
from store.sql_dialect import POSTGRES, measurements_from_results
from store.sql_rollup import refresh_rollups
from store.sql_schema import AFTER_SCHEMA, MIGRATIONS, PG_FIRST_VERSION, SCHEMA_VERSION, pg_ddl, pg_schema
from store.sql_store import Rows, SqlStore

WRITE_LOCK = 0x6C696E65  # pg_advisory_xact_lock key of the record writers ("line")
_RESULT_COLS = "id, ts, line, station, equipment, serial, product, work_order, result, pass, defects, false_calls, detail"
_STATE_COLS = "id, ts, line, station, equipment, state, reason"


@functools.cache
def pg_sql(sql: str) -> str:
    """SQLite's placeholders (`?`, `:name`) as psycopg's (`%s`, `%(name)s`)."""
    sql = sql.replace("%", "%%").replace("?", "%s")
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


class _NumberLoader(Loader):
    """PostgreSQL's numeric (what sum() of integers gives) as int when whole, else float, as
    SQLite gives them: tallies stay integers and never become Decimals."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        return int(text) if text.lstrip(b"-").isdigit() else float(text)


@contextmanager
def said(url: str) -> Iterator[None]:
    """A database error as a StoreError naming the store (readers see the URL, not psycopg's class)."""
    try:
        yield
    except psycopg.OperationalError as exc:  # the connection: the server restarting, the network
        raise StoreUnavailable(f"{shown_url(url)}: {_first_line(exc)}") from None
    except psycopg.Error as exc:
        raise StoreError(f"{shown_url(url)}: {_first_line(exc)}") from None


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreUnavailable(f"{shown_url(url)}: cannot open the PostgreSQL store ({_first_line(exc)})") from None
    raw.adapters.register_loader("numeric", _NumberLoader)
    raw.execute("SET jit = off")  # short queries by index: compiling them costs more than it saves
    return raw


class PgConn:
    """A psycopg connection that takes the shared queries' SQLite placeholders. A connection
    the server closed (a restart, a failover) is found out by the next query: outside a write
    transaction that query is tried once more on a new connection, so readers and the health
    rows go on by themselves; a write transaction fails whole and its caller tries again."""

    dialect = POSTGRES

    def __init__(self, raw: psycopg.Connection[Any], url: str) -> None:
        self.raw, self.url = raw, url
        self.in_tx = False
        self.staged: set[str] = set()  # the temporary tables this session has made

    def execute(self, sql: str, params: Any = ()) -> psycopg.Cursor[Any]:
        try:
            with said(self.url):
                return self.raw.execute(pg_sql(sql), params)
        except StoreUnavailable:
            if self.in_tx or not self.raw.broken:
                raise
            self.raw, self.staged = _connect(self.url), set()
            with said(self.url):
                return self.raw.execute(pg_sql(sql), params)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        """The first column of the first row (of a query that always returns one)."""
        row = self.execute(sql, params).fetchone()
        assert row is not None, sql
        return row[0]

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor[Any]:
        with said(self.url):
            cur = self.raw.cursor()
            cur.executemany(pg_sql(sql), rows)
            return cur


def shown_url(url: str) -> str:
    """The URL without a password, for messages."""
    p = urlparse(url)
    return url if p.password is None else url.replace(f":{p.password}@", ":***@", 1)


class PgStore(SqlStore):
    """`postgresql://user@host:5432/db` (password from $PGPASSWORD or ~/.pgpass)."""

    def __init__(self, url: str) -> None:
        if urlparse(url).password is not None:
            raise StoreError(
                f"{shown_url(url)}: a password in the store URL would show in process lists and logs; "
                "give it in $PGPASSWORD or ~/.pgpass instead"
            )
        self.url = url
        self._local = threading.local()
        self._migrated = False
        self._conn()  # connect and create or check the schema now, so errors surface at open time

    def _conn(self) -> PgConn:
        conn: PgConn | None = getattr(self._local, "conn", None)
        if conn is None or conn.raw.closed or conn.raw.broken:
            conn = PgConn(_connect(self.url), self.url)
            if not self._migrated:  # once per store: a thread's or a reconnect's connection needs none
                with said(self.url):
                    self._migrate(conn)
                self._migrated = True
            self._local.conn = conn
        return conn

    def _migrate(self, conn: PgConn) -> None:
        """Create the schema, or upgrade one made by an older linemon (versioned steps); one made
        by a newer linemon is refused, not misread. Under the writers' lock: two services
        starting together do not both create it."""
        with self._tx(conn):
            has_meta = conn.scalar("SELECT to_regclass('meta') IS NOT NULL")
            version = SCHEMA_VERSION
            if has_meta:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                version = int(row[0]) if row else SCHEMA_VERSION
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.url}: made by a newer linemon (schema version {version}; this one knows up to "
                    f"{SCHEMA_VERSION}): upgrade linemon"
                )
            if version < PG_FIRST_VERSION:
                raise StoreError(f"{self.url}: schema version {version} was never a PostgreSQL store's")
            steps = range(version, SCHEMA_VERSION)  # the same versioned steps as SQLite's, portable SQL
            for sql in (pg_ddl(sql) for k in steps for sql in MIGRATIONS[k]):
                conn.raw.execute(sql)
            for sql in pg_schema():
                conn.raw.execute(sql)  # DDL: no placeholders to translate
            for sql in (sql for k in steps for sql in AFTER_SCHEMA.get(k, [])):
                conn.raw.execute(sql)
            conn.execute(
                "INSERT INTO meta VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        conn: PgConn | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.raw.close()
            self._local.conn = None

    def _tx(self, conn: PgConn) -> AbstractContextManager[None]:
        return _locked(conn)

    def write_rows(self, rows: Rows) -> WriteCounts:
        """Store rows made by `rows_of`: copied into a temporary table, then inserted in their
        order except those whose id is stored (or repeated in the batch)."""
        results, states = rows
        conn = self._conn()
        stored = 0
        try:
            with self._tx(conn):
                if results:
                    since = conn.scalar("SELECT coalesce(max(rid), 0) FROM results")
                    stored = _insert_new(conn, "results", _RESULT_COLS, results)
                    if stored:
                        conn.execute(measurements_from_results(POSTGRES), {"since": since})
                        refresh_rollups(conn, since)
                if states:
                    stored += _insert_new(conn, "states", _STATE_COLS, states)
        except BaseException:
            conn.staged.clear()  # a temporary table made in a rolled-back transaction is gone too
            raise
        return WriteCounts(stored, len(results) + len(states) - stored)

    def result_count(self) -> int:
        # identity values are not dense in PostgreSQL (a rolled-back batch uses some): count
        return int(self._conn().scalar("SELECT count(*) FROM results"))


@contextmanager
def _locked(conn: PgConn) -> Iterator[None]:
    """A transaction holding the writers' advisory lock (released at its end)."""
    conn.execute("SELECT 1")  # a connection the server closed is replaced here, before the transaction
    conn.in_tx = True
    try:
        with said(conn.url), conn.raw.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            yield
    finally:
        conn.in_tx = False


def _insert_new(conn: PgConn, table: str, cols: str, rows: list[tuple[Any, ...]]) -> int:
    """COPY `rows` into a temporary table and insert those whose id is new; how many were."""
    stage = f"{table}_in"
    if stage not in conn.staged:  # once per session: the table's columns, as the catalog has them
        types = conn.scalar(
            "SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) "
            "FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 1 AND NOT attisdropped",
            (table,),
        )
        conn.raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (n BIGINT, {types}) ON COMMIT DELETE ROWS")
        conn.staged.add(stage)
    with conn.raw.cursor().copy(f"COPY {stage} (n, {cols}) FROM STDIN") as copy:
        for i, row in enumerate(rows):
            copy.write_row((i, *row))
    cur = conn.raw.execute(
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM (SELECT DISTINCT ON (id) * FROM {stage} ORDER BY id, n) s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.id) ORDER BY s.n ON CONFLICT (id) DO NOTHING"
    )
    return cur.rowcount


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
