"""Native MQTT payloads: linemon records as JSON (DESIGN.md §4.1-4.3), one object or an array.

Topic `linemon/<site>/<line>/<station>/<equipment>/result|state`: the record must agree with the
topic on line, station and kind, so a misconfigured publisher is caught instead of stored under
the wrong station.
"""

from __future__ import annotations

from typing import Any

import orjson

from drivers.items import Draft, Parsed, Reject

KINDS = {"result": "linemon.result/1", "state": "linemon.state/1"}


def parse_native(topic: str, payload: bytes) -> Parsed:
    out = Parsed()
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        out.add(Reject(f"not JSON: {exc}", payload))
        return out
    docs = doc if isinstance(doc, list) else [doc]
    parts = topic.split("/")
    for i, rec in enumerate(docs):
        where = f"record {i}: " if len(docs) > 1 else ""
        if not isinstance(rec, dict):
            out.add(Reject(f"{where}expected a JSON object", payload))
            continue
        problem = _topic_problem(parts, rec)
        if problem:
            out.add(Reject(where + problem, orjson.dumps(rec)))
        else:
            out.add(Draft(rec))
    return out


def _topic_problem(parts: list[str], rec: dict[str, Any]) -> str | None:
    if len(parts) != 6 or parts[0] != "linemon":
        return None  # a custom topic layout: the payload alone decides
    _, _site, line, station, _equipment, kind = parts
    if kind in KINDS and rec.get("schema") != KINDS[kind]:
        return f"topic ends in /{kind} but the payload's schema is {rec.get('schema')!r}"
    for key, expected in (("line", line), ("station", station)):
        if rec.get(key) != expected:
            return f"{key}: the topic says {expected!r}, the payload {rec.get(key)!r}"
    return None
