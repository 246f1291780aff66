"""Small layout pieces every page uses."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc

from dashboard.i18n import t


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
