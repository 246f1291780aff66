"""Batches of a stream (statement parameters come in chunks: SQLite caps their number)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def iter_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for it in items:
        chunk.append(it)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
