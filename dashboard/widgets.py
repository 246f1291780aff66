"""Small layout pieces every page uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc

from line.i18n import lang_of, t


def choice(
    id_: str, options: Mapping[str, str], value: str, large: bool = True, lang: str | None = None
) -> dbc.RadioItems:
    """Inline radio buttons: `options` maps value -> label (readable on a floor PC), in `lang`."""
    return dbc.RadioItems(
        id=id_,
        options=[{"label": t(label, lang), "value": key} for key, label in options.items()],
        value=value,
        inline=True,
        className="fs-5" if large else "",
    )


def graph(id_: str | None = None, lang: str | None = None, **kwargs: Any) -> dcc.Graph:
    """A Plotly graph in `lang`: date ticks, month names and the mode bar through Plotly's locale
    (`assets/plotly-locale-ko.js`)."""
    if id_ is not None:
        kwargs["id"] = id_
    return dcc.Graph(config={"locale": lang_of(lang)}, **kwargs)
