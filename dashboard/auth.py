"""Optional login for the plant network: HTTP Basic authentication against users and roles
given in the environment, off when none are given (the demo).

`LINEMON_USERS` holds comma-separated `name:role:hash` entries; the hash is werkzeug's
(`linemon hash-password` prints one), so no password is kept in clear anywhere. Roles:
`viewer` sees every page; `engineer` may also run simulations, which take the server's CPU.
Basic authentication sends the password with every request: on the plant network put the
dashboard behind a TLS reverse proxy, or keep it to a closed VLAN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import flask
from werkzeug.security import check_password_hash

from line.errors import LinemonError

ENV = "LINEMON_USERS"
ROLES = ("viewer", "engineer")
ENGINEER_ONLY = ("sim-results",)  # outputs of callbacks only an engineer may trigger


@dataclass(frozen=True)
class User:
    name: str
    role: str
    pw_hash: str


def users_from_text(text: str | None) -> dict[str, User]:
    """The users of `LINEMON_USERS`; an error names the entry that is wrong."""
    users: dict[str, User] = {}
    for i, entry in enumerate(e.strip() for e in (text or "").split(",")):
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[2]:
            raise LinemonError(
                f"{ENV} entry {i + 1}: expected name:role:hash (hash from `linemon hash-password`)"
            )
        name, role, pw_hash = parts
        if role not in ROLES:
            raise LinemonError(
                f"{ENV} entry {i + 1} ({name}): role {role!r} is not one of {', '.join(ROLES)}"
            )
        users[name] = User(name, role, pw_hash)
    return users


def install_auth(server: flask.Flask, users: Mapping[str, User]) -> None:
    """Every request must carry a known user's password; callbacks that run simulations also
    need the engineer role (checked on the server, whatever the page shows)."""
    if not users:
        return

    @server.before_request
    def _require_login() -> flask.Response | None:
        auth = flask.request.authorization
        user = users.get(auth.username or "") if auth is not None else None
        if user is None or auth is None or not check_password_hash(user.pw_hash, auth.password or ""):
            return flask.Response(
                "linemon: log in with your plant account", 401, {"WWW-Authenticate": 'Basic realm="linemon"'}
            )
        flask.g.linemon_user = user
        if user.role != "engineer" and _triggers_engineer_only(flask.request):
            return flask.Response("linemon: running simulations needs the engineer role", 403)
        return None


def current_user() -> User | None:
    """The logged-in user of this request (None when login is off)."""
    return flask.g.get("linemon_user")


def _triggers_engineer_only(request: flask.Request) -> bool:
    if not request.path.endswith("_dash-update-component") or request.method != "POST":
        return False
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return False
    return any(out in str(body.get("output", "")) for out in ENGINEER_ONLY)
