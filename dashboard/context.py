"""Per-app context (plant and store) kept on the Flask app, not in module globals.

Callbacks run inside Flask's request context, so `current()` finds the context of the app that
serves the request; two apps in one process (as in tests) never see each other's store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import flask

from line.config import Plant
from store.base import Store

KEY = "linemon"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What the pages need: the plant, the store, and the clock (passed in, so benchmarks and
    tests can look at a store's data as of its own time)."""

    plant: Plant
    store: Store
    now: Callable[[], datetime] = _utc_now


def install(server: flask.Flask, ctx: Context) -> None:
    server.extensions[KEY] = ctx


def current() -> Context:
    ctx: Context = flask.current_app.extensions[KEY]
    return ctx
