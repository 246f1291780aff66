"""Parsing --from/--to: ISO-8601 instants, or local dates/times in the plant's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


class TimeArgError(ValueError):
    """A --from/--to value that is not a date or time, or an empty window."""


def parse_time(text: str, tz: ZoneInfo, flag: str) -> datetime:
    """'2026-11-21' (local midnight), '2026-11-21T08:30' (local), or with an offset / 'Z'."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise TimeArgError(
            f"{flag}: {text!r} is not a date or time (expected e.g. 2026-11-21 or "
            "2026-11-21T08:30 or 2026-11-21T08:30+09:00)"
        ) from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).astimezone(UTC)


def window(
    frm: str | None, to: str | None, tz: ZoneInfo, now: datetime, default_days: int = 7
) -> tuple[datetime, datetime]:
    end = parse_time(to, tz, "--to") if to else now
    start = parse_time(frm, tz, "--from") if frm else end - timedelta(days=default_days)
    if start >= end:
        raise TimeArgError(f"--from ({start.isoformat()}) must be before --to ({end.isoformat()})")
    return start, end
