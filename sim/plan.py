"""Plan and scenario files: what to release into the simulated line, and what-if changes.

A plan is TOML (format in docs/simulation.md): `[plan]` says how units are released (a list of
work orders, CONWIP with a WIP cap, or random arrivals with a product mix), `[settings]` the
repair loop and time variability, `[[work_orders]]` the orders, and `[set]` what-if overrides of
the plant file (the same `KEY = VALUE` as `--set`). Overrides are applied to the plant file's
data and validated by the same loader, so a what-if with a typo fails like a bad plant file.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from line.config import Plant, plant_from_dict, read_toml
from line.errors import ConfigError, describe_validation
from line.plan import PlannedOrder

_STRICT = ConfigDict(extra="forbid", frozen=True)
Positive = Annotated[float, Field(gt=0)]


class PlanHeader(BaseModel):
    model_config = _STRICT
    name: str
    start: datetime  # when the simulation starts (local plant time if no offset is given)
    release: Literal["plan", "conwip", "arrivals"] = "plan"
    hours: Positive | None = None  # horizon; plan releases run until done when not given
    warmup_h: Annotated[float, Field(ge=0)] = 0.0
    wip_cap: Annotated[int, Field(ge=1)] | None = None
    arrival_mean_min: Positive | None = None  # arrivals: mean minutes between units (exponential)
    arrival: dict[str, Any] | None = None  # arrivals: any distribution of minutes between units
    mix: dict[str, Positive] = {}  # conwip/arrivals: relative share of each product
    lot_size: Annotated[int, Field(ge=1)] = 1  # conwip/arrivals: units of one product in a row
    due: datetime | None = None  # when the plan's work orders are due (the floor's plan by time)


class Settings(BaseModel):
    model_config = _STRICT
    retest_pass: Annotated[float, Field(gt=0, le=1)] = 0.85
    max_attempts: Annotated[int, Field(ge=1, le=10)] | None = None  # None: the plant's [rework] rule
    repair_min: Positive = 15.0
    repair_cv: Annotated[float, Field(ge=0)] = 0.5
    machine_cv: Annotated[float, Field(ge=0)] = 0.1  # work-time variability where a station gives none
    manual_cv: Annotated[float, Field(ge=0)] = 0.3
    mttr_cv: Annotated[float, Field(ge=0)] = 1.0


class WorkOrder(BaseModel):
    model_config = _STRICT
    id: str
    product: str
    quantity: Annotated[int, Field(ge=1)]
    lot_size: Annotated[int, Field(ge=1)] | None = None
    release_h: Annotated[float, Field(ge=0)] | None = None  # hours after start; none: in sequence
    due: datetime | None = None  # this order's due time; none: the plan's


class Crew(BaseModel):
    """Operators shared by several stations: a station's server works only while it holds one."""

    model_config = _STRICT
    size: Annotated[int, Field(ge=1)]
    stations: list[str] = Field(min_length=1)


class ScenarioDef(BaseModel):
    """A what-if of the plan, compared with it in the same run on the same random numbers:
    `set` changes the plant file like --set ("stations.ASSY.operators" or "ASSY.operators")."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    set: dict[str, Any] = Field(min_length=1)


class PlanFile(BaseModel):
    model_config = _STRICT
    plan: PlanHeader
    settings: Settings = Settings()
    work_orders: list[WorkOrder] = []
    set: dict[str, Any] = {}
    times: dict[str, dict[str, Any]] = {}  # [times.STATION] PRODUCT or "*" = distribution, minutes
    crews: dict[str, Crew] = {}
    scenarios: list[ScenarioDef] = []


def load_plan(path: str | Path) -> PlanFile:
    data = read_toml(path)
    try:
        return PlanFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), describe_validation(exc)) from None


def plan_problems(plan: PlanFile, plant: Plant) -> list[str]:
    """References the plan makes to the plant that do not exist, and missing release settings."""
    products = plant.spec.products
    out = [
        f"work_orders[{i}].product: unknown product {wo.product!r} (expected one of {', '.join(products)})"
        for i, wo in enumerate(plan.work_orders)
        if wo.product not in products
    ]
    out += [f"plan.mix.{code}: unknown product" for code in plan.plan.mix if code not in products]
    mode = plan.plan.release
    if mode == "plan" and not plan.work_orders:
        out.append("work_orders: a 'plan' release needs at least one [[work_orders]] entry")
    if mode != "plan" and not plan.plan.mix:
        out.append(f"plan.mix: a {mode!r} release needs a product mix")
    if mode == "conwip" and plan.plan.wip_cap is None:
        out.append("plan.wip_cap: a 'conwip' release needs a WIP cap")
    if mode == "arrivals" and plan.plan.arrival_mean_min is None and plan.plan.arrival is None:
        out.append("plan.arrival_mean_min: an 'arrivals' release needs the time between units")
    stations = plant.spec.stations
    for sid, by_product in plan.times.items():
        if sid not in stations:
            out.append(f"times.{sid}: unknown station (expected one of {', '.join(stations)})")
        out += [f"times.{sid}.{p}: unknown product" for p in by_product if p != "*" and p not in products]
    seen: dict[str, str] = {}
    for name, crew in plan.crews.items():
        for sid in crew.stations:
            if sid not in stations:
                out.append(f"crews.{name}.stations: unknown station {sid!r}")
            elif sid in seen:
                out.append(f"crews.{name}.stations: {sid} is already in crew {seen[sid]!r}")
            seen[sid] = name
    for i, wo in enumerate(plan.work_orders):
        due = wo.due or plan.plan.due
        release = plan_start(plan, plant) + timedelta(hours=wo.release_h or 0.0)
        if due is not None and plant_local(due, plant) <= release:
            out.append(f"work_orders[{i}].due: {due.isoformat()} is not after the order's release")
    if mode != "plan" and plan.plan.hours is None:
        out.append(f"plan.hours: a {mode!r} release runs until a horizon; give one")
    return out


def plan_start(plan: PlanFile, plant: Plant) -> datetime:
    return plant_local(plan.plan.start, plant)


def plant_local(t: datetime, plant: Plant) -> datetime:
    """A plan file's time; one without an offset is plant-local."""
    return t if t.tzinfo is not None else t.replace(tzinfo=plant.tz)


def floor_orders(plan: PlanFile, plant: Plant, start: datetime | None = None) -> list[PlannedOrder]:
    """The plan's work orders as the floor's plan (`line.plan`): each from its release (the plan's
    start, or `release_h` after it) to its due time. `start` moves the whole plan (the twin plays
    the plan from its own clock); times without an offset are plant-local."""

    given = plan_start(plan, plant)
    shift = (start - given) if start is not None else timedelta(0)
    out = []
    for wo in plan.work_orders:
        due = wo.due or plan.plan.due
        release = given + timedelta(hours=wo.release_h or 0.0)
        moved_due = None if due is None else plant_local(due, plant) + shift
        out.append(PlannedOrder(wo.id, wo.product, wo.quantity, release + shift, moved_due))
    return out


def mix_plan(
    quantities: dict[str, int], lot_size: int, start: datetime, name: str = "Product mix"
) -> PlanFile:
    """A plan built from quantities per product (the simulation page's product mix): one work
    order per product, released in sequence in lots of `lot_size`, from `start`."""
    orders = [
        WorkOrder(id=f"MIX-{code}", product=code, quantity=q, lot_size=min(lot_size, q))
        for code, q in quantities.items()
        if q > 0
    ]
    return PlanFile(plan=PlanHeader(name=name, start=start), work_orders=orders)


def parse_assignment(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` from the command line; VALUE is read as TOML (2, 1.5, true, "x"), else a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {text!r}: expected KEY=VALUE, e.g. stations.MOUNT.machines=2")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def apply_overrides(plant: Plant, overrides: dict[str, Any], source: str) -> Plant:
    """The plant with dotted-key overrides applied, validated again as a whole."""
    if not overrides:
        return plant
    data = plant.spec.model_dump(mode="json", exclude_unset=True)
    for key, value in overrides.items():
        node = data
        parts = key.split(".")
        if parts[0] in plant.spec.stations and parts[0] not in data:  # "ASSY.operators": a station's
            parts = ["stations", *parts]
        for part in parts[:-1]:
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                raise ConfigError(source, [f"set.{key}: {part!r} is not a table of the plant file"])
            node = child
        node[parts[-1]] = value
    return plant_from_dict(data, f"{plant.path} with {source}")


WEEK_H = 168.0


def repeat_weeks(plan: PlanFile, weeks: int) -> PlanFile:
    """The plan's work orders repeated `weeks` times, each copy released a week after the one
    before (ids with -W2, -W3, ...; due times a week later too): a week's plan as a season or a
    year. A plan whose orders are released in sequence (no release_h) gets each copy at the
    start of its week. The horizon, when the plan gives one, grows with it."""
    if weeks < 1:
        raise ValueError("--weeks must be at least 1")
    if weeks == 1:
        return plan
    orders = list(plan.work_orders)
    for k in range(1, weeks):
        shift = timedelta(hours=WEEK_H * k)
        orders += [
            wo.model_copy(update={
                "id": f"{wo.id}-W{k + 1}",
                "release_h": WEEK_H * k + (wo.release_h or 0.0),
                "due": wo.due + shift if wo.due else (plan.plan.due + shift if plan.plan.due else None),
            })
            for wo in plan.work_orders
        ]  # fmt: skip
    head = plan.plan.model_copy(update={"hours": plan.plan.hours * weeks if plan.plan.hours else None,
                                        "name": f"{plan.plan.name} x {weeks} weeks"})  # fmt: skip
    return plan.model_copy(update={"plan": head, "work_orders": orders})
