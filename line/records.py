"""The two record types every source is turned into (DESIGN.md §4.1-4.2) and their JSON form.

Records are validated once, when they enter linemon; everything downstream trusts them. A record
without an `id` gets one derived from its content, so replaying the same record is a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal, NamedTuple

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from line.errors import RecordError, describe_validation

RESULT_SCHEMA = "linemon.result/1"
STATE_SCHEMA = "linemon.state/1"

Verdict = Literal["PASS", "FAIL", "ERROR", "ABORTED"]
DefectCode = Literal[
    "missing",
    "wrong_part",
    "polarity",
    "shift",
    "skew",
    "tombstone",
    "billboard",
    "flipped",
    "lifted_lead",
    "bridge",
    "insufficient_solder",
    "excess_solder",
    "solder_ball",
    "damaged",
    "foreign_material",
    "open",
    "short",
    "function_fail",
    "other",
]
DEFECT_CODES: tuple[str, ...] = DefectCode.__args__  # type: ignore[attr-defined]
E10State = Literal["PRD", "SBY", "ENG", "SDT", "UDT", "NST"]
E10_STATES: tuple[str, ...] = E10State.__args__  # type: ignore[attr-defined]

Name = Annotated[str, Field(min_length=1, max_length=120)]
_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Defect(BaseModel):
    """One defect call. `confirmed=False` means the operator rejected it: a false call."""

    model_config = _STRICT
    code: DefectCode
    refdes: str | None = None
    raw: str | None = None
    confirmed: bool = True


class Measurement(BaseModel):
    model_config = _STRICT
    name: Name
    value: float
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None


class ResultRecord(BaseModel):
    """`linemon.result/1`: one inspection or test outcome of one unit at one station."""

    model_config = _STRICT
    record_schema: Literal["linemon.result/1"] = Field(alias="schema")
    id: Name | None = None
    ts: AwareDatetime
    line: Name
    station: Name
    equipment: Name | None = None
    serial: Name
    product: Name
    work_order: Name | None = None
    result: Verdict
    defects: tuple[Defect, ...] = ()
    measurements: tuple[Measurement, ...] = ()

    @property
    def confirmed_defects(self) -> int:
        return sum(1 for d in self.defects if d.confirmed)

    @property
    def false_calls(self) -> int:
        return sum(1 for d in self.defects if not d.confirmed)


class StateRecord(BaseModel):
    """`linemon.state/1`: a station entered a SEMI E10 state (sub-state in `reason`)."""

    model_config = _STRICT
    record_schema: Literal["linemon.state/1"] = Field(alias="schema")
    id: Name | None = None
    ts: AwareDatetime
    line: Name
    station: Name
    equipment: Name | None = None
    state: E10State
    reason: str | None = None


Record = ResultRecord | StateRecord


class StateChange(NamedTuple):
    """A stored state record as the store's queries return it: the fields of `StateRecord`,
    validated once when the record entered linemon. A tuple, because a week of a line is tens
    of thousands of them and rebuilding models was most of the cost of reading them."""

    id: str
    ts: datetime
    line: str
    station: str
    equipment: str | None
    state: str
    reason: str | None


@dataclass(frozen=True)
class UnitSeen:
    """A unit seen at a station (scan, CFX WorkStarted, aging load): the registry that tells the
    product of sources that report only a serial."""

    serial: str
    station: str
    ts: datetime
    product: str | None = None
    work_order: str | None = None


_TAGS = frozenset({RESULT_SCHEMA, STATE_SCHEMA})
_ADAPTER: TypeAdapter[Record] = TypeAdapter(
    Annotated[ResultRecord | StateRecord, Field(discriminator="record_schema")]
)


def content_id(record: Record) -> str:
    """A deterministic id from the record's content (everything but `id`), stable across replays."""
    body = record.model_dump(mode="json", by_alias=True, exclude={"id"})
    body["ts"] = ts_ms(record.ts)  # the same instant written with another offset is the same record
    digest = hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16)
    return digest.hexdigest()


def parse_record(raw: bytes | str) -> Record:
    """Validate one JSON record; raise RecordError naming the key and what was expected."""
    return _validated(lambda: _ADAPTER.validate_json(raw))


def record_from_dict(data: dict[str, object]) -> Record:
    """Validate a record given as a Python dict (drivers build these)."""
    return _validated(lambda: _ADAPTER.validate_python(data))


def _validated(validate: Callable[[], Record]) -> Record:
    """Run a validation, turn its errors into one RecordError, and give an id-less record its content id."""
    try:
        rec = validate()
    except ValidationError as exc:
        raise RecordError("; ".join(describe_validation(exc, limit=3, hide=_TAGS))) from None
    return rec if rec.id is not None else rec.model_copy(update={"id": content_id(rec)})


def record_to_json(record: Record) -> bytes:
    """The stable JSON form used on MQTT, in import files and exports."""
    return orjson.dumps(record.model_dump(mode="json", by_alias=True, exclude_defaults=False))


def ts_ms(ts: datetime) -> int:
    """UTC epoch milliseconds: the storage form of every timestamp."""
    return int(ts.timestamp() * 1000) if ts.tzinfo else int(ts.replace(tzinfo=UTC).timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def plant_problem(record: Record, stations: Mapping[str, str], products: AbstractSet[str]) -> str | None:
    """Why a valid record does not fit the plant (unknown station/product, wrong line), or None.

    `stations` maps station id to its line id.
    """
    if record.station not in stations:
        return f"station: unknown station {record.station!r} (not in the plant file)"
    if stations[record.station] != record.line:
        return (
            f"line: station {record.station!r} belongs to line {stations[record.station]!r}, "
            f"not {record.line!r}"
        )
    if isinstance(record, ResultRecord) and record.product not in products:
        return f"product: unknown product {record.product!r} (not in the plant file)"
    return None
