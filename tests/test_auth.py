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


def sim_request(plan: str, reps: int = 3, source: str = "plan") -> dict[str, object]:
    """The simulation page's Run request as the browser sends it (and as a crafted one may)."""
    mix = [{"id": {"type": "sim-mix", "product": p}, "property": "value", "value": 0} for p in ("FF-50",)]
    return {
        "output": "..sim-job.data...sim-refused.children..",
        "outputs": [{"id": "sim-job", "property": "data"}, {"id": "sim-refused", "property": "children"}],
        "inputs": [{"id": "sim-run", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["sim-run.n_clicks"],
        "state": [
            {"id": "sim-source", "property": "value", "value": source},
            {"id": "sim-plan", "property": "value", "value": plan},
            mix, mix,
            {"id": "sim-lot", "property": "value", "value": 20},
            {"id": "sim-reps", "property": "value", "value": reps},
            {"id": "sim-whatif", "property": "value", "value": ""},
            {"id": "sim-lang", "property": "value", "value": "en"},
        ],
    }  # fmt: skip


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


def _run(client, user: str, pw: str, body: dict[str, object]) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = client.post("/_dash-update-component", data=orjson.dumps(body),
                    headers={**_basic(user, pw), "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 200, (r.status_code, r.data[:300])
    return orjson.loads(r.data)["response"]  # type: ignore[no-any-return]


def test_only_engineers_run_simulations_by_any_request_shape(client, plant: Plant) -> None:  # type: ignore[no-untyped-def]
    from dashboard.jobs import take_job

    # a viewer is refused by the callback itself, from the logged-in user, whatever the request
    viewer = _run(client, "kim", "line-sup-1", sim_request("jincheon-week"))
    assert "sim-job" not in viewer and "engineer role" in str(viewer["sim-refused"])
    # a job the server did not queue (a forged token, or the old shape naming a file) is refused
    for forged in ("0" * 32, "../../etc/passwd", None):
        with pytest.raises(LinemonError, match="no such simulation job"):
            take_job(forged)
    # an engineer names plans by name only: a path is not one of the server's plans
    crafted = _run(client, "park", "eng-pass-2", sim_request("/etc/passwd"))
    assert "sim-job" not in crafted and "plan '/etc/passwd': not one of this server's plans" in str(crafted)
    too_many = _run(client, "park", "eng-pass-2", sim_request("jincheon-week", reps=1000))
    assert "sim-job" not in too_many and "outside 1..20 ([simulation] max_replications)" in str(too_many)
    ok = _run(client, "park", "eng-pass-2", sim_request("jincheon-week"))
    job = take_job(ok["sim-job"]["data"])
    assert job["plant"] == plant.path and job["plan"].endswith("plans/jincheon-week.toml") and job["reps"] == 3
    with pytest.raises(LinemonError):  # taken once
        take_job(ok["sim-job"]["data"])


def test_login_answers_alike_for_unknown_and_known_names_and_locks_after_failures(client) -> None:  # type: ignore[no-untyped-def]
    """An unknown name costs the same hash check as a known one with a wrong password (medians
    of this thread's CPU time within noise: the test client runs the request here, so the
    machine's other load does not enter), and five failures lock the name (known or not) with 429."""
    import statistics
    import time

    def took(user: str) -> float:
        t0 = time.thread_time()
        assert client.get("/overview", headers=_basic(user, "wrong")).status_code in (401, 429)
        return time.thread_time() - t0

    # spread the names over many so the lockout (5 failures a name) does not end the sample
    known = [took("kim") for _ in range(4)] + [took("park") for _ in range(4)]
    unknown = [took(f"nobody{i}") for i in range(8)]
    a, b = statistics.median(known), statistics.median(unknown)
    assert min(a, b) / max(a, b) > 0.5, (known, unknown)  # without the dummy check: ~0 s vs ~0.1 s
    for _ in range(5):
        client.get("/overview", headers=_basic("ghost", "x"))
    locked = client.get("/overview", headers=_basic("ghost", "x"))
    assert locked.status_code == 429 and "too many failed logins" in locked.get_data(as_text=True)
    assert client.get("/overview", headers=_basic("park", "eng-pass-2")).status_code == 200  # others unaffected


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
