"""Per-app context (plant and store) kept on the Flask app, not in module globals.

Callbacks run inside Flask's request context, so `current()` finds the context of the app that
serves the request; two apps in one process (as in tests) never see each other's store.
"""

from __future__ import annotations

from dataclasses import dataclass

import flask

from line.config import Plant
from store.base import Store

KEY = "linemon"


@dataclass(frozen=True)
class Context:
    plant: Plant
    store: Store


def install(server: flask.Flask, ctx: Context) -> None:
    server.extensions[KEY] = ctx


def current() -> Context:
    ctx: Context = flask.current_app.extensions[KEY]
    return ctx
