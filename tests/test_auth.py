"""The dashboard's optional login: users and roles from LINEMON_USERS, HTTP Basic, the engineer
role for simulations (checked on the server), and the hash-password command."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.app import create_app
from dashboard.auth import users_from_text
from line.config import Plant
from line.errors import LinemonError
from store.sqlite import SqliteStore

USERS = ",".join(
    [
        f"kim:viewer:{generate_password_hash('line-sup-1')}",
        f"park:engineer:{generate_password_hash('eng-pass-2')}",
    ]
)
SIM_RUN = {"output": "sim-results.children", "outputs": {"id": "sim-results", "property": "children"},
           "inputs": [{"id": "sim-run", "property": "n_clicks", "value": 1}], "changedPropIds": ["sim-run.n_clicks"]}  # fmt: skip


def _basic(user: str, pw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


@pytest.fixture
def client(tmp_path: Path, plant: Plant):  # type: ignore[no-untyped-def]
    SqliteStore(tmp_path / "a.db").close()
    app = create_app(
        plant, f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path / "jobs"), users=users_from_text(USERS)
    )
    return app.server.test_client()


def test_login_is_off_without_users(tmp_path: Path, plant: Plant) -> None:
    SqliteStore(tmp_path / "a.db").close()
    app = create_app(
        plant, f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path / "jobs"), users=users_from_text("")
    )
    assert app.server.test_client().get("/overview").status_code == 200


def test_every_page_needs_a_known_user_and_password(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/overview")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="linemon"'
    assert client.get("/overview", headers=_basic("kim", "wrong")).status_code == 401
    assert client.get("/overview", headers=_basic("nobody", "line-sup-1")).status_code == 401
    assert client.get("/_dash-layout", headers=_basic("kim", "line-sup-1")).status_code == 200
    assert client.get("/overview", headers=_basic("park", "eng-pass-2")).status_code == 200


def test_only_engineers_run_simulations(client) -> None:  # type: ignore[no-untyped-def]
    viewer = client.post("/_dash-update-component", data=orjson.dumps(SIM_RUN), headers={
        **_basic("kim", "line-sup-1"), "Content-Type": "application/json"})  # fmt: skip
    assert viewer.status_code == 403 and b"engineer role" in viewer.data
    engineer = client.post("/_dash-update-component", data=orjson.dumps(SIM_RUN), headers={
        **_basic("park", "eng-pass-2"), "Content-Type": "application/json"})  # fmt: skip
    assert engineer.status_code not in (401, 403), engineer.status_code  # past the login: Dash has it


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kim:viewer", "LINEMON_USERS entry 1: expected name:role:hash"),
        (
            "kim:viewer:h1,lee:boss:h2",
            "LINEMON_USERS entry 2 (lee): role 'boss' is not one of viewer, engineer",
        ),
    ],
)
def test_bad_user_entries_are_named(text: str, message: str) -> None:
    with pytest.raises(LinemonError, match=message.replace("(", r"\(").replace(")", r"\)")):
        users_from_text(text)


def test_hash_password_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "linemon", "hash-password"],
        input="plant-pass-9\n",
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert check_password_hash(out.stdout.strip(), "plant-pass-9")
    short = subprocess.run(
        [sys.executable, "-m", "linemon", "hash-password"], input="abc\n", capture_output=True, text=True
    )
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
