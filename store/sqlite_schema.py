"""SQLite schema: raw records, per-unit summaries and hourly roll-ups.

Why roll-ups: a yield report over 10M records must not scan them. Each write batch updates the
(serial, station) summary `unit_station` of the units it touches and moves their contribution
between hourly buckets of `station_hourly` (keyed by the hour of the unit's FIRST attempt), and
likewise `units` → `product_hourly` (see `store.sqlite_rollup`). A retest arriving days later thus
updates the final yield of the window the unit belongs to. Hour = UTC epoch ms // 3 600 000;
queries take whole hours from the roll-ups and the partial hours at the window's edges from
`unit_station` / `units` by index.
"""

SCHEMA_VERSION = 3

MEASUREMENTS_TABLE = """CREATE TABLE IF NOT EXISTS measurements (
  rid INTEGER NOT NULL, ts INTEGER NOT NULL, product TEXT NOT NULL, station TEXT NOT NULL, serial TEXT NOT NULL,
  name TEXT NOT NULL, value REAL NOT NULL, unit TEXT, lo REAL, hi REAL,
  inside INTEGER  -- 1 within the record's own limits, 0 outside, NULL: the record gave none
)"""

# every measurement of the results stored after rid ?, from their detail (SQLite's JSON functions:
# no row leaves the database to be parsed)
MEASUREMENTS_FROM_RESULTS = """INSERT INTO measurements
SELECT r.rid, r.ts, r.product, r.station, r.serial, json_extract(m.value, '$.name'),
       json_extract(m.value, '$.value'), json_extract(m.value, '$.unit'),
       json_extract(m.value, '$.lo'), json_extract(m.value, '$.hi'),
       CASE WHEN json_extract(m.value, '$.lo') IS NULL AND json_extract(m.value, '$.hi') IS NULL THEN NULL
            WHEN json_extract(m.value, '$.value') < coalesce(json_extract(m.value, '$.lo'), -1e308)
              OR json_extract(m.value, '$.value') > coalesce(json_extract(m.value, '$.hi'), 1e308) THEN 0
            ELSE 1 END
FROM results r, json_each(r.detail, '$.measurements') m
WHERE r.rid > ? AND r.detail IS NOT NULL"""

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
}

# what runs once SCHEMA has made every table, in the same step: the values a store of version 2
# already holds in its results' detail are copied into the new measurements table
AFTER_SCHEMA: dict[int, list[str]] = {2: [MEASUREMENTS_FROM_RESULTS.replace("?", "0")]}

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

CREATE TABLE IF NOT EXISTS station_hourly (
  hour INTEGER NOT NULL, product TEXT NOT NULL, station TEXT NOT NULL,
  units INTEGER NOT NULL, first_pass INTEGER NOT NULL, final_pass INTEGER NOT NULL,
  attempts INTEGER NOT NULL, defects INTEGER NOT NULL, false_calls INTEGER NOT NULL,
  PRIMARY KEY (hour, product, station)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS product_hourly (
  hour INTEGER NOT NULL, product TEXT NOT NULL,
  units INTEGER NOT NULL, final_good INTEGER NOT NULL, defects INTEGER NOT NULL,
  PRIMARY KEY (hour, product)
) WITHOUT ROWID;

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
