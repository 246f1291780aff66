import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from line.config import Plant, load_plant, plant_from_dict
from line.errors import ConfigError
from tests.conftest import PLANT_FILE

BASE: dict[str, Any] = tomllib.loads(PLANT_FILE.read_text())


def problems(mutate: Any) -> list[str]:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(ConfigError) as exc:
        plant_from_dict(data, "plant.toml")
    return exc.value.problems


def test_reference_plant_is_complete(plant: Plant) -> None:
    sp = plant.spec
    assert list(sp.lines) == ["SMT1", "ASSY1"]
    assert sp.lines["SMT1"].stations == [
        "PRINT",
        "SPI",
        "MOUNT",
        "REFLOW",
        "INSERT",
        "VI1",
        "WAVE",
        "FCT",
        "VI2",
    ]
    assert sp.lines["ASSY1"].stations == ["ASSY", "AGING", "FT", "OQA", "PACK"]
    families = {p.family for p in sp.products.values()}
    assert {"fish_finder", "radar", "ais", "gps", "vdr"} <= families
    assert all(p.assumed and p.opportunities > 0 for p in sp.products.values())
    assert plant.inspection_route("GPS-70") == ("SPI", "VI1", "FCT", "VI2", "AGING", "FT", "OQA")
    assert sp.site.timezone == "Asia/Seoul"


def test_unknown_key_names_its_path() -> None:
    out = problems(lambda d: d["stations"]["SPI"].update(colour="blue"))
    assert out == ["stations.SPI.colour: unknown key"]


def test_wrong_type_and_impossible_value() -> None:
    def m(d: dict[str, Any]) -> None:
        d["stations"]["FCT"]["machines"] = "four"
        d["products"]["FF-50"]["fpy"]["SPI"] = 1.5

    out = problems(m)
    assert any(p.startswith("stations.FCT.machines:") and "'four'" in p for p in out)
    assert any(p.startswith("products.FF-50.fpy.SPI:") and "less than or equal to 1" in p for p in out)


def test_references_to_missing_things() -> None:
    def m(d: dict[str, Any]) -> None:
        d["products"]["FF-50"]["routing"][7] = "FCTX"
        d["stations"]["SPI"]["line"] = "SMT9"
        d["bindings"][2]["station"] = "NOPE"
        d["bindings"][2]["format"] = "unknown_fmt"

    out = problems(m)
    assert any(p.startswith("products.FF-50.routing[7]: unknown station 'FCTX'") for p in out)
    assert any(p.startswith("stations.SPI.line: unknown line 'SMT9'") for p in out)
    assert any(p.startswith("bindings[2] (fct-jig-1).station: unknown station 'NOPE'") for p in out)
    assert any(
        p.startswith("bindings[2] (fct-jig-1).format: unknown serial format 'unknown_fmt'") for p in out
    )


def test_duplicates_and_flow_order() -> None:
    def m(d: dict[str, Any]) -> None:
        d["lines"]["ASSY1"]["stations"].append("FCT")
        d["products"]["MR-1200"]["routing"] = ["PRINT", "FCT", "SPI", "FCT"]
        d["bindings"][1]["id"] = d["bindings"][0]["id"]

    out = problems(m)
    assert any("lines.ASSY1.stations[5]: station 'FCT' is already listed in lines.SMT1" in p for p in out)
    assert any("products.MR-1200.routing: station 'FCT' appears 2 times" in p for p in out)
    assert any("products.MR-1200.routing: stations are not in flow order" in p for p in out)
    assert any("bindings: id 'spi-mqtt' used 2 times" in p for p in out)


def test_kind_parameters_and_product_times() -> None:
    def m(d: dict[str, Any]) -> None:
        d["stations"]["MOUNT"]["part_s"] = 3.0
        del d["stations"]["MOUNT"]["cph"]
        del d["products"]["VDR-900"]["aging_h"]
        d["stations"]["PRINT"]["fpy"] = 0.9

    out = problems(m)
    assert (
        "stations.MOUNT.part_s: not a parameter of a 'mount' station (allowed: cph, board_overhead_s)" in out
    )
    assert "stations.MOUNT.cph: required for a 'mount' station" in out
    assert "products.VDR-900.aging_h: required, the routing passes 'aging' station 'AGING'" in out
    assert "stations.PRINT.fpy: a 'print' station does not judge units, so it has no yield" in out


def test_calendar_problems() -> None:
    def m(d: dict[str, Any]) -> None:
        d["site"]["timezone"] = "Asia/Jincheon"
        d["calendar"]["shifts"][0]["breaks"].append({"start": "07:00", "end": "07:30"})
        d["calendar"]["shifts"][1]["start"] = "25:00"

    out = problems(m)
    assert any(p.startswith("calendar.shifts[1].start:") for p in out)


def test_calendar_cross_checks() -> None:
    def m(d: dict[str, Any]) -> None:
        d["site"]["timezone"] = "Asia/Jincheon"
        d["calendar"]["shifts"][0]["breaks"].append({"start": "07:00", "end": "07:30"})

    out = problems(m)
    assert "site.timezone: unknown time zone 'Asia/Jincheon' (expected e.g. 'Asia/Seoul')" in out
    assert "calendar.shifts[0].breaks[3]: 07:00-07:30 is not inside the shift 08:30-17:30" in out


def test_toml_syntax_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nid = "x"\nid = "y"\n')
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML"):
        load_plant(bad)
    with pytest.raises(ConfigError, match=r"nothere\.toml: file not found"):
        load_plant(tmp_path / "nothere.toml")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linemon", *args], capture_output=True, text=True, timeout=60
    )


def test_check_config_cli(tmp_path: Path) -> None:
    ok = run_cli("check-config", str(PLANT_FILE))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout and "5 products" in ok.stdout

    js = run_cli("check-config", str(PLANT_FILE), "--json")
    summary = json.loads(js.stdout)
    assert summary["lines"] == ["SMT1", "ASSY1"]
    assert summary["stations"]["FCT"] == {"line": "SMT1", "kind": "fct", "inspects": True}
    assert summary["stations"]["REFLOW"]["inspects"] is False
    assert summary["products"]["GPS-70"]["routing"][:4] == ["PRINT", "SPI", "MOUNT", "REFLOW"]

    broken = tmp_path / "broken.toml"
    broken.write_text(PLANT_FILE.read_text().replace('kind = "spi"', 'kind = "spy"'))
    bad = run_cli("check-config", str(broken))
    assert bad.returncode != 0
    assert "broken.toml: stations.SPI.kind:" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_flow_factor_is_at_least_one() -> None:
    def m(d: dict[str, Any]) -> None:
        d["planning"]["flow_factor"] = 0.5
        d["products"]["FF-50"]["flow_factor"] = "fast"

    out = problems(m)
    assert any(p.startswith("planning.flow_factor:") and "greater than or equal to 1" in p for p in out)
    assert any(p.startswith("products.FF-50.flow_factor:") for p in out)


def test_a_setup_on_a_station_without_setups_is_refused_not_ignored() -> None:
    """setup_min on a function tester would be accepted and change nothing in the simulation."""
    out = problems(lambda d: d["stations"]["FCT"].update(setup_min=20.0))
    assert any(p.startswith("stations.FCT.setup_min: a 'fct' station has no setup on a product change") and
               "print, mount, assembly" in p for p in out), out  # fmt: skip
    out = problems(lambda d: d["stations"]["REFLOW"].update(setup_pair_min={"FF-50>AIS-300": 5.0}))
    assert any(p.startswith("stations.REFLOW.setup_min:") for p in out), out


def test_a_setup_where_the_kind_has_one_changes_the_simulated_makespan(plant: Plant) -> None:
    """The other side of the rule: at a mounter the setup is modelled, so a longer one costs time."""
    from sim.scenarios import compare_whatif

    out = compare_whatif(plant, str(PLANT_FILE.parent / "plans" / "jincheon-week.toml"),
                         {"stations.MOUNT.setup_min": 240}, reps=1)  # fmt: skip
    base, slow = out["baseline"]["makespan_h"]["mean"], out["whatif"]["makespan_h"]["mean"]
    assert slow > base, (base, slow)
