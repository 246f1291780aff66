"""The ingest's paho client: reads the socket ahead and acknowledges a committed chunk at once.

paho-mqtt 2 reads every packet with three or four `recv` calls (one byte for the type, one per
byte of its length, then the rest) and waits in `select` before each packet; it writes every
acknowledgement with a wake-up of its network thread and a `send` of its own. On a stream of
small QoS 1 messages the kernel's share alone was more than a quarter of the network thread's
CPU (7.7 of 28 us per message, measured per thread while draining a backlog). This client:

- reads whatever the kernel holds in one `recv` and serves paho's small reads from it
  (`ReadAheadSocket`); `pending()` tells paho's loop that bytes are waiting, the same way an SSL
  socket tells it of a decrypted record, so the loop reads them without waiting in `select`;
- handles every complete packet already read in one `loop_read`;
- sends the PUBACKs of a committed chunk as one packet queued once (`ack_many`).

Built on paho's `_create_socket` and `_packet_queue`, which are not public: `tests/test_mqtt_client`
checks they exist with the signatures relied on, so an upgrade of paho that changes them fails
the tests instead of the plant's ingest; pyproject pins paho below its next minor version.
"""

from __future__ import annotations

import struct
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import MQTTErrorCode

PUBACK = 0x40
_PUBACK = struct.Struct("!BBH")  # type, remaining length 2, message id
READ_AHEAD = 65536
MAX_PACKETS_PER_READ = 1000  # then the loop writes and keeps the connection alive again


class ReadAheadSocket:
    """A socket whose `recv` takes all the kernel has (up to 64 KiB) and hands it out in the
    sizes asked for. Everything else is the wrapped socket's own (`fileno` for select, `send`,
    `close`, ...)."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._inner_pending = getattr(sock, "pending", None)  # an SSL socket's decrypted bytes
        self._data = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos < len(self._data):
            out = self._data[self._pos : self._pos + size]
            self._pos += len(out)
            return out
        data: bytes = self._sock.recv(max(size, READ_AHEAD))  # BlockingIOError and SSL errors go to paho
        if len(data) <= size:
            return data
        self._data, self._pos = data, size
        return data[:size]

    def buffered(self) -> int:
        return len(self._data) - self._pos

    def pending(self) -> int:
        """Bytes readable without waiting: paho's loop skips `select` while there are any."""
        inner = self._inner_pending() if self._inner_pending is not None else 0
        return self.buffered() + inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class IngestClient(mqtt.Client):
    """paho's client with read-ahead and bulk acknowledgements (see the module's docstring)."""

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        return sock if self._transport == "websockets" else ReadAheadSocket(sock)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """paho reads one packet per call on a subscribing connection; go on while complete
        packets are already read ahead (a partial one waits for its remaining bytes)."""
        rc = super().loop_read(max_packets)
        for _ in range(MAX_PACKETS_PER_READ):
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not self._read_ahead():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _read_ahead(self) -> int:
        sock = self._sock  # None once the connection is closed
        return sock.buffered() if isinstance(sock, ReadAheadSocket) else 0

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages: their PUBACKs go out as one write. Like `ack`, a no-op
        unless the client acknowledges manually; on a lost connection paho drops what is queued
        and the broker delivers the messages again."""
        if self._manual_ack and mids:
            self._packet_queue(PUBACK, b"".join([_PUBACK.pack(PUBACK, 2, m) for m in mids]), 0, 0)
