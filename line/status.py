"""Live station status for the andon: what each station is doing now, since when, and alarms.

Each equipment's latest SEMI E10 state (with its CFX/linemon sub-state) becomes a display state
a supervisor reads at a glance; a station shows the most urgent state of its equipment (one of
four jigs down makes the station "down"). Time in state comes from replaying the changes, so a
station whose jigs take turns being busy is "running" since the first of them started.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from line.calendar import merge, scheduled_intervals
from line.config import Plant
from line.i18n import N_
from line.records import StateChange, StateRecord

StateLike = StateRecord | StateChange  # a record as it arrives, or as the store gives it back

# most urgent first: the station shows the first one any of its equipment is in
PRIORITY = (
    "down",
    "setup",
    "planned_down",
    "running",
    "blocked",
    "starved",
    "idle",
    "engineering",
    "not_scheduled",
    "unknown",
)
LABELS = {  # what the andon says for each display state (translated by the dashboard)
    "running": N_("Running"), "starved": N_("Starved"), "blocked": N_("Blocked"), "idle": N_("Standby"),
    "setup": N_("Setup"), "planned_down": N_("Planned stop"), "down": N_("DOWN"), "engineering": N_("Engineering"),
    "not_scheduled": N_("Not scheduled"), "unknown": N_("No data"),
}  # fmt: skip
# one colour per state, so the Gantt legend tells them apart (blocked and starved as on the
# simulation page's time split); waiting states are warm, stops blue, trouble red
COLOURS = {
    "running": "#2ca02c", "starved": "#ffbf00", "blocked": "#ff7f0e", "idle": "#ffe680", "setup": "#1f77b4",
    "planned_down": "#127a8a", "down": "#d62728", "engineering": "#9467bd", "not_scheduled": "#7f7f7f",
    "unknown": "#c7c7c7",
}  # fmt: skip


def display_state(state: str, reason: str | None) -> str:
    r = (reason or "").lower()
    if state == "PRD":
        return "running"
    if state == "UDT":
        return "down"
    if state == "SDT":
        return "setup" if "setup" in r or r == "4500" else "planned_down"
    if state == "SBY":
        if "block" in r or r == "2201":
            return "blocked"
        if "starv" in r or "noproduct" in r or r in ("2202", "2200"):
            return "starved"
        return "idle"
    if state == "ENG":
        return "engineering"
    return "not_scheduled"


@dataclass(frozen=True)
class StationStatus:
    station: str
    display: str
    since: datetime | None
    equipment: Mapping[str, str]  # equipment id -> display state


def _aggregate(states: Iterable[str]) -> str:
    present = set(states)
    return next((p for p in PRIORITY if p in present), "unknown")


def station_status(changes: Sequence[StateLike], stations: Sequence[str]) -> dict[str, StationStatus]:
    """The status of every station from its state records (in time order)."""
    per_eq: dict[str, dict[str, str]] = {s: {} for s in stations}
    current: dict[str, str] = dict.fromkeys(stations, "unknown")
    since: dict[str, datetime | None] = dict.fromkeys(stations)
    for rec in changes:
        if rec.station not in per_eq:
            continue
        per_eq[rec.station][rec.equipment or rec.station] = display_state(rec.state, rec.reason)
        agg = _aggregate(per_eq[rec.station].values())
        if agg != current[rec.station]:
            current[rec.station], since[rec.station] = agg, rec.ts
    return {s: StationStatus(s, current[s], since[s], dict(per_eq[s])) for s in stations}


# states of equipment that waits: outside scheduled time these are "not scheduled". Equipment
# idle overnight rarely reports the end of a shift; the shift calendar knows it.
WAITING = frozenset({"starved", "blocked", "idle", "unknown"})
OFF_SHIFT = "outside the shift calendar"


def status_on_shift(
    status: Mapping[str, StationStatus], now: datetime, scheduled: Sequence[tuple[datetime, datetime]]
) -> dict[str, StationStatus]:
    """The andon's view with the calendar applied (`scheduled`: merged intervals up to `now`): a
    waiting station is "not scheduled" outside worked time, and inside it waits since the worked
    time began at the latest (not "starved for 60 h" on a Monday morning)."""
    current = next(((a, b) for a, b in scheduled if a <= now < b), None)
    ended = max((b for _, b in scheduled if b <= now), default=None)
    out = {}
    for sid, st in status.items():
        if st.display not in WAITING:
            out[sid] = st
        elif current is None:
            since = ended if st.since is None or ended is None else max(st.since, ended)
            out[sid] = replace(st, display="not_scheduled", since=since)
        else:
            out[sid] = replace(st, since=current[0] if st.since is None else max(st.since, current[0]))
    return out


def andon_status(changes: Sequence[StateLike], plant: Plant, now: datetime) -> dict[str, StationStatus]:
    """What the andon shows at `now`: each station's state from its changes, with the plant's
    shift calendar applied (the week before `now` covers the longest weekend)."""
    worked = merge(
        scheduled_intervals(plant.spec.calendar, plant.tz, now - timedelta(days=7), now + timedelta(days=1))
    )
    return status_on_shift(station_status(changes, plant.station_order), now, worked)


def down_too_long(
    status: Mapping[str, StationStatus], now: datetime, limit_min: Mapping[str, float]
) -> list[tuple[str, float]]:
    """Stations down longer than their limit: (station, minutes down)."""
    out = []
    for sid, st in status.items():
        if st.display == "down" and st.since is not None:
            minutes = (now - st.since).total_seconds() / 60
            if minutes >= limit_min[sid]:
                out.append((sid, minutes))
    return out


@dataclass(frozen=True)
class Segment:
    station: str
    equipment: str
    display: str
    reason: str | None
    start: datetime
    end: datetime


def segments(changes: Sequence[StateLike], start: datetime, end: datetime) -> list[Segment]:
    """Each equipment's states as time segments clipped to [start, end); a state lasts until the
    equipment's next record (the last one until `end`)."""
    by_eq: dict[tuple[str, str], list[StateLike]] = {}
    for rec in sorted(changes, key=lambda r: r.ts):
        by_eq.setdefault((rec.station, rec.equipment or rec.station), []).append(rec)
    out = []
    for (sid, eq), recs in by_eq.items():
        for rec, nxt in zip(recs, [*recs[1:], None], strict=True):
            a, b = max(rec.ts, start), min(nxt.ts if nxt else end, end)
            if a < b:
                out.append(Segment(sid, eq, display_state(rec.state, rec.reason), rec.reason, a, b))
    return out


def segments_on_shift(
    segs: Sequence[Segment], scheduled: Sequence[tuple[datetime, datetime]]
) -> list[Segment]:
    """Segments with the calendar applied (`scheduled`: merged intervals): the parts of waiting
    states outside worked time become "not scheduled"; work, stops and setups stay as reported."""
    out: list[Segment] = []
    for seg in segs:
        if seg.display not in WAITING:
            out.append(seg)
            continue
        sid, eq, shown, why = seg.station, seg.equipment, seg.display, seg.reason
        cur = seg.start
        for a, b in scheduled:
            if b <= cur or a >= seg.end:
                continue
            x, y = max(a, cur), min(b, seg.end)
            if x > cur:
                out.append(Segment(sid, eq, "not_scheduled", OFF_SHIFT, cur, x))
            out.append(Segment(sid, eq, shown, why, x, y))
            cur = y
        if cur < seg.end:
            out.append(Segment(sid, eq, "not_scheduled", OFF_SHIFT, cur, seg.end))
    return out


def downtime_minutes(segs: Sequence[Segment]) -> dict[str, float]:
    """Minutes stopped per cause: unplanned (down) and planned stops and setups, by reason."""
    out: dict[str, float] = {}
    for s in segs:
        if s.display in ("down", "setup", "planned_down"):
            key = f"{s.display}: {s.reason or 'no reason given'}"
            out[key] = out.get(key, 0.0) + (s.end - s.start).total_seconds() / 60
    return out


class HealthRow(Protocol):
    """What the alarms read of a source's health row (store.base.SourceHealth)."""

    @property
    def recent_stored(self) -> int: ...
    @property
    def recent_rejected(self) -> int: ...

    @property
    def source(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def last_message(self) -> datetime | None: ...
    @property
    def rejected(self) -> int: ...
    @property
    def detail(self) -> str | None: ...
    @property
    def updated(self) -> datetime: ...


@dataclass(frozen=True)
class SourceProblem:
    source: str
    kind: str  # "status" (not connected), "silent" (no message while expected), "unbound", "rejecting"
    detail: str | None = None
    since: datetime | None = None  # silent: the last message, None if there never was one
    count: int = 0  # unbound: messages on topics no binding takes; rejecting: rejected in the window
    seen: int = 0  # rejecting: messages in the window


def stations_run_since(changes: Sequence[StateLike], since: datetime, now: datetime) -> set[str]:
    """Stations any of whose equipment was running at some time in [since, now]."""
    return {seg.station for seg in segments(changes, since, now) if seg.display == "running"}


MIRROR_SOURCE = "mirror:influxdb"  # the health row of the InfluxDB mirror (store.mirror)


def is_mirror(source: str) -> bool:
    """A mirror's health row says where the data goes, not that any arrives."""
    return source.startswith("mirror:")


def source_problems(
    health: Iterable[HealthRow],
    binding_station: Mapping[str, str | None],
    running: Collection[str],
    now: datetime,
    silent_after: timedelta,
) -> list[SourceProblem]:
    """What the andon reports about the equipment sources. A source that is not connected is
    always reported. Silence is a fault only while the source's station works (`running`: the
    stations that ran within the alarm's hold time, so a station blinking between running and
    blocked keeps its alarm instead of blinking it): a final tester with no units yet on a
    Monday morning is quiet, not broken. A binding without a station (a gateway for many) has no
    station to tell whether it should be talking, so its silence is not judged. The ingest's
    catch-all source (not a binding) is reported only when messages arrived on topics no binding
    takes."""
    out = []
    for h in health:
        if h.status == "stopped":
            continue
        if h.source not in binding_station:
            if h.rejected:
                out.append(SourceProblem(h.source, "unbound", count=h.rejected))
            continue
        if h.status != "connected":
            out.append(SourceProblem(h.source, "status", h.detail))
            continue
        expected = binding_station[h.source] in running
        quiet = h.last_message is None or now - h.last_message > silent_after
        if expected and quiet:
            out.append(SourceProblem(h.source, "silent", since=h.last_message))
    return out


def rejecting_sources(health: Iterable[HealthRow], share_max: float, min_messages: int) -> list[SourceProblem]:
    """Bindings that rejected more than `share_max` of their input over the health rows' window,
    judged once they had at least `min_messages` there (one bad frame in three is no trend)."""
    out = []
    for h in health:
        seen = h.recent_stored + h.recent_rejected
        if seen >= min_messages and h.recent_rejected > share_max * seen:
            out.append(SourceProblem(h.source, "rejecting", count=h.recent_rejected, seen=seen))
    return out


def data_freshness(
    now: datetime, last: datetime | None, health: Iterable[HealthRow], silent_after: timedelta
) -> Literal["live", "quiet", "stale"]:
    """How current the figures are: "live" (a record within `silent_after`), "quiet" (none, but
    the ingest wrote its health within that time with a source connected: the figures are
    current, the line has just sent nothing, being idle, starved or on a break) or "stale"
    (nothing tells that data would arrive: the ingest or its store link is down, or data comes
    only from imports)."""
    if last is not None and now - last <= silent_after:
        return "live"
    if any(h.status == "connected" and now - h.updated <= silent_after and not is_mirror(h.source) for h in health):
        return "quiet"
    return "stale"
