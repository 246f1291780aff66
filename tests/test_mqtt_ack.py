"""Manual acknowledgement through paho's public API (`manual_ack=True`, `Client.ack`), on a
private mosquitto: the broker delivers again exactly the messages not acknowledged, which is what
the ingest relies on to acknowledge a message only after the store committed it."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.infra import Broker, wait_for


class _Session:
    """A paho client on the persistent session "bulk", subscribed to t/#, acknowledging
    manually in chunks of `every` messages (as the ingest does per commit), except the message
    `hold` (a payload)."""

    def __init__(self, broker: Broker, every: int = 10, hold: bytes | None = None) -> None:
        self.got: list[bytes] = []
        self._mids: list[int] = []
        self.broker, self.every, self.hold = broker, every, hold
        self.client = mqtt.Client(
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
            self._ack()

    def _ack(self) -> None:
        for mid in self._mids:
            self.client.ack(mid, 1)
        self._mids = []

    def close(self, until: bytes) -> list[bytes]:
        """Wait for the message `until`, acknowledge what is left, disconnect: what came."""
        wait_for(lambda: until in self.got, 30, f"{until!r} not received ({len(self.got)} messages)")
        self._ack()
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


def test_manual_acknowledgements_settle_exactly_the_messages_acknowledged(tmp_path: Path) -> None:
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
