"""Per-app context (plant and store) kept on the Flask app, not in module globals.

Callbacks run inside Flask's request context, so `current()` finds the context of the app that
serves the request; two apps in one process (as in tests) never see each other's store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import flask

from line.config import Plant
from store.base import Store

KEY = "linemon"
T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class TickCache:
    """One computation per key for every client asking within its lifetime: every TV wall and
    floor PC refreshing the andon in the same 5 s tick gets the figures computed once (the others
    wait for that computation rather than repeat it). Bounded: expired entries are dropped."""

    def __init__(self, most: int = 256) -> None:
        self.most = most
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, ttl_s: float, compute: Callable[[], T]) -> T:
        with self._guard:
            hit = self._values.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return cast(T, hit[1])
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one client computes; the others of the tick wait and take its result
            with self._guard:
                hit = self._values.get(key)
                if hit is not None and hit[0] > time.monotonic():
                    return cast(T, hit[1])
            value = compute()
            with self._guard:
                now = time.monotonic()
                if len(self._values) >= self.most:
                    for k in [k for k, (exp, _) in self._values.items() if exp <= now]:
                        self._values.pop(k, None)
                        self._locks.pop(k, None)
                    if len(self._values) >= self.most:
                        self._values.clear()
                self._values[key] = (now + ttl_s, value)
            return value


@dataclass(frozen=True)
class Context:
    """What the pages need: the plant, the store, and the clock (passed in, so benchmarks and
    tests can look at a store's data as of its own time), and the app's shared tick cache."""

    plant: Plant
    store: Store
    now: Callable[[], datetime] = _utc_now
    cache: TickCache = field(default_factory=TickCache, compare=False)


def install(server: flask.Flask, ctx: Context) -> None:
    server.extensions[KEY] = ctx


def current() -> Context:
    ctx: Context = flask.current_app.extensions[KEY]
    return ctx
