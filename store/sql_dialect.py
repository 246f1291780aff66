"""What SQLite and PostgreSQL spell differently: the few pieces of SQL the shared queries
(`store.sql_*`) take from their connection's dialect. Everything else is written once, in SQL
both accept (upserts with qualified columns, CASE instead of summed booleans, NULLS FIRST).

Placeholders are SQLite's (`?` and `:name`); the PostgreSQL connection translates them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    join: str  # SQLite's CROSS JOIN keeps the batch's few keys as the outer loop; PostgreSQL plans it
    greatest: str  # the larger of two values
    reason_head: str  # a dead letter's reason up to its first colon
    plan_order: str  # the column that keeps work orders in the order they were planned
    table_suffix: str  # for key-ordered tables (SQLite: WITHOUT ROWID)
    text: str  # the type of text columns: compared byte by byte in both
    analyze: str  # "ANALYZE {table}" where a just-filled temporary table needs statistics
    refresh_statistics: str  # after a bulk load
    # the JSON of results.detail, as templates of {key}: the elements of an array as table `j`
    # (column `value`), and a number, a text and a boolean (as 0/1) of an element
    each_tpl: str
    num_tpl: str
    txt_tpl: str
    flag_tpl: str

    def each(self, key: str) -> str:
        return self.each_tpl.format(key=key)

    def num(self, key: str) -> str:
        return self.num_tpl.format(key=key)

    def txt(self, key: str) -> str:
        return self.txt_tpl.format(key=key)

    def flag(self, key: str) -> str:
        return self.flag_tpl.format(key=key)


SQLITE = Dialect(
    name="sqlite",
    join="CROSS JOIN",
    greatest="max",
    reason_head="CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END",
    plan_order="rowid",
    table_suffix=" WITHOUT ROWID",
    text="TEXT",
    refresh_statistics="PRAGMA optimize",
    analyze="",  # SQLite's planner takes the batch's keys as the outer loop (CROSS JOIN)
    each_tpl="json_each(r.detail, '$.{key}') j",
    num_tpl="json_extract(j.value, '$.{key}')",
    txt_tpl="json_extract(j.value, '$.{key}')",
    flag_tpl="json_extract(j.value, '$.{key}')",  # JSON true is 1 in SQLite
)

POSTGRES = Dialect(
    name="postgresql",
    join="JOIN",
    greatest="greatest",
    reason_head="split_part(reason, ':', 1)",
    plan_order="seq",
    table_suffix="",
    text='TEXT COLLATE "C"',
    # without statistics PostgreSQL takes the batch's keys for many and joins them to every
    # stored result by a full scan: each batch then costs a scan of the whole table
    analyze="ANALYZE {table}",
    refresh_statistics="ANALYZE",
    each_tpl="jsonb_array_elements(r.detail::jsonb -> '{key}') j",
    num_tpl="(j.value ->> '{key}')::double precision",
    txt_tpl="(j.value ->> '{key}')",
    flag_tpl="(j.value ->> '{key}')::boolean::int",
)


def defects_from_results(d: Dialect) -> str:
    """Every defect of the results stored after rid :since (read from their detail in the database)."""
    return (
        f"INSERT INTO defects SELECT r.rid, r.ts, r.product, r.station, {d.txt('code')}, {d.txt('refdes')}, "
        f"{d.flag('confirmed')} FROM results r, {d.each('defects')} WHERE r.rid > :since AND r.detail IS NOT NULL"
    )


def measurements_from_results(d: Dialect) -> str:
    """Every measurement of the results stored after rid :since, with its verdict against its own
    limits (NULL: it gave none). No row leaves the database to be parsed."""
    value, lo, hi = d.num("value"), d.num("lo"), d.num("hi")
    return f"""INSERT INTO measurements
SELECT r.rid, r.ts, r.product, r.station, r.serial, {d.txt('name')}, {value}, {d.txt('unit')}, {lo}, {hi},
       CASE WHEN {lo} IS NULL AND {hi} IS NULL THEN NULL
            WHEN {value} < coalesce({lo}, -1e308) OR {value} > coalesce({hi}, 1e308) THEN 0
            ELSE 1 END
FROM results r, {d.each('measurements')}
WHERE r.rid > :since AND r.detail IS NOT NULL"""
