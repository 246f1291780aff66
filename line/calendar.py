"""The shift calendar: which time is scheduled, and which shift a moment belongs to.

Time outside shifts (and breaks, and holidays) is "not scheduled", never downtime: OEE's
availability and the andon's alarms only count scheduled time. All inputs and outputs are
timezone-aware datetimes; the calendar is defined in the plant's local time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from line.config_model import Calendar, Shift

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class ShiftInstance:
    """One occurrence of a shift: `date` is the local date it starts on."""

    name: str
    date: date
    start: datetime  # UTC
    end: datetime  # UTC
    breaks: tuple[Interval, ...]

    @property
    def label(self) -> str:
        return f"{self.date.isoformat()} {self.name}"

    def on_break(self, ts: datetime) -> bool:
        """Whether `ts` falls in one of the shift's breaks (the andon shows "not scheduled" then)."""
        return any(a <= ts < b for a, b in self.breaks)

    def scheduled(self) -> list[Interval]:
        """The shift minus its breaks, as UTC intervals."""
        out, cur = [], self.start
        for b0, b1 in sorted(self.breaks):
            if b0 > cur:
                out.append((cur, b0))
            cur = max(cur, b1)
        if cur < self.end:
            out.append((cur, self.end))
        return out


def _clock(hhmm: str) -> time:
    return time(int(hhmm[:2]), int(hhmm[3:]))


def _at(day: date, hhmm: str, tz: ZoneInfo, not_before: datetime | None = None) -> datetime:
    """Local wall time on `day` (or the next day if that would fall before `not_before`), in UTC."""
    t = datetime.combine(day, _clock(hhmm), tzinfo=tz)
    if not_before is not None and t < not_before:
        t = datetime.combine(day + timedelta(days=1), _clock(hhmm), tzinfo=tz)
    return t.astimezone(UTC)


def _instance(sh: Shift, day: date, tz: ZoneInfo) -> ShiftInstance:
    start = _at(day, sh.start, tz)
    end = _at(day, sh.end, tz, not_before=start + timedelta(minutes=1))
    breaks = []
    for br in sh.breaks:
        b0 = _at(day, br.start, tz, not_before=start)
        b1 = _at(day, br.end, tz, not_before=b0 + timedelta(minutes=1))
        breaks.append((b0, b1))
    return ShiftInstance(sh.name, day, start, end, tuple(breaks))


def shifts_between(cal: Calendar, tz: ZoneInfo, start: datetime, end: datetime) -> list[ShiftInstance]:
    """Every shift occurrence overlapping [start, end), in time order."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    holidays = set(cal.holidays)
    out = []
    day = first
    while day <= last:
        if day not in holidays:
            for sh in cal.shifts:
                if _WEEKDAYS[day.weekday()] in sh.days:
                    inst = _instance(sh, day, tz)
                    if inst.start < end and inst.end > start:
                        out.append(inst)
        day += timedelta(days=1)
    return sorted(out, key=lambda s: s.start)


def scheduled_intervals(cal: Calendar, tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """Scheduled (worked) time within [start, end), breaks removed, as merged UTC intervals."""
    pieces = [
        (max(a, start), min(b, end))
        for inst in shifts_between(cal, tz, start, end)
        for a, b in inst.scheduled()
        if a < end and b > start
    ]
    return merge(pieces)


def merge(intervals: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif a < b:
            out.append((a, b))
    return out


def overlap_seconds(a: list[Interval], b: list[Interval]) -> float:
    """Total length of the intersection of two lists of merged intervals."""
    total, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            total += (hi - lo).total_seconds()
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def shift_at(cal: Calendar, tz: ZoneInfo, ts: datetime) -> ShiftInstance | None:
    """The shift occurrence `ts` falls in (breaks included), or None when nothing is scheduled."""
    for inst in shifts_between(cal, tz, ts - timedelta(days=1), ts + timedelta(seconds=1)):
        if inst.start <= ts < inst.end:
            return inst
    return None


def previous_shift(cal: Calendar, tz: ZoneInfo, ts: datetime) -> ShiftInstance | None:
    """The last shift occurrence that ended at or before `ts` (within the week before it)."""
    ended = [i for i in shifts_between(cal, tz, ts - timedelta(days=8), ts) if i.end <= ts]
    return max(ended, key=lambda i: i.end) if ended else None


def local_day_bounds(tz: ZoneInfo, day: date) -> Interval:
    """Local midnight to midnight of `day`, as UTC."""
    a = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    b = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return a, b


def buckets(
    cal: Calendar, tz: ZoneInfo, start: datetime, end: datetime, kind: str
) -> list[tuple[str, Interval]]:
    """[start, end) cut into labelled periods for trends: each shift occurrence ("shift"), local
    day ("day") or ISO week from local Monday ("week"), clipped to the window; empty ones kept
    out only for shifts (a shift is the unit of work, a day or week without work is a zero)."""
    if kind == "shift":
        return [
            (inst.label, (max(inst.start, start), min(inst.end, end)))
            for inst in shifts_between(cal, tz, start, end)
        ]
    if kind not in ("day", "week"):
        raise ValueError(f"unknown trend period {kind!r} (expected shift, day or week)")
    day = start.astimezone(tz).date()
    if kind == "week":
        day -= timedelta(days=day.weekday())
    step = timedelta(days=7 if kind == "week" else 1)
    out: list[tuple[str, Interval]] = []
    while True:
        a = local_day_bounds(tz, day)[0]
        if a >= end:
            return out
        b = local_day_bounds(tz, day + step - timedelta(days=1))[1]
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}" if kind == "week" else day.isoformat()
        out.append((label, (max(a, start), min(b, end))))
        day += step


def next_week_start(cal: Calendar, tz: ZoneInfo, now: datetime) -> datetime:
    """The first worked moment of the week after `now`, plant-local (a product mix is tried on
    a fresh week, as a release would); next Monday's midnight if nothing is worked for two weeks."""
    today = now.astimezone(tz).date()
    monday = local_day_bounds(tz, today + timedelta(days=7 - today.weekday()))[0]
    worked = scheduled_intervals(cal, tz, monday, monday + timedelta(days=14))
    return (worked[0][0] if worked else monday).astimezone(tz)


def week_start(cal: Calendar, tz: ZoneInfo, t: datetime) -> datetime:
    """The first worked moment of the plant week holding `t` (its Monday's first shift, as
    `next_week_start` finds it), or `t` itself when that is later (a Monday before work starts)."""
    return min(t, next_week_start(cal, tz, t - timedelta(days=7)))
