"""Splitting a serial byte stream into frames, surviving what real ports deliver.

Bytes arrive in arbitrary chunks: a frame may be split across reads, several may arrive at once,
line noise may precede them. The framer keeps the unfinished tail, caps a frame's length (a
missing terminator must not grow memory without end) and reports what it discards, so nothing
vanishes silently. Framed formats are `STX payload ETX` followed by a two-hex-digit checksum of
the payload when the format has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

STX, ETX = b"\x02", b"\x03"
TERMINATORS = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "ETX": ETX}
Checksum = Literal["none", "xor", "sum"]


KEEP_MAX = 1 << 20  # a discarded line is kept whole up to this size (the dead-letter row cap)


@dataclass
class Framer:
    """`max_len` caps a frame; a longer line is not a frame, but it is kept whole (up to
    `keep_max`, with its full length in the reason) for the dead-letter table, however many reads
    it takes to arrive, while memory stays bounded."""

    terminator: str  # CR, LF, CRLF or ETX
    checksum: Checksum = "none"
    max_len: int = 4096
    keep_max: int = KEEP_MAX
    _buf: bytearray = field(default_factory=bytearray)
    _over: bytearray | None = None  # the kept start of a line that passed max_len, until its end
    _over_len: int = 0  # its full length so far

    def flush(self) -> list[tuple[bytes, str]]:
        """What is left when the stream ends (the port closed, the cable was pulled): an
        unfinished frame is a partial one, kept with that reason."""
        bad: list[tuple[bytes, str]] = []
        if self._over is not None:
            total = self._over_len + len(self._buf)
            kept = bytes((self._over + self._buf)[: self.keep_max])
            bad.append((kept, f"partial line of {total} bytes (longer than {self.max_len}): the port closed before its terminator"))
        elif self._buf.strip():
            bad.append((bytes(self._buf[: self.keep_max]), "partial frame: the port closed before its terminator (unplugged?)"))
        self._buf.clear()
        self._over, self._over_len = None, 0
        return bad

    def feed(self, chunk: bytes) -> tuple[list[bytes], list[tuple[bytes, str]]]:
        """Frames completed by this chunk, and discarded bytes with the reason."""
        self._buf += chunk
        if self.terminator == "ETX":
            return self._framed()
        return self._lines()

    def _lines(self) -> tuple[list[bytes], list[tuple[bytes, str]]]:
        term = TERMINATORS[self.terminator]
        frames: list[bytes] = []
        bad: list[tuple[bytes, str]] = []
        while True:
            i = self._buf.find(term)
            if i < 0:
                break
            frame = bytes(self._buf[:i])
            del self._buf[: i + len(term)]
            if self._over is not None:  # the end of a line that passed max_len
                total = self._over_len + len(frame)
                kept = bytes((self._over + frame)[: self.keep_max])
                bad.append((kept, self._too_long(total, len(kept))))
                self._over, self._over_len = None, 0
                continue
            if self.terminator == "CR":
                frame = frame.lstrip(b"\n")  # a CRLF device on a CR binding: tolerate the LF
            if len(frame) > self.max_len:
                bad.append((frame[: self.keep_max], self._too_long(len(frame), min(len(frame), self.keep_max))))
            elif frame.strip():
                frames.append(frame)
        if len(self._buf) > self.max_len:  # no terminator yet: keep its start, bounded, until it ends
            hold = len(term) - 1  # a CRLF split across reads: keep the CR's place
            move = self._buf[: len(self._buf) - hold]
            if self._over is None:
                self._over, self._over_len = bytearray(), 0
            self._over += move[: max(0, self.keep_max - len(self._over))]
            self._over_len += len(move)
            del self._buf[: len(move)]
        return frames, bad

    def _too_long(self, total: int, kept: int) -> str:
        more = "" if kept == total else f", the first {kept} kept"
        return f"line of {total} bytes, longer than the {self.max_len}-byte frame limit{more}"

    def _framed(self) -> tuple[list[bytes], list[tuple[bytes, str]]]:
        frames: list[bytes] = []
        bad: list[tuple[bytes, str]] = []
        tail = 0 if self.checksum == "none" else 2
        while True:
            start = self._buf.find(STX)
            if start < 0:
                if self._buf.strip():
                    bad.append((bytes(self._buf), "bytes outside an STX...ETX frame"))
                self._buf.clear()
                break
            if start > 0:
                junk = bytes(self._buf[:start])
                if junk.strip():
                    bad.append((junk, "bytes outside an STX...ETX frame"))
                del self._buf[:start]
            end = self._buf.find(ETX)
            if end < 0 or len(self._buf) < end + 1 + tail:
                if len(self._buf) > self.max_len:
                    bad.append((bytes(self._buf[: self.max_len]), f"no ETX within {self.max_len} bytes"))
                    self._buf.clear()
                break
            payload, ck = bytes(self._buf[1:end]), bytes(self._buf[end + 1 : end + 1 + tail])
            del self._buf[: end + 1 + tail]
            if STX in payload:  # a frame restarted before the previous one ended: drop the torn part
                torn, payload = payload.rsplit(STX, 1)
                bad.append((torn, "frame cut short by a new STX"))
            problem = checksum_problem(payload, ck, self.checksum)
            if problem:
                bad.append((STX + payload + ETX + ck, problem))
            else:
                frames.append(payload)
        return frames, bad


def checksum(payload: bytes, kind: Checksum) -> bytes:
    """Two upper-case hex digits: XOR of the payload bytes, or their sum modulo 256."""
    if kind == "none":
        return b""
    value = 0
    for b in payload:
        value = value ^ b if kind == "xor" else (value + b) & 0xFF
    return f"{value:02X}".encode()


def checksum_problem(payload: bytes, got: bytes, kind: Checksum) -> str | None:
    if kind == "none":
        return None
    want = checksum(payload, kind)
    if got.upper() != want:
        return f"checksum mismatch: frame says {got.decode('ascii', 'replace')!r}, {kind} of the payload is {want.decode()!r}"
    return None


def frame(payload: bytes, terminator: str, kind: Checksum = "none") -> bytes:
    """A frame as a device sends it (emulators and tests)."""
    if terminator == "ETX":
        return STX + payload + ETX + checksum(payload, kind)
    return payload + TERMINATORS[terminator]
