"""The typed shape of the plant file (TOML). Structure and types only; cross-references are
checked in `line.config`, which also turns pydantic's errors into file/key messages."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from line.kinds import StationKind

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Site(BaseModel):
    model_config = _STRICT
    id: Ident
    name: str
    name_ko: str | None = None  # the name the Korean dashboard shows (else `name`)
    timezone: str


class Break(BaseModel):
    model_config = _STRICT
    start: ClockTime
    end: ClockTime


class Shift(BaseModel):
    """A shift on the given weekdays; `end` before `start` means it runs past midnight."""

    model_config = _STRICT
    name: Ident
    name_ko: str | None = None
    start: ClockTime
    end: ClockTime
    days: list[Weekday] = Field(min_length=1)
    breaks: list[Break] = []


class Calendar(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    shifts: list[Shift] = Field(min_length=1)
    holidays: list[date] = []


class LineDef(BaseModel):
    model_config = _STRICT
    name: str
    name_ko: str | None = None
    stations: list[Ident] = Field(min_length=1)  # in flow order


class Alarms(BaseModel):
    """Andon alarm thresholds. A shift's FPY below `fpy_min` raises an alarm only with evidence:
    the one-sided `fpy_confidence` upper bound of its FPY is below the floor, or the shift has
    `fpy_min_units` units or more (0: the bound alone decides). It clears when the FPY is back at
    the floor plus `fpy_clear_margin`. A silent source stays reported until its station has not
    run for `hold_min` (a station blinking between running and blocked does not blink the alarm)."""

    model_config = _STRICT
    station_down_min: Positive = 10.0
    fpy_min: Fraction = 0.9
    fpy_min_units: Annotated[int, Field(ge=0)] = 30
    fpy_confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95
    fpy_clear_margin: Annotated[float, Field(ge=0, le=0.5)] = 0.02
    source_silent_min: Positive = 5.0
    hold_min: Annotated[float, Field(ge=0)] = 10.0
    reject_share_max: Fraction = 0.05  # a binding rejecting more than this share of its input...
    reject_window_min: Positive = 15.0  # ...over this window raises an andon alarm,
    reject_min_messages: Annotated[int, Field(ge=1)] = 20  # once it received at least this many there


class IngestLimits(BaseModel):
    """What the ingest accepts: a record stamped more than `max_future_h` after the ingest's
    clock, or more than `max_age_days` before it, is dead-lettered with the reason (a year-1970 or
    year-3000 clock on a tester would otherwise be stored, and a future one makes the andon
    "live" for ever)."""

    model_config = _STRICT
    max_future_h: Positive = 24.0
    max_age_days: Positive = 400.0


class SimulationLimits(BaseModel):
    """What the dashboard's simulation page may ask of the server: at most `max_replications`
    per scenario and `max_hours` of plant time (the command line has no such limit)."""

    model_config = _STRICT
    max_replications: Annotated[int, Field(ge=1, le=1000)] = 20
    max_hours: Positive = 8760.0  # a plant year (a plan without a horizon runs up to 2160 h)


class StoreSettings(BaseModel):
    """What the store keeps: dead letters for `dead_letter_days`; `mirror`: an InfluxDB bucket
    (influxdb://host:8086?org=ORG&bucket=BUCKET, token from $LINEMON_INFLUX_TOKEN) that the
    ingest service mirrors every stored record to, for the plant's Grafana and historians."""

    model_config = _STRICT
    dead_letter_days: Positive = 30.0
    mirror: str | None = None

    @field_validator("mirror")
    @classmethod
    def _influx_url(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"influxdbs?://[^/?#]+/?\?(?=.*\borg=[^&]+)(?=.*\bbucket=[^&]+).*", v):
            raise ValueError("expected influxdb://host:8086?org=ORG&bucket=BUCKET (the token comes from $LINEMON_INFLUX_TOKEN)")
        return v


class Rework(BaseModel):
    """The plant's repair rule: a unit that fails a station `scrap_after_failures` times without
    passing is scrapped there (a final disposition, never work in progress)."""

    model_config = _STRICT
    scrap_after_failures: Annotated[int, Field(ge=1, le=10)] = 3
    # repair technicians on shift (the simulator queues failed units for them); none: unlimited
    technicians: Annotated[int, Field(ge=1, le=100)] | None = None


class StationDef(BaseModel):
    """A station. Kind parameters (board_s, cph, ...) are allowed only for the kinds that use them."""

    model_config = _STRICT
    line: Ident
    kind: StationKind
    name: str
    name_ko: str | None = None
    machines: Annotated[int, Field(ge=1, le=100)] = 1
    operators: Annotated[int, Field(ge=0, le=100)] = 0
    # a machine station with operators: a job needs a machine and an operator, the operator for
    # the first operator_min of it (loading, connecting), else for the whole job (adjusting)
    operator_min: Positive | None = None
    setup_min: Annotated[float, Field(ge=0)] = 0.0
    setup_pair_min: dict[str, Annotated[float, Field(ge=0)]] = {}  # "FROM>TO" product pair: minutes
    buffer: Annotated[int, Field(ge=1)] | None = None  # places in the input buffer; none: unlimited
    time_cv: Annotated[float, Field(ge=0, le=3)] | None = None  # variability of the work time
    mtbf_h: Positive | None = None
    mttr_min: Positive | None = None
    fpy: Fraction | None = None
    assumed: bool = False
    fpy_alarm_min: Fraction | None = None
    down_alarm_min: Positive | None = None
    # kind parameters
    board_s: Positive | None = None
    cph: Positive | None = None
    board_overhead_s: Annotated[float, Field(ge=0)] | None = None
    pitch_s: Positive | None = None
    transit_min: Positive | None = None
    conveyor_boards: Annotated[int, Field(ge=1, le=1000)] | None = None  # else transit / pitch
    part_s: Positive | None = None
    method: Literal["human", "aoi"] | None = None
    slots: Annotated[int, Field(ge=1)] | None = None
    # aging: slots loaded and started as racks of rack_slots (else every slot on its own); a rack
    # starts its burn-in when full, or rack_wait_min after its first unit
    rack_slots: Annotated[int, Field(ge=1)] | None = None
    rack_wait_min: Positive = 60.0
    unit_min: Positive | None = None


class SpecLimit(BaseModel):
    """A measurement's specification on one product and station; one side may be absent."""

    model_config = _STRICT
    lsl: float | None = None
    usl: float | None = None
    unit: str | None = None
    drift_alarm: bool = False  # a Western Electric rule on its individuals chart raises an andon alarm

    @model_validator(mode="after")
    def _ordered(self) -> SpecLimit:
        if self.lsl is None and self.usl is None:
            raise ValueError("give lsl, usl or both")
        if self.lsl is not None and self.usl is not None and self.lsl >= self.usl:
            raise ValueError(f"lsl {self.lsl:g} must be below usl {self.usl:g}")
        return self


class ProductDef(BaseModel):
    """A product: counts for DPMO (IPC-7912A: components + placements + terminations), its routing,
    its process times and its yield assumptions per station."""

    model_config = _STRICT
    name: str
    name_ko: str | None = None
    family: Literal["fish_finder", "radar", "ais", "gps", "vdr", "other"]
    customer: str | None = None
    components: Annotated[int, Field(ge=0)]
    placements: Annotated[int, Field(ge=0)]
    terminations: Annotated[int, Field(ge=0)]
    tht_parts: Annotated[int, Field(ge=0)] = 0
    routing: list[Ident] = Field(min_length=1)
    fct_min: Positive | None = None
    assembly_min: Positive | None = None
    aging_h: Positive | None = None
    final_test_min: Positive | None = None
    fpy: dict[Ident, Fraction] = {}
    serial_prefix: str | None = None  # serial numbers of this product start so (sources naming no product)
    flow_factor: Annotated[float, Field(ge=1, le=100)] | None = None  # over [planning]'s, for this product
    # specification limits of measurements per station: limits.FCT."V_out" = {lsl, usl, unit}
    limits: dict[Ident, dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], SpecLimit]] = {}
    assumed: bool = False

    @property
    def opportunities(self) -> int:
        return self.components + self.placements + self.terminations


class MqttSettings(BaseModel):
    """Broker connection. Secrets never live in the file: the password comes from `password_env`."""

    model_config = _STRICT
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    client_id: Ident = "linemon-ingest"
    username: str | None = None
    password_env: str = "LINEMON_MQTT_PASSWORD"
    tls: bool = False
    ca_file: str | None = None  # the CA that signed the broker's certificate (None: the system's)
    cert_file: str | None = None  # the ingest's own certificate, for a broker that requires one
    key_file: str | None = None  # its private key (None: in cert_file)


ColumnRole = Literal[
    "serial", "result", "ts", "product", "work_order", "equipment", "code", "refdes", "operator", "group"
]


XmlRole = Literal[
    "board", "serial", "result", "ts", "product", "work_order", "equipment", "defect", "code", "refdes",
    "operator", "measurement", "name", "value", "unit", "lo", "hi",
]


class FormatDef(BaseModel):
    """A serial wire format or a result file's layout, described instead of coded (DESIGN.md §4.4)."""

    model_config = _STRICT
    type: Literal["line", "framed", "poll", "csv", "xml"]
    separator: str | None = None
    regex: str | None = None
    fields: dict[str, int | str] = {}
    pass_tokens: list[str] = ["PASS", "OK", "P", "1"]
    fail_tokens: list[str] = ["FAIL", "NG", "F", "0"]
    running_tokens: list[str] = ["RUN", "AGING", "BUSY"]  # poll: the unit is still in the slot, ageing
    empty_tokens: list[str] = ["EMPTY", "NONE", "-"]  # poll: the slot holds no unit
    checksum: Literal["none", "xor", "sum"] = "none"
    request: str | None = None
    poll_s: Positive | None = None
    strip_prefix: str | None = None
    strip_suffix: str | None = None
    debounce_s: Annotated[float, Field(ge=0)] | None = None
    # csv result files (drivers/fileformat.py): columns by their header name, never by position
    columns: dict[ColumnRole, str] = {}  # role -> header name
    measure_columns: dict[str, str] = {}  # header -> unit ("" for none): each becomes a measurement
    rows: Literal["board", "component", "pad"] = "board"  # what one row of the file is
    ts_format: str | None = None  # strptime format of the time column (plant-local); None: ISO 8601
    encoding: str = "utf-8-sig"
    # xml result files (drivers/fileformat_xml.py): `board` finds the boards, the rest is relative
    # to a board ("@Barcode": an attribute, "Info/Serial": a child's text), or to each `defect` /
    # `measurement` element for their fields (code, refdes, operator; name, value, unit, lo, hi)
    paths: dict[XmlRole, str] = {}

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class BindingDef(BaseModel):
    """One source of records: a serial port or an MQTT topic, feeding one station."""

    model_config = _STRICT
    id: Ident
    transport: Literal["serial", "mqtt", "file"]
    station: Ident | None = None  # optional only for native MQTT: those records name their station
    equipment: Ident | None = None
    format: str  # "native", "cfx", or the name of a [formats.X] table
    # serial
    port: str | None = None
    baudrate: Annotated[int, Field(ge=50, le=4_000_000)] = 9600
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: Annotated[float, Field(ge=1, le=2)] = 1
    terminator: Literal["CR", "LF", "CRLF", "ETX"] = "CRLF"
    encoding: str = "ascii"
    # mqtt
    topic: str | None = None
    qos: Literal[0, 1, 2] = 1
    # file: a folder (or network share) the tester writes one result file per board into
    path: str | None = None
    pattern: str | None = None  # the files to read; none: *.csv or *.xml, as the format's type
    poll_s: Positive = 2.0
    settle_s: Annotated[float, Field(ge=0)] = 2.0  # unchanged this long: the tester has finished it
    done_marker: str | None = None  # e.g. ".done": the file counts as finished once <file>.done exists
    keep_days: Positive = 30.0  # files in done/ and failed/ older than this are deleted (the raw pads' retention)

    @property
    def station_id(self) -> str:
        """The station this binding feeds (the plant check makes sure every binding that is not
        native MQTT names one)."""
        if self.station is None:
            raise ValueError(f"binding {self.id}: no station (only a native MQTT binding may omit it)")
        return self.station


class Planning(BaseModel):
    """How the floor's plan is laid over time.

    `flow_factor` is Hopp & Spearman's x-factor, cycle time over raw process time: a unit is
    planned to reach a station this many times the routing's raw process time after its order's
    release (1: no waiting anywhere). With 1, the andon shows an order behind from its first hours
    while its units still queue; plants typically run 2 to 5. A product's own `flow_factor`
    overrides it. `linemon simulate PLAN` prints each product's flow factor in that plan."""

    model_config = _STRICT
    flow_factor: Annotated[float, Field(ge=1, le=100)] = 1.0


class PlantFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    site: Site
    calendar: Calendar
    alarms: Alarms = Alarms()
    rework: Rework = Rework()
    ingest: IngestLimits = IngestLimits()
    store: StoreSettings = StoreSettings()
    simulation: SimulationLimits = SimulationLimits()
    lines: dict[Ident, LineDef] = Field(min_length=1)
    stations: dict[Ident, StationDef] = Field(min_length=1)
    products: dict[Ident, ProductDef] = Field(min_length=1)
    planning: Planning = Planning()
    mqtt: MqttSettings = MqttSettings()
    formats: dict[Ident, FormatDef] = {}
    bindings: list[BindingDef] = []
