"""`linemon dead-letters`: the input linemon could not turn into records, with the reason, so a
plant sees what its equipment sends wrong (the raw bytes shown safely, or written out whole)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from line.config import Plant
from line.rawtext import safe_text
from linemon.timeargs import parse_time
from store.base import DeadLetter


def add_parser(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "dead-letters",
        help="show the input that was rejected (dead letters), newest first, with the reason",
        description="Raw input that could not become a record: when, from which binding, port or "
        "topic, its size, the reason, and the raw bytes (printable characters as they are, others "
        "escaped). Kept for [store] dead_letter_days; a payload past 1 MiB is kept as its start with "
        "its full size and SHA-256.",
    )
    p.add_argument("--source", metavar="BINDING", help="only this binding (or 'mqtt', 'import' ...)")
    p.add_argument("--since", metavar="TIME", help="received at or after (date or time, plant time zone)")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, raw bytes as base64")
    p.add_argument("--raw", metavar="DIR", help="also write each one's raw bytes to DIR/<id>.bin")
    common(p)
    return p


def as_json(d: DeadLetter) -> dict[str, Any]:
    import base64

    return {"id": d.id, "received": d.received.isoformat(), "source": d.source, "location": d.location,
            "reason": d.reason, "size": d.size, "kept": len(d.raw), "sha256": d.sha256,
            "raw_b64": base64.b64encode(d.raw).decode()}  # fmt: skip


def run(args: argparse.Namespace, plant: Plant, letters_of: Callable[..., list[DeadLetter]]) -> int:
    since = parse_time(args.since, plant.tz, "--since") if args.since else None
    if args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    letters = letters_of(args.limit, args.source, since)
    if args.raw:
        out = Path(args.raw)
        out.mkdir(parents=True, exist_ok=True)
        for d in letters:
            (out / f"{d.id}.bin").write_bytes(d.raw)
    if args.json:
        for d in letters:
            print(json.dumps(as_json(d), ensure_ascii=False))
        return 0
    if not letters:
        print("no dead letters" + (f" from {args.source}" if args.source else "") + (f" since {args.since}" if since else ""))
        return 0
    for d in letters:
        size = f"{d.size:,} B" + (f" (first {len(d.raw):,} kept, sha256 {d.sha256[:16]}…)" if d.cut and d.sha256 else "")
        print(f"#{d.id}  {d.received.astimezone(plant.tz):%Y-%m-%d %H:%M:%S}  {d.source}  {d.location or '-'}  {size}")
        print(f"    reason: {d.reason}")
        print(f"    raw:    {safe_text(d.raw)}")
    if args.raw:
        print(f"raw bytes written to {args.raw}/<id>.bin")
    return 0
