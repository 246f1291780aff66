"""Period choices shared by the pages: local (plant time zone) days, rolling windows, custom."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from line.calendar import ShiftInstance, local_day_bounds, previous_shift, shift_at
from line.config import Plant


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


def shift_label(plant: Plant, inst: ShiftInstance, lang: str = "en") -> str:
    """A shift as its reader calls it: "2026-12-04 day", "2026-12-04 주간"."""
    return f"{inst.date.isoformat()} {plant.name_of('shift', inst.name, lang)}"


def page_window(
    period: str, plant: Plant, custom: tuple[str | None, str | None], now: datetime, lang: str = "en"
) -> tuple[datetime, datetime, str | None]:
    """The UTC window of a period choice, the shift choices included, and the shift it covers
    ("2026-12-03 day") for a shift choice: "shift" is the current shift up to now (the andon's
    window; the last one when none runs now), "prev_shift" the one before it."""
    if period in ("shift", "prev_shift"):
        cal, tz = plant.spec.calendar, plant.tz
        inst = shift_at(cal, tz, now) or previous_shift(cal, tz, now)
        if inst is not None and period == "prev_shift":
            inst = previous_shift(cal, tz, inst.start)
        if inst is None:
            return now, now, None
        return inst.start, min(inst.end, now), shift_label(plant, inst, lang)
    a, b = period_bounds(period, now.astimezone(plant.tz).date(), plant.tz, custom, now)
    return a, b, None


BASELINE_DAYS = {"7d": 28, "30d": 30}  # the QA page's baseline length before each judged period


def judged_window(period: str, plant: Plant, now: datetime) -> tuple[datetime, datetime]:
    """The QA page's judged period: the last 7 or 30 days up to now."""
    return period_bounds(period, now.astimezone(plant.tz).date(), plant.tz, (None, None), now)


def baseline_window(judged_start: datetime, period: str) -> tuple[datetime, datetime]:
    """The baseline (Phase I) period: the days just before the judged period, so no judged
    point is part of the limits that judge it."""
    return judged_start - timedelta(days=BASELINE_DAYS.get(period, 28)), judged_start
