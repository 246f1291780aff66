"""Create and serve the Dash app for a plant and a store."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import diskcache  # type: ignore[import-untyped]
from dash import Dash, DiskcacheManager, dcc, html

from dashboard.context import Context, install
from line.config import Plant
from store.base import open_store

PAGES = Path(__file__).parent / "pages"
ASSETS = Path(__file__).parent / "assets"


def create_app(
    plant: Plant, store_url: str, cache_dir: str | None = None, now: Callable[[], datetime] | None = None
) -> Dash:
    """`cache_dir` holds the background jobs (simulations) of this app; a temporary directory
    unless given."""
    cache = diskcache.Cache(cache_dir or tempfile.mkdtemp(prefix="linemon-jobs-"))
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),  # Bootstrap 5.3.9 CSS is served from here: plant PCs have no internet
        title="linemon",
        suppress_callback_exceptions=True,
        background_callback_manager=DiskcacheManager(cache),
    )
    ctx = Context(plant, open_store(store_url)) if now is None else Context(plant, open_store(store_url), now)
    install(app.server, ctx)
    app.layout = lambda: _layout(plant)
    return app


def _layout(plant: Plant) -> html.Div:
    links = [
        dbc.NavItem(dbc.NavLink(p["name"], href=p["relative_path"], active="exact"))
        for p in dash.page_registry.values()
    ]
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(f"linemon · {plant.spec.site.name}", className="fs-4"),
                dbc.Nav(links, navbar=True),
                html.Span(f"times in {plant.spec.site.timezone}", className="text-light small"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    return html.Div([nav, dcc.Location(id="url"), dbc.Container(dash.page_container, fluid=True)])


def serve(plant: Plant, store_url: str, host: str, port: int) -> None:
    app = create_app(plant, store_url)
    print(f"linemon dashboard: http://{host}:{port}/  (store {store_url}; Ctrl-C stops)", flush=True)
    app.run(host=host, port=port, debug=False)
