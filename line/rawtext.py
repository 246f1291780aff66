"""Raw input shown safely: a dead letter's bytes on a terminal or a page never carry control
characters (a terminal escape in a rejected frame must not clear the operator's screen)."""

from __future__ import annotations


def safe_text(raw: bytes, most: int = 60) -> str:
    """Printable ASCII as is, every other byte escaped (\\x1b, \\r ...), cut to `most` characters
    with an ellipsis."""
    text = "".join(chr(b) if 32 <= b < 127 else repr(bytes([b]))[2:-1] for b in raw[: most * 4])
    return text if len(text) <= most else text[: most - 1] + "…"
