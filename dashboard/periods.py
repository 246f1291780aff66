"""Period choices shared by the pages: local (plant time zone) days, rolling windows, custom."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from line.calendar import local_day_bounds


def period_bounds(
    period: str, today: date, tz: object, custom: tuple[str | None, str | None], now: datetime
) -> tuple[datetime, datetime]:
    """The UTC window of a period choice; days are local (plant time zone) midnight to midnight."""
    if period == "today":
        return local_day_bounds(tz, today)  # type: ignore[arg-type]
    if period == "yesterday":
        return local_day_bounds(tz, today - timedelta(days=1))  # type: ignore[arg-type]
    if period == "custom" and custom[0] and custom[1]:
        a = local_day_bounds(tz, date.fromisoformat(custom[0][:10]))[0]  # type: ignore[arg-type]
        b = local_day_bounds(tz, date.fromisoformat(custom[1][:10]))[1]  # type: ignore[arg-type]
        return a, b
    days = 30 if period == "30d" else 7
    return now - timedelta(days=days), now
