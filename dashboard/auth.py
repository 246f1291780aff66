"""Optional login for the plant network: HTTP Basic authentication against users and roles
given in the environment, off when none are given (the demo).

`LINEMON_USERS` holds comma-separated `name:role:hash` entries; the hash is werkzeug's
(`linemon hash-password` prints one), so no password is kept in clear anywhere. Roles:
`viewer` sees every page; `engineer` may also run simulations, which take the server's CPU.
Basic authentication sends the password with every request: on the plant network put the
dashboard behind a TLS reverse proxy, or keep it to a closed VLAN.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import flask
from werkzeug.security import check_password_hash, generate_password_hash

from line.errors import LinemonError

log = logging.getLogger("linemon.auth")
ENV = "LINEMON_USERS"
ROLES = ("viewer", "engineer")
MAX_FAILURES = 5  # failed logins for one name within FAILURE_WINDOW_S lock it for LOCK_S
FAILURE_WINDOW_S = 900.0
LOCK_S = 300.0


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


@dataclass
class Failures:
    """Failed logins per user name (known or not: locking only known names would tell which
    exist), kept on the app (not module-wide)."""

    times: dict[str, deque[float]] = field(default_factory=dict)
    locked_until: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def locked(self, name: str, now: float) -> float:
        """Seconds `name` stays locked (0: not locked)."""
        with self.lock:
            return max(0.0, self.locked_until.get(name, 0.0) - now)

    def failed(self, name: str, now: float, source: str | None) -> None:
        with self.lock:
            recent = self.times.setdefault(name, deque())
            recent.append(now)
            while recent and recent[0] < now - FAILURE_WINDOW_S:
                recent.popleft()
            if len(recent) >= MAX_FAILURES:
                self.locked_until[name] = now + LOCK_S
                recent.clear()
                log.warning("login: %d failed attempts for user %r (last from %s): locked for %g s",
                            MAX_FAILURES, name, source, LOCK_S)  # fmt: skip


def install_auth(server: flask.Flask, users: Mapping[str, User]) -> None:
    """Every request must carry a known user's password. An unknown name costs the same hash
    check as a known one (answer times do not tell which names exist), and repeated failures lock
    the name for a while, with a log line. Roles are checked where the work is asked for (the
    simulation page's callback reads `current_user()`)."""
    if not users:
        return
    method = next(iter(users.values())).pw_hash.split("$", 1)[0]  # the users' own hashing cost
    try:
        dummy = generate_password_hash(secrets.token_hex(8), method=method)
    except ValueError:  # a hash method werkzeug does not know: every login fails anyway
        dummy = generate_password_hash(secrets.token_hex(8))
    failures = Failures()

    @server.before_request
    def _require_login() -> flask.Response | None:
        auth = flask.request.authorization
        name = (auth.username or "") if auth is not None else ""
        now = time.monotonic()
        wait = failures.locked(name, now) if name else 0.0
        if wait:
            return flask.Response(f"linemon: too many failed logins; try again in {wait / 60:.0f} min", 429,
                                  {"Retry-After": str(int(wait) + 1)})  # fmt: skip
        user = users.get(name)
        ok = check_password_hash(user.pw_hash if user else dummy, (auth.password or "") if auth else "")
        if user is None or not ok or auth is None:
            if auth is not None:
                failures.failed(name, now, flask.request.remote_addr)
            return flask.Response(
                "linemon: log in with your plant account", 401, {"WWW-Authenticate": 'Basic realm="linemon"'}
            )
        flask.g.linemon_user = user
        return None


def current_user() -> User | None:
    """The logged-in user of this request (None when login is off)."""
    return flask.g.get("linemon_user")
