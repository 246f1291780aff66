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


@dataclass
class Framer:
    terminator: str  # CR, LF, CRLF or ETX
    checksum: Checksum = "none"
    max_len: int = 4096
    _buf: bytearray = field(default_factory=bytearray)

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
            if self.terminator == "CR":
                frame = frame.lstrip(b"\n")  # a CRLF device on a CR binding: tolerate the LF
            if len(frame) > self.max_len:
                bad.append((frame[: self.max_len], f"frame longer than {self.max_len} bytes"))
            elif frame.strip():
                frames.append(frame)
        if len(self._buf) > self.max_len:
            bad.append((bytes(self._buf[: self.max_len]), f"no terminator within {self.max_len} bytes"))
            self._buf.clear()
        return frames, bad

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
