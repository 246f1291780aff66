"""Dead letters (SQLite and PostgreSQL): raw input that could not become a record, kept with its reason, capped
per row, and kept for a bounded time (`[store] dead_letter_days`).

A payload larger than the row cap is kept as its first part with its full size and SHA-256, so a
20 MB message neither bloats the store nor vanishes: the equipment's engineer can still match it
to what was sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from line.records import from_ms, ts_ms
from store.base import DeadLetter

ROW_CAP = 1 << 20  # bytes of raw input kept per dead letter


def insert(conn: Any, rows: Iterable[tuple[bytes, str, str, str | None]], now_ms: int) -> None:
    """(raw, source, reason, location) rows; raw past the cap is cut, its size and hash kept."""
    conn.executemany(
        "INSERT INTO dead_letters (received, source, location, reason, raw, size, sha256) VALUES (?,?,?,?,?,?,?)",
        [(now_ms, src, loc, reason, raw[:ROW_CAP], len(raw), hashlib.sha256(raw).hexdigest() if len(raw) > ROW_CAP else None)
         for raw, src, reason, loc in rows],
    )  # fmt: skip


def select(
    conn: Any, limit: int, source: str | None = None, since: datetime | None = None
) -> list[DeadLetter]:
    """The newest dead letters first, of one source and since a time when given."""
    where: list[str] = ["true"]
    args: list[object] = []
    if source is not None:
        where.append("source = ?")
        args.append(source)
    if since is not None:
        where.append("received >= ?")
        args.append(ts_ms(since))
    rows = conn.execute(
        "SELECT id, received, source, location, reason, raw, size, sha256 FROM dead_letters "
        f"WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*args, limit),
    )
    return [
        DeadLetter(from_ms(r[1]), r[2], r[3], r[4], bytes(r[5]), id=r[0], size=r[6] if r[6] is not None else len(r[5]), sha256=r[7])
        for r in rows
    ]  # fmt: skip


def counts(conn: Any, since: datetime | None = None) -> list[tuple[str, str, int]]:
    """(source, reason up to its first colon, count) since a time, the most frequent first."""
    rows = conn.execute(
        f"SELECT source, {conn.dialect.reason_head}, count(*) FROM dead_letters WHERE received >= ? GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        (ts_ms(since) if since else 0,),
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


def purge(conn: Any, before: datetime) -> int:
    """Forget dead letters received before `before`; how many went."""
    return conn.execute("DELETE FROM dead_letters WHERE received < ?", (ts_ms(before),)).rowcount
