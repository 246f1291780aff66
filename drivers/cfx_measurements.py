"""IPC-CFX measurements -> linemon measurements, with their units: numeric values with their
limits (`NumericMeasurement`), solder paste (`SolderPasteMeasurement`: volume and area as % of
nominal, height and offsets in mm) and component offsets (`OffsetMeasurement`: mm and degrees).
Keys arrive in lower case (drivers.cfx)."""

from __future__ import annotations

from typing import Any

MAX_MEASUREMENTS = 200  # an SPI board can carry thousands of pad measurements; keep the first ones


def measurements(checks: list[Any]) -> list[dict[str, Any]]:
    """Numeric measurements with their units and limits, and the structured ones: solder paste
    (volume and area as % of nominal, height, offsets) and component offsets (mm, degrees)."""
    out: list[dict[str, Any]] = []
    for check in checks:
        for m in (check.get("measurements") or []) if isinstance(check, dict) else []:
            if isinstance(m, dict):
                out += _measurement(m)
            if len(out) >= MAX_MEASUREMENTS:
                return out[:MAX_MEASUREMENTS]
    return out


def _num(m: dict[str, Any], key: str) -> float | None:
    v = m.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _measurement(m: dict[str, Any]) -> list[dict[str, Any]]:
    name = str(m.get("measurementname") or m.get("crds") or "value")[:100]
    kind = str(m.get("$type") or "").lower()
    value = m.get("measuredvalue")
    if isinstance(value, dict) and _num(value, "value") is not None:
        return [{
            "name": name[:120], "value": _num(value, "value"), "unit": value.get("valueunits"),
            "lo": _num(value, "minimumacceptablevalue"), "hi": _num(value, "maximumacceptablevalue"),
        }]  # fmt: skip
    out = []
    if "solderpaste" in kind or ("vol" in m and "evol" in m):
        for key, nominal, what in (("vol", "evol", "volume"), ("a", "ea", "area")):
            v, e = _num(m, key), _num(m, nominal)
            if v is not None and e:
                out.append({"name": f"{name} {what}", "value": round(100 * v / e, 4), "unit": "%"})
        for key, what in (("z", "height"), ("dx", "offset x"), ("dy", "offset y")):
            if (v := _num(m, key)) is not None:
                out.append({"name": f"{name} {what}", "value": v, "unit": "mm"})
    elif "offsetmeasurement" in kind or ("dx" in m and "rxy" in m):
        for key, unit in (("dx", "mm"), ("dy", "mm"), ("dz", "mm"), ("rxy", "deg"), ("rzx", "deg"), ("rzy", "deg")):
            if (v := _num(m, key)) is not None:
                out.append({"name": f"{name} {key}", "value": v, "unit": unit})
    return out
