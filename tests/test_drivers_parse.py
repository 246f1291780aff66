"""The pure parsers on recorded-style fixtures: framing, line/framed/poll formats, IPC-CFX,
native payloads, and the writer's resolution of products and its dead letters."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from drivers.aging import RackPoller
from drivers.cfx import parse_cfx, resource_state
from drivers.framing import Framer, checksum, frame
from drivers.ingest import Batch, Health, Writer
from drivers.items import Draft, Registration, Reject
from drivers.lineformat import Context, parse_frame
from drivers.native import parse_native
from line.config_model import FormatDef
from line.records import ResultRecord, StateRecord, record_from_dict
from store.sqlite import SqliteStore

FIX = Path(__file__).parent / "fixtures" / "cfx"
NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)


def _ctx(plant, binding_id: str) -> Context:  # type: ignore[no-untyped-def]
    b = next(x for x in plant.spec.bindings if x.id == binding_id)
    return Context(b, plant.station(b.station_id).line, plant.tz, NOW)


def _records(items) -> list:  # type: ignore[no-untyped-def]
    return [
        record_from_dict({k: v for k, v in i.data.items() if v is not None})
        for i in items
        if isinstance(i, Draft)
    ]


# ------------------------------------------------------------------ framing
def test_framer_joins_partial_chunks_and_reports_noise() -> None:
    f = Framer("CRLF", max_len=20)
    assert f.feed(b"A;1") == ([], [])
    assert f.feed(b"\r\nB;2\r\nC") == ([b"A;1", b"B;2"], [])
    assert f.feed(b"x" * 30) == ([], [])  # past the limit: not a frame, kept until the line ends
    frames, bad = f.feed(b"y" * 25 + b"\r\nD;4\r\n")
    whole = b"C" + b"x" * 30 + b"y" * 25
    assert frames == [b"D;4"] and bad == [(whole, "line of 56 bytes, longer than the 20-byte frame limit")]


def test_an_overlong_line_is_kept_whole_up_to_the_row_cap_with_bounded_memory() -> None:
    f = Framer("LF", max_len=20, keep_max=100)
    for _ in range(1000):  # 1,000 reads of 1,000 bytes, no terminator: memory stays bounded
        assert f.feed(b"z" * 1000) == ([], [])
        assert len(f._buf) <= 20 and (f._over is None or len(f._over) <= 100)
    frames, bad = f.feed(b"end\nA;1\n")
    assert frames == [b"A;1"]
    assert bad == [(b"z" * 100, "line of 1000003 bytes, longer than the 20-byte frame limit, the first 100 kept")]


def test_a_frame_cut_by_an_unplugged_port_is_kept_as_partial() -> None:
    f = Framer("CRLF", max_len=20)
    assert f.feed(b"A;1\r\nSN-12;PA") == ([b"A;1"], [])
    assert f.flush() == [(b"SN-12;PA", "partial frame: the port closed before its terminator (unplugged?)")]
    assert f.flush() == [] and f.feed(b"B;2\r\n") == ([b"B;2"], [])  # the next connection starts clean


@pytest.mark.parametrize("kind", ["xor", "sum"])
def test_framed_stx_etx_with_checksums(kind: str) -> None:
    good = frame(b"FCT-01;X1;FF-50;PASS", "ETX", kind)  # type: ignore[arg-type]
    bad = b"\x02FCT-01;X2;FF-50;PASS\x03" + (
        b"00" if checksum(b"FCT-01;X2;FF-50;PASS", kind) != b"00" else b"01"
    )  # type: ignore[arg-type]
    f = Framer("ETX", kind)  # type: ignore[arg-type]
    frames, problems = f.feed(b"noise" + good[:7])
    assert frames == [] and problems == [(b"noise", "bytes outside an STX...ETX frame")]
    frames, problems = f.feed(good[7:] + bad + b"\x02torn" + good)
    assert frames == [b"FCT-01;X1;FF-50;PASS", b"FCT-01;X1;FF-50;PASS"]
    reasons = [r for _, r in problems]
    assert (
        reasons[0].startswith("checksum mismatch: frame says") and "frame cut short by a new STX" in reasons
    )


# ------------------------------------------------------------------ line formats
def test_fct_line_becomes_the_right_record(plant) -> None:  # type: ignore[no-untyped-def]
    fmt = plant.spec.formats["fct_line"]
    out = parse_frame(
        b"FCT-02;FF50-2611-000123;FF-50;FAIL;V_TX=11.2V|I_RX=95mA;function_fail@U3",
        fmt,
        _ctx(plant, "fct-jig-1"),
    )
    (rec,) = _records(out.items)
    assert isinstance(rec, ResultRecord)
    assert (rec.line, rec.station, rec.equipment, rec.serial, rec.product, rec.result) == (
        "SMT1", "FCT", "FCT-02", "FF50-2611-000123", "FF-50", "FAIL",
    )  # fmt: skip
    assert [(m.name, m.value, m.unit) for m in rec.measurements] == [
        ("V_TX", 11.2, "V"),
        ("I_RX", 95.0, "mA"),
    ]
    assert [(d.code, d.refdes) for d in rec.defects] == [("function_fail", "U3")]
    assert rec.ts == NOW


@pytest.mark.parametrize(
    ("frame_bytes", "reason"),
    [
        (b"FCT-02;FF50-1;FF-50;MAYBE;;", "field 'result': unknown verdict 'MAYBE'"),
        (b"FCT-02;FF50-1", "field 'product' (column 2) missing: the frame has 2 columns"),
        (b"FCT-02;FF50-1;FF-50;OK;V_TX=high;", "field 'measurements': 'V_TX=high' is not NAME=VALUE[unit]"),
        (b"FCT-02;FF50-\xff1;FF-50;OK;;", "not valid ascii: byte 12 is 0xff"),
        (b"FCT-02;;FF-50;OK;;", "no serial number in the frame"),
        (b"FCT-02;FF50-1\x07;FF-50;OK;;", "control characters inside the frame"),
    ],
)
def test_bad_lines_are_rejected_with_the_reason(plant, frame_bytes: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    (item,) = parse_frame(frame_bytes, plant.spec.formats["fct_line"], _ctx(plant, "fct-jig-1")).items
    assert isinstance(item, Reject) and item.reason.startswith(reason) and item.raw == frame_bytes


def test_scanner_strips_symbology_id_and_registers(plant) -> None:  # type: ignore[no-untyped-def]
    (item,) = parse_frame(
        b"]C0GPS70-2611-000042", plant.spec.formats["scanner"], _ctx(plant, "scanner-smt1")
    ).items
    assert item == Registration("GPS70-2611-000042", "PRINT", NOW)


def test_regex_format_with_named_groups(plant) -> None:  # type: ignore[no-untyped-def]
    fmt = FormatDef(
        type="line",
        regex=r"SN:(?P<sn>\S+) P:(?P<p>\S+) RES:(?P<res>\w+)(?: T=(?P<t>[\d.]+))?",
        fields={"serial": "sn", "product": "p", "result": "res", "temp": "t"},
    )
    (rec,) = _records(parse_frame(b"SN:FF50-1 P:FF-50 RES:NG T=41.5", fmt, _ctx(plant, "fct-jig-1")).items)
    assert (rec.serial, rec.product, rec.result) == ("FF50-1", "FF-50", "FAIL")
    assert [(m.name, m.value) for m in rec.measurements] == [("temp", 41.5)]
    (item,) = parse_frame(b"garbage", fmt, _ctx(plant, "fct-jig-1")).items
    assert isinstance(item, Reject) and "does not match the format's regex" in item.reason


# ------------------------------------------------------------------ aging rack
def test_aging_rack_load_readings_and_one_disposition(plant) -> None:  # type: ignore[no-untyped-def]
    poller = RackPoller(plant.spec.formats["aging_poll"], slots=60)
    ctx = _ctx(plant, "aging-racks")
    assert poller.request(7) == b"?S07"
    seq = [b"R01S07,FF50-2611-000123,44.0,RUN", b"R01S07,,46.5,RUN", b"R01S07,,45.0,OK", b"R01S07,,45.0,OK"]
    items = [i for frame_ in seq for i in poller.on_response(frame_, ctx).items]
    assert items[0] == Registration("FF50-2611-000123", "AGING", NOW)
    drafts = [i for i in items if isinstance(i, Draft)]
    assert len(drafts) == 1  # the repeated OK is not a second disposition
    d = drafts[0].data
    assert d["serial"] == "FF50-2611-000123" and d["result"] == "PASS"
    assert {m["name"]: m["value"] for m in d["measurements"]} == {
        "temperature_min": 44.0, "temperature_max": 46.5, "temperature_last": 45.0,
    }  # fmt: skip
    restarted = RackPoller(plant.spec.formats["aging_poll"], slots=60)  # an ingest restart
    again = [
        i
        for i in restarted.on_response(b"R01S07,FF50-2611-000123,45.0,OK", ctx).items
        if isinstance(i, Draft)
    ]
    assert again[0].data["id"] == d["id"]  # the same disposition id: stored once
    assert poller.on_response(b"R01S07,,0.0,EMPTY", ctx).items == []
    (bad,) = poller.on_response(b"R01S99,X,45,RUN", ctx).items
    assert isinstance(bad, Reject) and "is not a slot 1..60" in bad.reason
    (bad,) = poller.on_response(b"R01S08,,45,RUN", ctx).items
    assert isinstance(bad, Reject) and "no unit known to be loaded" in bad.reason


# ------------------------------------------------------------------ IPC-CFX
def test_cfx_units_inspected_with_type_and_net_timestamps(plant) -> None:  # type: ignore[no-untyped-def]
    out = parse_cfx((FIX / "units_inspected_aoi.json").read_bytes(), _ctx(plant, "vi1-aoi-cfx"))
    drafts = [i for i in out.items if isinstance(i, Draft)]
    assert len(drafts) == 2
    for d in drafts:
        d.data["product"] = "FF-50"
    failed, passed = _records(drafts)
    assert failed.serial == "FF50-2611-000123" and failed.result == "FAIL" and passed.result == "PASS"
    assert failed.ts == datetime(2026, 11, 21, 0, 15, 2, 376953, tzinfo=UTC)
    assert [(d.code, d.refdes, d.raw, d.confirmed) for d in failed.defects] == [
        ("bridge", "U12.3", "JMP01", True), ("missing", "C34", "MIS02", False),
    ]  # fmt: skip
    assert failed.confirmed_defects == 1 and failed.false_calls == 1
    assert (failed.measurements[0].name, failed.measurements[0].lo) == ("U12 offset", -0.1)
    assert failed.equipment == "AOIVendor.Model_7.SN0042"  # the binding names none: the CFX Source
    again = parse_cfx((FIX / "units_inspected_aoi.json").read_bytes(), _ctx(plant, "vi1-aoi-cfx"))
    assert [i.data["id"] for i in again.items] == [d.data["id"] for d in drafts]  # UniqueID decides the id


def test_cfx_units_tested_without_type_gzip_and_capital_d(plant) -> None:  # type: ignore[no-untyped-def]
    raw = gzip.compress((FIX / "units_tested_fct_nodollar.json").read_bytes())
    (d,) = parse_cfx(raw, _ctx(plant, "vi1-aoi-cfx")).items
    assert isinstance(d, Draft)
    d.data["product"] = "MR-1200"
    (rec,) = _records([d])
    assert (
        rec.result == "FAIL" and rec.defects[0].code == "function_fail" and rec.defects[0].raw == "TXPWR_LOW"
    )
    assert (rec.measurements[0].name, rec.measurements[0].unit, rec.measurements[0].lo) == ("P_TX", "kW", 3.8)


def test_cfx_states_faults_work_and_unknown_messages(plant) -> None:  # type: ignore[no-untyped-def]
    items = parse_cfx((FIX / "batch_states.json").read_bytes(), _ctx(plant, "vi1-aoi-cfx")).items
    states = [r for r in _records(items) if isinstance(r, StateRecord)]
    assert [(s.state, s.reason) for s in states] == [
        ("PRD", "1000"), ("SBY", "SBY_NoProductBlocked"), ("SBY", "SBY_NoProductStarved"),
        ("SDT", "SDT_Setup"), ("UDT", "fault E1203 MechanicalFailure"), ("SBY", "fault_cleared"),
    ]  # fmt: skip
    regs = [i for i in items if isinstance(i, Registration)]
    assert regs == [
        Registration(
            "AIS300-2611-000001", "VI1", datetime(2026, 11, 21, 0, 30, tzinfo=UTC), None, "WO-2611-017"
        )
    ]
    rejects = [i.reason for i in items if isinstance(i, Reject)]
    assert rejects[0].startswith("envelope 6: FaultOccurred of severity Warning")
    assert rejects[1].startswith("envelope 8: unknown CFX message 'CFX.Materials.Storage.MaterialsLoaded'")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [(1100, ("PRD", "1100")), ("5300", ("UDT", "5300")), ("22B0", ("SBY", "SBY_NoProductStarved")),
     ("USD_Repair", ("UDT", "USD_Repair")), ("ReadyProcessingActive", ("PRD", "PRD_RegularWork")),
     ("9999", ("NST", "9999")), ("banana", None), (True, None)],
)  # fmt: skip
def test_resource_state_wire_forms(wire: object, expected: tuple[str, str] | None) -> None:
    assert resource_state(wire) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [(b"{nope", "not JSON"), (b'{"MessageName": "X"}', "not a CFX envelope"),
     (b'{"MessageName": "CFX.Production.TestAndInspection.UnitsInspected", "TimeStamp": "yesterday", "MessageBody": {}}',
      "UnitsInspected: TimeStamp 'yesterday' is not an ISO-8601 time"),
     (b"\x1f\x8bbroken", "gzip payload cannot be decompressed")],
)  # fmt: skip
def test_cfx_bad_input_is_rejected(plant, payload: bytes, reason: str) -> None:  # type: ignore[no-untyped-def]
    (item,) = parse_cfx(payload, _ctx(plant, "vi1-aoi-cfx")).items
    assert isinstance(item, Reject) and item.reason.startswith(reason)


# ------------------------------------------------------------------ native
def test_native_topic_must_agree_with_the_payload() -> None:
    rec = {"schema": "linemon.result/1", "ts": "2026-11-21T09:00:00+09:00", "line": "SMT1", "station": "SPI",
           "serial": "FF50-1", "product": "FF-50", "result": "PASS"}  # fmt: skip
    ok = parse_native("linemon/jincheon/SMT1/SPI/SPI-01/result", orjson.dumps([rec, rec]))
    assert all(isinstance(i, Draft) for i in ok.items) and len(ok.items) == 2
    (bad,) = parse_native("linemon/jincheon/SMT1/VI1/AOI-01/result", orjson.dumps(rec)).items
    assert isinstance(bad, Reject) and bad.reason == "station: the topic says 'VI1', the payload 'SPI'"
    (bad,) = parse_native("linemon/jincheon/SMT1/SPI/SPI-01/state", orjson.dumps(rec)).items
    assert isinstance(bad, Reject) and "schema is 'linemon.result/1'" in bad.reason


# ------------------------------------------------------------------ the writer
def test_writer_resolves_products_and_dead_letters_the_rest(plant, store: SqliteStore) -> None:  # type: ignore[no-untyped-def]
    health = {"vi1-aoi-cfx": Health("vi1-aoi-cfx")}
    w = Writer(store, plant, health)
    ctx = _ctx(plant, "vi1-aoi-cfx")

    def draft(serial: str) -> Draft:
        return Draft({"schema": "linemon.result/1", "ts": NOW, "line": "SMT1", "station": "VI1", "serial": serial,
                      "product": None, "result": "PASS"})  # fmt: skip

    w.commit([
        Batch("vi1-aoi-cfx", "cfx/t", [Registration("X-REGISTERED-1", "PRINT", NOW, "VDR-900", "WO-9")]),
        Batch("vi1-aoi-cfx", "cfx/t", [draft("X-REGISTERED-1"), draft("GPS70-2611-1"), draft("NOBODY-1")]),
        Batch("vi1-aoi-cfx", "cfx/u", parse_cfx(b"{bad", ctx).items),
    ])  # fmt: skip
    hist = {s: store.unit_history(s) for s in ("X-REGISTERED-1", "GPS70-2611-1", "NOBODY-1")}
    assert (hist["X-REGISTERED-1"][0].product, hist["X-REGISTERED-1"][0].work_order) == ("VDR-900", "WO-9")
    assert hist["GPS70-2611-1"][0].product == "GPS-70" and hist["NOBODY-1"] == []
    dead = sorted(store.dead_letters(), key=lambda d: d.location or "")
    assert [d.location for d in dead] == ["cfx/t", "cfx/u"]
    assert dead[0].reason.startswith("product of serial 'NOBODY-1' unknown") and dead[1].raw == b"{bad"
    snap = health["vi1-aoi-cfx"].snapshot()
    assert (snap.stored, snap.rejected) == (2, 2)


def test_measurements_without_limits_are_stored_with_the_plant_files(plant, store: SqliteStore) -> None:  # type: ignore[no-untyped-def]
    """FF-50's V_TX at FCT has 11.4-12.6 V in the plant file: a value the tester sent bare is
    stored with those limits and its verdict; a value with its own limits keeps them; a name or
    a station without a specification stays as sent."""
    w = Writer(store, plant, {"fct-jig-1": Health("fct-jig-1")})

    def draft(serial: str, product: str, measurements: list[dict], station: str = "FCT") -> Draft:
        return Draft({"schema": "linemon.result/1", "ts": NOW, "line": "SMT1" if station == "FCT" else "ASSY1",
                      "station": station, "serial": serial, "product": product, "result": "PASS",
                      "measurements": measurements})  # fmt: skip

    w.commit([Batch("fct-jig-1", "ttyFCT", [
        draft("L1", "FF-50", [{"name": "V_TX", "value": 12.7}, {"name": "I_RX", "value": 99.0, "lo": 90.0, "hi": 95.0},
                              {"name": "T_CASE", "value": 31.0}]),
        draft("L2", "FF-50", [{"name": "V_TX", "value": 12.7}], station="FT"),
    ])])  # fmt: skip
    (rec,) = store.unit_history("L1")
    got = {m.name: (m.lo, m.hi, m.unit) for m in rec.measurements}
    assert got == {"V_TX": (11.4, 12.6, "V"), "I_RX": (90.0, 95.0, None), "T_CASE": (None, None, None)}
    assert [(m.lo, m.hi) for m in store.unit_history("L2")[0].measurements] == [(None, None)]
    a, b = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    sums = {m.name: m for m in store.measurement_summaries(a, b, "FCT", "FF-50")}
    assert (sums["V_TX"].lo, sums["V_TX"].hi, sums["V_TX"].outside) == (11.4, 12.6, 1)  # 12.7 V is out


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-23T08:30:48.1234567+09:00", datetime(2026, 11, 22, 23, 30, 48, 123456, tzinfo=UTC)),
        ("2026-11-23T08:30:48.123-05:00", datetime(2026, 11, 23, 13, 30, 48, 123000, tzinfo=UTC)),
        ("2026-11-22T23:30:48.1234567Z", datetime(2026, 11, 22, 23, 30, 48, 123456, tzinfo=UTC)),
        ("2026-11-23T08:30:48.5", datetime(2026, 11, 22, 23, 30, 48, 500000, tzinfo=UTC)),  # plant time
    ],
)
def test_cfx_timestamps_keep_their_offset(plant, stamp: str, expected: datetime) -> None:  # type: ignore[no-untyped-def]
    """A fraction followed by an offset: the offset's digits are not part of the fraction."""
    env = {"MessageName": "CFX.ResourcePerformance.StationStateChanged", "TimeStamp": stamp,
           "UniqueID": "u1", "Source": "VI1-01", "MessageBody": {"NewState": "PRD_RegularWork"}}  # fmt: skip
    (item,) = parse_cfx(orjson.dumps(env), _ctx(plant, "vi1-aoi-cfx")).items
    assert isinstance(item, Draft) and item.data["ts"] == expected


# ---------------------------------------------------------------- IPC-CFX as the standard writes it
# fixtures written from the CFX SDK's message definitions (CFX/Production/WorkStarted.cs,
# TestAndInspection/UnitsInspected.cs, Structures/SolderPasteInspection, PCBInspection)


def test_cfx_panel_positions_are_units_and_the_work_order_object_is_read(plant) -> None:  # type: ignore[no-untyped-def]
    from drivers.cfx import PanelBook

    ctx, book = _ctx(plant, "vi1-aoi-cfx"), PanelBook()
    started = parse_cfx((FIX / "work_started_panel.json").read_bytes(), ctx, book).items
    assert [(r.serial, r.work_order) for r in started if isinstance(r, Registration)] == [
        ("FF50-P2611-0007/1", "WO-2648-01"), ("FF50-P2611-0007/2", "WO-2648-01"),
    ]  # fmt: skip  (not the text of a Python dict)
    items = parse_cfx((FIX / "units_inspected_panel_2up.json").read_bytes(), ctx, book).items
    got = [(d.data["serial"], d.data["result"], [x["code"] for x in d.data["defects"]]) for d in items]
    assert got == [("FF50-P2611-0007/1", "PASS", []), ("FF50-P2611-0007/2", "FAIL", ["bridge"])]
    # a panel-level result applies to the panel's units; the defect naming position 2 goes there;
    # WorkCompleted without units is the station finishing its work, not a reject
    items = parse_cfx((FIX / "panel_result_and_work_completed.json").read_bytes(), ctx, book).items
    assert [(d.data["serial"], d.data["result"], [x["refdes"] for x in d.data["defects"]]) for d in items[:2]] == [
        ("FF50-P2611-0007/1", "FAIL", []), ("FF50-P2611-0007/2", "FAIL", ["C40"]),
    ]  # fmt: skip
    assert (items[2].data["schema"], items[2].data["state"], items[2].data["reason"]) == (
        "linemon.state/1", "SBY", "work_completed Completed")
    # without the WorkStarted (an ingest restarted in between) the panel's units are unknown: kept, with why
    (rej, _) = parse_cfx((FIX / "panel_result_and_work_completed.json").read_bytes(), ctx, PanelBook()).items
    assert isinstance(rej, Reject) and "the panel's units are unknown" in rej.reason


def test_cfx_solder_paste_and_offset_measurements_are_stored_with_units(plant) -> None:  # type: ignore[no-untyped-def]
    spi, aoi = parse_cfx((FIX / "units_inspected_spi_offsets.json").read_bytes(), _ctx(plant, "vi1-aoi-cfx")).items
    got = {m["name"]: (m["value"], m["unit"]) for m in spi.data["measurements"]}
    assert got == {
        "C12.1 volume": (pytest.approx(94.6), "%"), "C12.1 area": (pytest.approx(98.0), "%"),
        "C12.1 height": (0.121, "mm"), "C12.1 offset x": (0.01, "mm"), "C12.1 offset y": (0.02, "mm"),
    }  # fmt: skip
    got = {m["name"]: (m["value"], m["unit"]) for m in aoi.data["measurements"]}
    assert got["U7 dx"] == (0.03, "mm") and got["U7 rxy"] == (0.4, "deg") and len(got) == 6
