"""Error types whose messages are meant for people, not for tracebacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError


class LinemonError(Exception):
    """Base of every error linemon reports to a user as a message (never as a traceback)."""


class RecordError(LinemonError):
    """A result or state record that cannot be accepted; the message says which key and why."""


class ConfigError(LinemonError):
    """A plant file with one or more problems; `problems` holds one line per problem."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__("\n".join(f"{path}: {p}" for p in self.problems))


def key_path(loc: Iterable[int | str]) -> str:
    """Render a pydantic location as `products.FF-50.routing[3]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_validation(
    exc: ValidationError, limit: int = 20, hide: frozenset[str] = frozenset()
) -> list[str]:
    """One readable line per pydantic error: the key path, what was wrong, what was given.

    `hide` drops location parts that are pydantic internals (e.g. a discriminated union's tag).
    """
    lines = []
    for err in exc.errors()[:limit]:
        loc = [p for p in err["loc"] if p not in hide and not str(p).startswith("function-")]
        msg = err["msg"]
        if err["type"] == "union_tag_not_found":
            loc, msg = [*loc, "schema"], "required key is missing"
        elif err["type"] == "union_tag_invalid":
            msg = f"schema must be one of {err['ctx']['expected_tags']}"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        given = err.get("input")
        quiet = err["type"] in ("missing", "extra_forbidden", "union_tag_not_found")
        shown = "" if quiet else f" (got {given!r:.60})"
        lines.append(f"{key_path(loc)}: {msg}{shown}")
    return lines
