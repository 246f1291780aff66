"""The store schema (SQLite's; `pg_schema` makes PostgreSQL's from it): raw records, per-unit summaries and hourly roll-ups.

Why roll-ups: a yield report over 10M records must not scan them. Each write batch updates the
(serial, station) summary `unit_station` of the units it touches and moves their contribution
between hourly buckets of `station_hourly` (keyed by the hour of the unit's FIRST attempt), and
likewise `units` → `product_hourly` (see `store.sql_rollup`). A retest arriving days later thus
updates the final yield of the window the unit belongs to. Hour = UTC epoch ms // 3 600 000;
queries take whole hours from the roll-ups and the partial hours at the window's edges from
`unit_station` / `units` by index.
"""

import re

from store.sql_dialect import SQLITE, measurements_from_results

SCHEMA_VERSION = 4

MEASUREMENTS_TABLE = """CREATE TABLE IF NOT EXISTS measurements (
  rid INTEGER NOT NULL, ts INTEGER NOT NULL, product TEXT NOT NULL, station TEXT NOT NULL, serial TEXT NOT NULL,
  name TEXT NOT NULL, value REAL NOT NULL, unit TEXT, lo REAL, hi REAL,
  inside INTEGER  -- 1 within the record's own limits, 0 outside, NULL: the record gave none
)"""

# what turns a store of version k into version k + 1, run before SCHEMA (whose statements are all
# IF NOT EXISTS, so tables and indexes added since appear by themselves; columns need these)
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "ALTER TABLE dead_letters ADD COLUMN size INTEGER",
        "ALTER TABLE dead_letters ADD COLUMN sha256 TEXT",
        "ALTER TABLE source_health ADD COLUMN recent_stored INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE source_health ADD COLUMN recent_rejected INTEGER NOT NULL DEFAULT 0",
    ],
    2: [],  # measurements get a table of their own (SCHEMA creates it); AFTER_SCHEMA fills it
    3: [],  # daily roll-ups beside the hourly ones (SCHEMA creates them); AFTER_SCHEMA fills them
}

# what runs once SCHEMA has made every table, in the same step: the values a store of version 2
# already holds in its results' detail are copied into the new measurements table
AFTER_SCHEMA: dict[int, list[str]] = {
    2: [measurements_from_results(SQLITE).replace(":since", "0")],
    3: [  # rebuilt whole: derived from the hourly ones, whatever they held before
        "DELETE FROM station_daily",
        "DELETE FROM product_daily",
        "INSERT INTO station_daily SELECT hour / 24, product, station, sum(units), sum(first_pass), "
        "sum(final_pass), sum(attempts), sum(defects), sum(false_calls) FROM station_hourly GROUP BY 1, 2, 3",
        "INSERT INTO product_daily SELECT hour / 24, product, sum(units), sum(final_good), sum(defects) "
        "FROM product_hourly GROUP BY 1, 2",
    ],
}

# the roll-ups, by the hour and by the day of the units' first attempt (store.sql_rollup.BUCKETS)
ROLLUP_TABLES = """
CREATE TABLE IF NOT EXISTS station_{suffix} (
  {col} INTEGER NOT NULL, product TEXT NOT NULL, station TEXT NOT NULL,
  units INTEGER NOT NULL, first_pass INTEGER NOT NULL, final_pass INTEGER NOT NULL,
  attempts INTEGER NOT NULL, defects INTEGER NOT NULL, false_calls INTEGER NOT NULL,
  PRIMARY KEY ({col}, product, station)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS product_{suffix} (
  {col} INTEGER NOT NULL, product TEXT NOT NULL,
  units INTEGER NOT NULL, final_good INTEGER NOT NULL, defects INTEGER NOT NULL,
  PRIMARY KEY ({col}, product)
) WITHOUT ROWID;
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS results (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts INTEGER NOT NULL,
  line TEXT NOT NULL, station TEXT NOT NULL, equipment TEXT,
  serial TEXT NOT NULL, product TEXT NOT NULL, work_order TEXT,
  result TEXT NOT NULL, pass INTEGER NOT NULL,
  defects INTEGER NOT NULL, false_calls INTEGER NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS results_serial ON results(serial, station, ts);
CREATE INDEX IF NOT EXISTS results_wo ON results(work_order) WHERE work_order IS NOT NULL;

CREATE TABLE IF NOT EXISTS defects (
  rid INTEGER NOT NULL, ts INTEGER NOT NULL, product TEXT NOT NULL, station TEXT NOT NULL,
  code TEXT NOT NULL, refdes TEXT, confirmed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS defects_ts ON defects(ts);

CREATE TABLE IF NOT EXISTS states (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts INTEGER NOT NULL,
  line TEXT NOT NULL, station TEXT NOT NULL, equipment TEXT,
  state TEXT NOT NULL, reason TEXT
);
CREATE INDEX IF NOT EXISTS states_station_ts ON states(station, ts);
CREATE INDEX IF NOT EXISTS states_ts ON states(ts);

CREATE TABLE IF NOT EXISTS unit_station (
  serial TEXT NOT NULL, station TEXT NOT NULL, product TEXT NOT NULL, line TEXT NOT NULL,
  first_ts INTEGER NOT NULL, first_pass INTEGER NOT NULL,
  last_ts INTEGER NOT NULL, last_pass INTEGER NOT NULL,
  attempts INTEGER NOT NULL, defects INTEGER NOT NULL, false_calls INTEGER NOT NULL,
  PRIMARY KEY (serial, station)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS unit_station_first ON unit_station(first_ts);

CREATE TABLE IF NOT EXISTS units (
  serial TEXT PRIMARY KEY, product TEXT NOT NULL, first_ts INTEGER NOT NULL,
  failing INTEGER NOT NULL, defects INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS units_first ON units(first_ts);

""" + "".join(ROLLUP_TABLES.format(suffix=suffix, col=col) for suffix, col in (("hourly", "hour"), ("daily", "day"))) + """
CREATE TABLE IF NOT EXISTS unit_registry (
  serial TEXT PRIMARY KEY, product TEXT, work_order TEXT, station TEXT NOT NULL, ts INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS source_health (
  source TEXT PRIMARY KEY, status TEXT NOT NULL, last_message INTEGER,
  received INTEGER NOT NULL, stored INTEGER NOT NULL, rejected INTEGER NOT NULL, errors INTEGER NOT NULL,
  detail TEXT, updated INTEGER NOT NULL,
  recent_stored INTEGER NOT NULL DEFAULT 0, recent_rejected INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS work_orders (
  id TEXT PRIMARY KEY, product TEXT NOT NULL, quantity INTEGER NOT NULL, start INTEGER NOT NULL, due INTEGER
);
CREATE INDEX IF NOT EXISTS work_orders_start ON work_orders(start);

""" + MEASUREMENTS_TABLE + """;
CREATE INDEX IF NOT EXISTS measurements_key ON measurements(station, product, name, ts);
CREATE INDEX IF NOT EXISTS measurements_when ON measurements(station, ts);

CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY, received INTEGER NOT NULL, source TEXT NOT NULL,
  location TEXT, reason TEXT NOT NULL, raw BLOB NOT NULL,
  size INTEGER, sha256 TEXT  -- the raw input's full size, and its hash when only its start is kept
);
CREATE INDEX IF NOT EXISTS dead_letters_received ON dead_letters(received);

"""


PG_FIRST_VERSION = 3  # the first schema PostgreSQL stores had; the steps from there are portable


def pg_ddl(sql: str) -> str:
    """SQLite's DDL for PostgreSQL: 64-bit integers (epoch ms), identity keys, bytea, doubles, and
    text compared byte by byte (COLLATE "C", as SQLite does: serials sort and match the same
    whatever the server's locale)."""
    ddl = sql.replace(" WITHOUT ROWID", "")
    ddl = re.sub(r"\b(rid|id) INTEGER PRIMARY KEY", r"\1 BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", ddl)
    ddl = re.sub(r"\bINTEGER\b", "BIGINT", ddl)
    ddl = re.sub(r"\bREAL\b", "DOUBLE PRECISION", ddl)
    ddl = re.sub(r"\bBLOB\b", "BYTEA", ddl)
    ddl = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', ddl)
    return re.sub(r"--[^\n]*", "", ddl)


def pg_schema() -> list[str]:
    """The same tables for PostgreSQL; work orders get a column for their planning order (SQLite's rowid)."""
    statements = [s.strip() for s in pg_ddl(SCHEMA).split(";") if s.strip()]
    return [*statements, "ALTER TABLE work_orders ADD COLUMN IF NOT EXISTS seq BIGINT GENERATED BY DEFAULT AS IDENTITY"]
