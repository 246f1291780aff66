"""Load and validate the plant file once; every error names the file, the key path and what was
expected, and all problems are reported together so one run fixes them all."""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from line.config_model import PlantFile, ProductDef, SpecLimit, StationDef
from line.errors import ConfigError, describe_validation
from line.kinds import KINDS
from line.records import ResultRecord

BUILTIN_FORMATS = ("native", "cfx")


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def name_ko(self) -> str | None: ...

_TUNABLE = {"board_s", "cph", "board_overhead_s", "pitch_s", "transit_min", "part_s", "slots", "unit_min"}


@dataclass(frozen=True)
class Plant:
    """A validated plant: the file's content plus the lookups every part of linemon needs."""

    path: str
    spec: PlantFile

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.spec.site.timezone)

    @property
    def station_order(self) -> tuple[str, ...]:
        """All stations in flow order: lines in file order, stations in line order."""
        return tuple(s for line in self.spec.lines.values() for s in line.stations)

    def station(self, sid: str) -> StationDef:
        return self.spec.stations[sid]

    def product(self, code: str) -> ProductDef:
        return self.spec.products[code]

    def name_of(self, kind: Literal["site", "line", "station", "product", "shift"], key: str, lang: str) -> str:
        """What a reader of `lang` calls a line, station, product or shift: its `name_ko` in
        Korean when the plant file gives one, else its `name`."""
        sp = self.spec
        named: Named | None = {
            "site": lambda: sp.site,
            "line": lambda: sp.lines.get(key),
            "station": lambda: sp.stations.get(key),
            "product": lambda: sp.products.get(key),
            "shift": lambda: next((s for s in sp.calendar.shifts if s.name == key), None),
        }[kind]()
        if named is None:
            return key
        return (named.name_ko if lang == "ko" else None) or named.name

    def spec_limits(self, product: str | None, station: str) -> dict[str, SpecLimit]:
        """The plant file's specifications of the measurements of a product at a station (none
        for an unknown product, or none named: products differ)."""
        p = self.spec.products.get(product) if product else None
        return dict(p.limits.get(station, {})) if p is not None else {}

    def with_spec_limits(self, rec: ResultRecord) -> ResultRecord:
        """The record with the plant file's limits (and unit) on each measurement that gave no
        limits of its own, so the store keeps them and their verdict with the value; a record's
        own limits win (the tester knows its test program's)."""
        if not rec.measurements:
            return rec
        spec = self.spec_limits(rec.product, rec.station)
        if not any(m.lo is None and m.hi is None and m.name in spec for m in rec.measurements):
            return rec
        filled = [
            m.model_copy(update={"lo": spec[m.name].lsl, "hi": spec[m.name].usl, "unit": m.unit or spec[m.name].unit})
            if m.lo is None and m.hi is None and m.name in spec else m
            for m in rec.measurements
        ]  # fmt: skip
        return rec.model_copy(update={"measurements": filled})

    def inspects(self, sid: str) -> bool:
        return KINDS[self.spec.stations[sid].kind].inspects

    def product_of_serial(self, serial: str) -> str | None:
        """The product whose serial_prefix starts this serial, if any."""
        for code, p in self.spec.products.items():
            if p.serial_prefix and serial.startswith(p.serial_prefix):
                return code
        return None

    def inspection_route(self, code: str) -> tuple[str, ...]:
        """The stations on a product's routing that judge units: the factors of its RTY."""
        return tuple(s for s in self.spec.products[code].routing if self.inspects(s))

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary printed by `linemon check-config --json`."""
        sp = self.spec
        return {
            "lines": list(sp.lines),
            "stations": {
                sid: {"line": st.line, "kind": st.kind, "inspects": self.inspects(sid)}
                for sid, st in sp.stations.items()
            },
            "products": {
                code: {"name": p.name, "routing": list(p.routing)} for code, p in sp.products.items()
            },
        }


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file's data; a missing, unreadable or malformed file raises ConfigError naming it."""
    p = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = "" if Path(path).is_absolute() else f" (looked for {Path(path).absolute()})"
        raise ConfigError(p, [f"file not found{where}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(p, [f"cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(p, [f"not valid TOML: {exc}"]) from None


def load_plant(path: str | Path) -> Plant:
    """Read, validate and return the plant; raise ConfigError listing every problem found."""
    return plant_from_dict(read_toml(path), str(path))


def plant_from_dict(data: dict[str, Any], path: str = "<plant>") -> Plant:
    try:
        spec = PlantFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, describe_validation(exc)) from None
    problems = list(_cross_reference_problems(spec))
    if problems:
        raise ConfigError(path, problems)
    return Plant(path, spec)


def _cross_reference_problems(sp: PlantFile) -> Iterator[str]:
    yield from _site_problems(sp)
    yield from _line_problems(sp)
    for sid, st in sp.stations.items():
        yield from _station_problems(sid, st, sp)
    order = [s for line in sp.lines.values() for s in line.stations]
    for code, prod in sp.products.items():
        yield from _product_problems(code, prod, sp, order)
    yield from _binding_problems(sp)
    yield from _format_problems(sp)
    yield from _prefix_problems(sp)


def _prefix_problems(sp: PlantFile) -> Iterator[str]:
    """Serial prefixes must tell products apart: none may start another."""
    prefixes = [(code, p.serial_prefix) for code, p in sp.products.items() if p.serial_prefix]
    for code, pre in prefixes:
        for other, opre in prefixes:
            if code != other and opre.startswith(pre):
                yield f"products.{code}.serial_prefix: {pre!r} also starts {other}'s prefix {opre!r}"


def _site_problems(sp: PlantFile) -> Iterator[str]:
    try:
        ZoneInfo(sp.site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield f"site.timezone: unknown time zone {sp.site.timezone!r} (expected e.g. 'Asia/Seoul')"
    names = Counter(s.name for s in sp.calendar.shifts)
    for name, n in names.items():
        if n > 1:
            yield f"calendar.shifts: shift name {name!r} used {n} times (names must be unique)"
    for i, sh in enumerate(sp.calendar.shifts):
        if sh.start == sh.end:
            yield f"calendar.shifts[{i}]: start and end are both {sh.start} (empty shift)"
        for j, br in enumerate(sh.breaks):
            if not _within(sh.start, sh.end, br.start, br.end):
                yield (
                    f"calendar.shifts[{i}].breaks[{j}]: {br.start}-{br.end} is not inside the "
                    f"shift {sh.start}-{sh.end}"
                )


def _within(s0: str, s1: str, b0: str, b1: str) -> bool:
    """Whether break b0-b1 lies inside shift s0-s1 (times as HH:MM, the shift may pass midnight)."""

    def rel(t: str) -> int:
        m = int(t[:2]) * 60 + int(t[3:]) - (int(s0[:2]) * 60 + int(s0[3:]))
        return m % 1440

    length = rel(s1) or 1440
    return rel(b0) < rel(b1) <= length


def _line_problems(sp: PlantFile) -> Iterator[str]:
    seen: dict[str, str] = {}
    for lid, line in sp.lines.items():
        for i, sid in enumerate(line.stations):
            key = f"lines.{lid}.stations[{i}]"
            if sid not in sp.stations:
                yield f"{key}: unknown station {sid!r} (expected one of {_names(sp.stations)})"
            elif sid in seen:
                yield f"{key}: station {sid!r} is already listed in lines.{seen[sid]}.stations"
            elif sp.stations[sid].line != lid:
                yield f"{key}: station {sid!r} says line = {sp.stations[sid].line!r}"
            seen.setdefault(sid, lid)
    for sid in sp.stations:
        if sid not in seen:
            yield f"stations.{sid}: not listed in any lines.<id>.stations (flow order unknown)"


def _station_problems(sid: str, st: StationDef, sp: PlantFile) -> Iterator[str]:
    key = f"stations.{sid}"
    if st.line not in sp.lines:
        yield f"{key}.line: unknown line {st.line!r} (expected one of {_names(sp.lines)})"
    spec = KINDS[st.kind]
    given = {k for k in _TUNABLE | {"method"} if getattr(st, k) is not None}
    for extra in sorted(given - set(spec.params)):
        yield (
            f"{key}.{extra}: not a parameter of a {st.kind!r} station "
            f"(allowed: {', '.join(spec.params) or 'none'})"
        )
    for missing in sorted(set(spec.params) - given - {"method"}):
        yield f"{key}.{missing}: required for a {st.kind!r} station"
    if st.operator_min is not None and not st.operators:
        yield f"{key}.operator_min: needs operators (the operators a job waits for)"
    if st.rack_slots is not None and "slots" not in spec.params:
        yield f"{key}.rack_slots: not a parameter of a {st.kind!r} station (only aging racks)"
    elif st.rack_slots is not None and (st.slots or 1) % st.rack_slots:
        yield f"{key}.rack_slots: {st.rack_slots} does not divide the station's {st.slots} slots into whole racks"
    if st.conveyor_boards is not None and "transit_min" not in spec.params:
        yield f"{key}.conveyor_boards: not a parameter of a {st.kind!r} station (only conveyor ovens: reflow, wave)"
    if (st.mtbf_h is None) != (st.mttr_min is None):
        yield f"{key}: mtbf_h and mttr_min go together (give both or neither)"
    if st.fpy is not None and not spec.inspects:
        yield f"{key}.fpy: a {st.kind!r} station does not judge units, so it has no yield"
    if (st.setup_min or st.setup_pair_min) and not spec.setups:
        setups = ", ".join(k for k, v in KINDS.items() if v.setups)
        yield (
            f"{key}.setup_min: a {st.kind!r} station has no setup on a product change, so it would change "
            f"nothing (setups are modelled at {setups} stations); remove it"
        )
    for pair in st.setup_pair_min:
        a, sep, b = pair.partition(">")
        if not sep or a not in sp.products or b not in sp.products:
            yield (
                f"{key}.setup_pair_min.{pair}: expected 'FROM>TO' with two products of the plant "
                f"({_names(sp.products)})"
            )


def _product_problems(code: str, prod: ProductDef, sp: PlantFile, order: list[str]) -> Iterator[str]:
    key = f"products.{code}"
    known = [s for s in prod.routing if s in sp.stations]
    for i, sid in enumerate(prod.routing):
        if sid not in sp.stations:
            yield f"{key}.routing[{i}]: unknown station {sid!r} (expected one of {_names(sp.stations)})"
    for sid, n in Counter(prod.routing).items():
        if n > 1:
            yield f"{key}.routing: station {sid!r} appears {n} times"
    positions = [order.index(s) for s in known if s in order]
    if positions != sorted(positions):
        yield f"{key}.routing: stations are not in flow order (expected order {order})"
    for sid in prod.fpy:
        if sid not in prod.routing:
            yield f"{key}.fpy.{sid}: station {sid!r} is not on this product's routing"
        elif not KINDS[sp.stations[sid].kind].inspects:
            yield f"{key}.fpy.{sid}: a {sp.stations[sid].kind!r} station does not judge units"
    for sid in prod.limits:
        if sid not in prod.routing:
            yield f"{key}.limits.{sid}: station {sid!r} is not on this product's routing"
    for sid in known:
        attr = KINDS[sp.stations[sid].kind].product_time
        if attr and getattr(prod, attr) is None:
            yield f"{key}.{attr}: required, the routing passes {sp.stations[sid].kind!r} station {sid!r}"


def _binding_problems(sp: PlantFile) -> Iterator[str]:
    for bid, n in Counter(b.id for b in sp.bindings).items():
        if n > 1:
            yield f"bindings: id {bid!r} used {n} times (ids must be unique)"
    for i, b in enumerate(sp.bindings):
        key = f"bindings[{i}] ({b.id})"
        if b.station is None:
            if b.transport == "serial" or b.format != "native":
                yield f"{key}.station: required (only a native MQTT binding, whose records name their station, may omit it)"
        elif b.station not in sp.stations:
            yield f"{key}.station: unknown station {b.station!r} (expected one of {_names(sp.stations)})"
        if b.transport == "serial":
            if not b.port:
                yield f"{key}.port: required for a serial binding (e.g. '/dev/ttyUSB0', 'socket://host:4001')"
            fmt = sp.formats.get(b.format)
            if fmt is None:
                yield (
                    f"{key}.format: unknown serial format {b.format!r} (expected one of {_names(sp.formats)})"
                )
            elif (fmt.type == "framed") != (b.terminator == "ETX"):
                yield f"{key}.terminator: a {fmt.type} format goes with " + (
                    "terminator 'ETX'" if fmt.type == "framed" else "CR, LF or CRLF, not ETX"
                )
        elif b.transport == "file":
            if not b.path:
                yield f"{key}.path: required for a file binding (the folder the tester writes into)"
            fmt = sp.formats.get(b.format)
            if fmt is None or fmt.type not in ("csv", "xml"):
                files = _names({n: f for n, f in sp.formats.items() if f.type in ("csv", "xml")})
                yield f"{key}.format: a file binding takes a csv or xml format (expected one of {files}), not {b.format!r}"
        else:
            if not b.topic:
                yield f"{key}.topic: required for an mqtt binding"
            if b.format not in BUILTIN_FORMATS:
                yield f"{key}.format: an mqtt binding takes 'native' or 'cfx', not {b.format!r}"


def _format_problems(sp: PlantFile) -> Iterator[str]:
    for name, fmt in sp.formats.items():
        key = f"formats.{name}"
        if fmt.type == "xml":
            for role in ("board", "serial"):
                if role not in fmt.paths:
                    yield f"{key}.paths: must give '{role}' (e.g. board = \".//Board\", serial = \"@Barcode\")"
            continue
        if fmt.type == "csv":
            if "serial" not in fmt.columns:
                yield f"{key}.columns: must name the 'serial' column (the header of the unit's serial number)"
            if fmt.rows != "board" and "code" not in fmt.columns and not fmt.measure_columns:
                yield f"{key}: {fmt.rows} rows need a 'code' column or measure_columns"
            continue
        if "serial" not in fmt.fields and fmt.type != "poll":
            yield f"{key}.fields: must map 'serial' (the unit's serial number)"
        if fmt.type == "poll" and ("slot" not in fmt.fields or not fmt.request):
            yield f"{key}: a poll format needs 'request' and a 'slot' field"
        if not fmt.regex and not fmt.separator and len(fmt.fields) > 1:
            yield f"{key}: several fields need a 'separator' or a 'regex'"


def _names(d: dict[str, Any]) -> str:
    return ", ".join(sorted(d)) or "(none defined)"
