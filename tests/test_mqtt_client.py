"""The ingest's paho client (drivers.mqtt_client): its read-ahead socket on a real socket pair,
its bulk acknowledgements on a private mosquitto, and the paho internals it is built on."""

from __future__ import annotations

import inspect
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from drivers.mqtt_client import IngestClient, ReadAheadSocket
from tests.infra import Broker, wait_for


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_paho_still_has_the_internals_the_client_is_built_on() -> None:
    """An upgrade of paho that renames or reshapes them fails here, not at the plant."""
    assert list(inspect.signature(mqtt.Client._create_socket).parameters) == ["self"]
    assert list(inspect.signature(mqtt.Client._packet_queue).parameters)[:5] == [
        "self", "command", "packet", "mid", "qos",
    ]  # fmt: skip
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, manual_ack=True)
    assert c._manual_ack is True and c._transport == "tcp" and c._sock is None
    assert mqtt.PUBACK == 0x40


def test_read_ahead_serves_small_reads_from_one_receive(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    sock = ReadAheadSocket(b)
    a.sendall(b"\x30\x05hello\x30\x03abc")  # two packets in one segment
    assert sock.recv(1) == b"\x30" and sock.buffered() == 11 and sock.pending() == 11
    assert [sock.recv(1), sock.recv(5)] == [b"\x05", b"hello"]
    assert sock.recv(100) == b"\x30\x03abc"  # what is buffered, not more (paho asks again)
    assert sock.buffered() == 0
    with pytest.raises(BlockingIOError):  # nothing buffered, nothing in the kernel: as a socket
        sock.recv(1)


def test_read_ahead_hands_out_a_packet_split_across_segments(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    sock = ReadAheadSocket(b)
    a.sendall(b"\x30\x08abc")
    assert [sock.recv(1), sock.recv(1), sock.recv(8)] == [b"\x30", b"\x08", b"abc"]
    a.sendall(b"defgh")
    assert sock.recv(5) == b"defgh"
    a.close()
    assert sock.recv(1) == b""  # the peer closed: paho sees the end of the connection
    assert sock.fileno() == b.fileno()  # everything else is the socket's own


class _Session:
    """An IngestClient on the persistent session "bulk", subscribed to t/#, acknowledging
    manually: every `every` messages in one `ack_many`, except the message `hold` (a payload)."""

    def __init__(self, broker: Broker, every: int = 10, hold: bytes | None = None) -> None:
        self.got: list[bytes] = []
        self._mids: list[int] = []
        self.broker, self.every, self.hold = broker, every, hold
        self.client = IngestClient(
            mqtt.CallbackAPIVersion.VERSION2, client_id="bulk", clean_session=False, manual_ack=True
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.on_connect = lambda cl, *_a: cl.subscribe("t/#", qos=1)
        self._gone = threading.Event()
        self.client.on_disconnect = lambda *_a: self._gone.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "not subscribed"

    def _on_message(self, _c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        self.got.append(m.payload)
        if m.payload != self.hold:
            self._mids.append(m.mid)
        if len(self._mids) >= self.every:
            self.client.ack_many(self._mids)
            self._mids = []

    def close(self, until: bytes) -> list[bytes]:
        """Wait for the message `until`, acknowledge what is left, disconnect: what came."""
        wait_for(lambda: until in self.got, 30, f"{until!r} not received ({len(self.got)} messages)")
        self.client.ack_many(self._mids)
        wait_for(lambda: not self.client.want_write(), 10, "acknowledgements not written")
        self.leave()
        return self.got

    def leave(self) -> None:
        """Disconnect, and wait until the broker has read the DISCONNECT and so everything sent
        before it: a client that connects again while the broker has not yet read its old
        connection takes the session over, and mosquitto drops what it had not read of it."""
        before = _left(self.broker)
        self.client.disconnect()
        assert self._gone.wait(10), "not disconnected"
        self.client.loop_stop()
        wait_for(lambda: _left(self.broker) > before, 10, "the broker did not see the DISCONNECT")


def _left(broker: Broker) -> int:
    """Clean disconnects of the session's client the broker has logged."""
    return (broker.dir / "mosquitto.log").read_text().count("Client bulk disconnected.")


def _publish(broker: Broker, payloads: list[bytes]) -> None:
    pub = broker.client("pub")  # its network loop is running
    for p in payloads:
        pub.publish("t/x", p, qos=1).wait_for_publish(10)
    pub.disconnect()
    pub.loop_stop()


def test_bulk_acknowledgements_settle_exactly_the_messages_acknowledged(tmp_path: Path) -> None:
    """500 messages queued on a persistent session, received through the broker's in-flight
    window (20: more come only as earlier ones are acknowledged) and acknowledged ten at a time,
    but one. After a reconnect the broker delivers that one again, before a new message; once
    it is acknowledged, a reconnect delivers only the new message."""
    broker = Broker(tmp_path)
    try:
        _Session(broker).leave()  # the session exists from now on: the broker queues for it
        sent = [f"m{i}".encode() for i in range(500)]
        _publish(broker, sent)
        first = _Session(broker, hold=b"m250").close(until=b"m499")
        assert first == sent
        _publish(broker, [b"new-1"])
        assert _Session(broker).close(until=b"new-1") == [b"m250", b"new-1"]
        _publish(broker, [b"new-2"])
        assert _Session(broker).close(until=b"new-2") == [b"new-2"]
    finally:
        broker.stop()
