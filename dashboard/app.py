"""Create and serve the Dash app for a plant and a store."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
import diskcache  # type: ignore[import-untyped]
from dash import Dash, DiskcacheManager, Input, Output, dcc, html

from dashboard.auth import User, install_auth
from dashboard.context import Context, current, install
from line.config import Plant
from line.errors import LinemonError
from line.i18n import LANGS, lang_of, t
from store.base import open_store, store_now

log = logging.getLogger("linemon.dashboard")
PAGES = Path(__file__).parent / "pages"
ASSETS = Path(__file__).parent / "assets"


def create_app(
    plant: Plant,
    store_url: str,
    cache_dir: str | None = None,
    now: Callable[[], datetime] | None = None,
    users: Mapping[str, User] | None = None,
) -> Dash:
    """`cache_dir` holds the background jobs (simulations) of this app; a temporary directory
    unless given. `users`: the login (dashboard.auth); none, no login."""
    cache = diskcache.Cache(cache_dir or tempfile.mkdtemp(prefix="linemon-jobs-"))
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),  # Bootstrap 5.3.9 CSS is served from here: plant PCs have no internet
        title="linemon",
        suppress_callback_exceptions=True,
        background_callback_manager=DiskcacheManager(cache),
        on_error=show_callback_error,
    )
    store = open_store(store_url)
    ctx = Context(plant, store, now or partial(store_now, store))  # the store's own clock: a twin's, or the wall's
    install(app.server, ctx)
    install_auth(app.server, users or {})
    app.layout = lambda: _layout(plant)
    # registered on this app, not module-wide: Dash hands module-level callbacks to the first app
    # made in a process only (tests make several)
    app.callback(
        Output("nav-links", "children"),
        Output("nav-tz", "children"),
        Output("nav-brand", "children"),
        Output("lang-en", "href"),
        Output("lang-ko", "href"),
        Input(PAGES_LOCATION, "pathname"),  # the location Dash's page router follows: the same
        Input(PAGES_LOCATION, "search"),  # trigger as the page content, so the two always agree
    )(translate_nav)
    return app


def _layout(plant: Plant) -> html.Div:
    nav = dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(f"linemon · {plant.spec.site.name}", className="fs-4", id="nav-brand"),
                dbc.Nav(nav_links("/", "en"), navbar=True, id="nav-links"),
                html.Div(
                    [
                        html.Span(
                            f"times in {plant.spec.site.timezone}",
                            id="nav-tz",
                            className="text-light small me-3",
                        ),
                        *[
                            dcc.Link(
                                label, href=f"?lang={code}", id=f"lang-{code}", className="text-light me-2"
                            )
                            for code, label in LANGS.items()
                        ],
                    ]
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        className="mb-3",
    )
    alert = dbc.Alert(id=ERROR_ALERT, is_open=False, color="danger", dismissable=True)
    return html.Div([nav, dbc.Container([alert, dash.page_container], fluid=True)])


ERROR_ALERT = "app-error"


def show_callback_error(err: Exception) -> None:
    """Dash's handler for a callback that raised: the page says why in an alert, instead of
    staying stale with the reason in the server log only. A linemon error carries its own
    message (a store that cannot answer, e.g. a query the InfluxDB store does not have yet);
    anything else is a bug, logged with its traceback and not shown to the user."""
    if isinstance(err, LinemonError):
        text = str(err)
    else:
        log.error("a dashboard callback failed", exc_info=err)
        text = "This view could not be updated (an internal error; the server log has the details)."
    dash.set_props(ERROR_ALERT, {"children": text, "is_open": True})


PAGES_LOCATION = "_pages_location"  # dash.dash._ID_LOCATION, inside dash.page_container


def nav_links(path: str, lang: str) -> list[dbc.NavItem]:
    """The pages in the navigation bar, in `lang`, keeping the language in every link."""
    return [
        dbc.NavItem(
            dbc.NavLink(
                t(p["name"], lang),
                href=f"{p['relative_path']}?lang={lang}",
                active=p["relative_path"] == path,
            )
        )
        for p in dash.page_registry.values()
    ]


def translate_nav(path: str | None, search: str | None) -> tuple[object, ...]:
    query = parse_qs((search or "").lstrip("?"))
    lang = lang_of(query.get("lang", ["en"])[0])
    plant = current().plant
    return (
        nav_links(path or "/", lang),
        t("times in {tz}", lang, tz=plant.spec.site.timezone),
        f"linemon · {plant.name_of('site', plant.spec.site.id, lang)}",
        *(switch_language(path, query, c) for c in ("en", "ko")),
    )


def switch_language(path: str | None, query: dict[str, list[str]], lang: str) -> str:
    """The same page in `lang`, its other parameters kept (a TV wall's `?tv=1` stays a TV wall)."""
    return f"{path or '/'}?{urlencode({**query, 'lang': [lang]}, doseq=True)}"


def serve(
    plant: Plant,
    store_url: str,
    host: str,
    port: int,
    users: Mapping[str, User] | None = None,
    threads: int = 8,
) -> None:
    """Serve on waitress, a production WSGI server (pure Python, so the same on Linux and on a
    Windows floor PC), with `threads` request threads; not Flask's development server."""
    import waitress

    app = create_app(plant, store_url, users=users)
    print(f"linemon dashboard: http://{host}:{port}/  (store {store_url}; {threads} threads; Ctrl-C stops)", flush=True)
    waitress.serve(app.server, host=host, port=port, threads=threads, ident="linemon")
