import orjson
import pytest

from line.errors import RecordError
from line.records import ResultRecord, parse_record, plant_problem, record_to_json

GOOD = {
    "schema": "linemon.result/1",
    "ts": "2026-11-21T09:15:02.120+09:00",
    "line": "SMT1",
    "station": "FCT",
    "equipment": "FCT-02",
    "serial": "FF50-2611-000123",
    "product": "FF-50",
    "work_order": "WO-2611-017",
    "result": "FAIL",
    "defects": [{"code": "bridge", "refdes": "U12", "raw": "Jumper", "confirmed": True}],
    "measurements": [{"name": "V_TX", "value": 11.2, "unit": "V", "lo": 11.5, "hi": 12.5}],
}


def test_design_example_parses_and_counts_defects() -> None:
    rec = parse_record(orjson.dumps(GOOD))
    assert isinstance(rec, ResultRecord)
    assert rec.confirmed_defects == 1 and rec.false_calls == 0
    assert rec.ts.utcoffset() is not None and rec.ts.hour == 9


def test_missing_id_is_deterministic_and_offset_independent() -> None:
    a = parse_record(orjson.dumps(GOOD))
    same_instant = dict(GOOD, ts="2026-11-21T00:15:02.120Z")
    b = parse_record(orjson.dumps(same_instant))
    c = parse_record(orjson.dumps(dict(GOOD, result="PASS")))
    assert a.id == b.id
    assert a.id != c.id


def test_given_id_is_kept_and_json_round_trips() -> None:
    rec = parse_record(orjson.dumps(dict(GOOD, id="abc-1")))
    assert rec.id == "abc-1"
    again = parse_record(record_to_json(rec))
    assert again == rec


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"result": "MAYBE"}, "result:"),
        ({"ts": "2026-11-21T09:15:02"}, "ts: Input should have timezone"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"defects": [{"code": "smudge"}]}, "defects[0].code"),
        ({"serial": ""}, "serial:"),
        ({"schema": "linemon.result/9"}, "schema must be one of"),
    ],
)
def test_bad_records_name_the_key(change: dict[str, object], expected: str) -> None:
    with pytest.raises(RecordError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_record(orjson.dumps(dict(GOOD, **change)))


def test_missing_schema_and_bad_json() -> None:
    with pytest.raises(RecordError, match="schema: required key is missing"):
        parse_record(b'{"line": "SMT1"}')
    with pytest.raises(RecordError, match="Invalid JSON"):
        parse_record(b"{not json")


def test_plant_problem_checks_station_line_and_product() -> None:
    rec = parse_record(orjson.dumps(GOOD))
    stations = {"FCT": "SMT1", "FT": "ASSY1"}
    assert plant_problem(rec, stations, {"FF-50"}) is None
    assert "unknown station" in (plant_problem(rec, {"FT": "ASSY1"}, {"FF-50"}) or "")
    assert "belongs to line 'ASSY1'" in (plant_problem(rec, {"FCT": "ASSY1"}, {"FF-50"}) or "")
    assert "unknown product" in (plant_problem(rec, stations, {"MR-1200"}) or "")
