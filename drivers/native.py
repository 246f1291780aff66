"""Native MQTT payloads: linemon records as JSON (DESIGN.md §4.1-4.3), one object or an array.

Topic `linemon/<site>/<line>/<station>/<equipment>/result|state`: the record must agree with the
topic on line, station and kind, so a misconfigured publisher is caught instead of stored under
the wrong station.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

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
    rule = _topic_rule(topic)
    if isinstance(doc, dict):  # one record, the usual message
        problem = _topic_problem(rule, doc)
        out.add(Reject(problem, payload) if problem else Draft(doc))
        return out
    docs = doc if isinstance(doc, list) else [doc]
    if not docs:  # acknowledged like any message, so it must leave a trace
        out.add(Reject("an empty JSON array: no record in the message", payload))
    for i, rec in enumerate(docs):
        where = f"record {i}: " if len(docs) > 1 else ""
        if not isinstance(rec, dict):
            out.add(Reject(f"{where}expected a JSON object", payload))
            continue
        problem = _topic_problem(rule, rec)
        if problem:
            out.add(Reject(where + problem, orjson.dumps(rec)))
        else:
            out.add(Draft(rec))
    return out


class _TopicRule(NamedTuple):
    """What a native topic requires of its records."""

    kind: str | None  # "result" or "state", or None when the topic's last level is neither
    line: str
    station: str


@lru_cache(maxsize=1024)
def _topic_rule(topic: str) -> _TopicRule | None:
    """Worked out once per topic (a plant has few), not per message; None for a custom layout,
    where the payload alone decides."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "linemon":
        return None
    _, _site, line, station, _equipment, kind = parts
    return _TopicRule(kind if kind in KINDS else None, line, station)


def _topic_problem(rule: _TopicRule | None, rec: dict[str, Any]) -> str | None:
    if rule is None:
        return None
    if rule.kind and rec.get("schema") != KINDS[rule.kind]:
        return f"topic ends in /{rule.kind} but the payload's schema is {rec.get('schema')!r}"
    for key, expected in (("line", rule.line), ("station", rule.station)):
        if rec.get(key) != expected:
            return f"{key}: the topic says {expected!r}, the payload {rec.get(key)!r}"
    return None
