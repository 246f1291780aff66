"""The MQTT I/O shell (paho-mqtt 2, public API only): one client for every MQTT binding of the plant.

QoS 1, a stable client id and a persistent session (clean_session false), so the broker keeps
messages while the ingest is away; topics are subscribed again on every connect. Messages are
acknowledged manually (`manual_ack=True`, `Client.ack`), after the writer has committed them: a
message the broker considers delivered is stored. The network thread only hands messages over (the writer parses them);
callbacks never raise (an exception inside one kills paho's thread silently).
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from drivers.ingest import Batch, Health, RawMessage
from line.config import Plant
from line.config_model import BindingDef, MqttSettings
from line.errors import LinemonError

log = logging.getLogger("linemon.mqtt")


class MqttIntake:
    """What every MQTT intake does with a message: find the binding whose subscription matches
    (the first in the plant file's order), count it, hand it to the writer untouched."""

    def __init__(
        self, bindings: list[BindingDef], put: Callable[[Batch | RawMessage], None], health: dict[str, Health]
    ) -> None:
        self.bindings, self.put, self.health = bindings, put, health
        self._by_topic: dict[str, BindingDef | None] = {}

    def _status(self, status: str, detail: str | None = None) -> None:
        """Every MQTT binding shares the connection, and so does the catch-all "mqtt" source."""
        for source in [b.id for b in self.bindings] + ["mqtt"]:
            if source in self.health:
                self.health[source].set(status, detail)

    def deliver(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        """A message on no binding's topic (a subscription the persistent session kept from an
        older plant file) goes the same way, under the "mqtt" source: the writer dead-letters it
        and it is acknowledged like any other."""
        binding = self._binding(topic)
        source = binding.id if binding else "mqtt"
        self.health[source].message()
        self.put(RawMessage(source, topic, payload, mid, qos))

    def _binding(self, topic: str) -> BindingDef | None:
        """The binding whose subscription matches; remembered per topic (a plant has few)."""
        if topic in self._by_topic:
            return self._by_topic[topic]
        found = next((b for b in self.bindings if mqtt.topic_matches_sub(b.topic or "", topic)), None)
        if len(self._by_topic) < 10_000:
            self._by_topic[topic] = found
        return found


class LocalBus(MqttIntake):
    """The MQTT bindings without a broker: a publisher in the same process (the line twin where
    no mosquitto is installed) hands messages straight to the intake. Nothing to acknowledge:
    a message is in the writer's queue once `publish` returns."""

    def start(self) -> None:
        self._status("connected", "in-process bus (no broker)")

    def pause(self) -> None:
        """Nothing to pause: without a broker, a message not taken would be lost."""

    def close(self) -> None:
        self._status("stopped")

    def ack(self, acks: list[tuple[int, int]]) -> None:
        """Nothing to acknowledge without a broker."""

    def publish(self, topic: str, payload: bytes) -> None:
        self.deliver(topic, payload, 0, 0)


def check_settings(cfg: MqttSettings) -> None:
    """Settings that cannot work are a clear start-up error, not an endless "connecting": a user
    name whose password variable is unset, a CA file that cannot be read as certificates, a client
    certificate or key that cannot be loaded."""
    if cfg.username and os.environ.get(cfg.password_env) is None:
        raise LinemonError(
            f"[mqtt] username {cfg.username!r} is set but the password variable ${cfg.password_env} is not: "
            "set it in the ingest's environment (never in the plant file)"
        )
    if (cfg.cert_file or cfg.key_file or cfg.ca_file) and not cfg.tls:
        raise LinemonError("[mqtt] ca_file, cert_file and key_file need tls = true")
    if cfg.key_file and not cfg.cert_file:
        raise LinemonError("[mqtt] key_file is set without cert_file")
    if cfg.tls:
        tls_context(cfg)


def tls_context(cfg: MqttSettings) -> ssl.SSLContext:
    """The TLS context of [mqtt]: its CA and, if given, the ingest's own certificate; a file that
    cannot be loaded is an error naming it."""
    try:
        ctx = ssl.create_default_context(cafile=cfg.ca_file)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise LinemonError(f"[mqtt] ca_file {cfg.ca_file!r}: cannot be used as the broker's CA ({exc})") from None
    if cfg.cert_file:
        try:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        except (OSError, ssl.SSLError, ValueError) as exc:
            files = " and key_file " + repr(cfg.key_file) if cfg.key_file else ""
            raise LinemonError(
                f"[mqtt] cert_file {cfg.cert_file!r}{files}: cannot be used as the ingest's certificate ({exc})"
            ) from None
    return ctx


def secure(client: mqtt.Client, cfg: MqttSettings) -> None:
    """User name, password (from the environment) and TLS of the plant file's [mqtt] on a client."""
    if cfg.username:
        client.username_pw_set(cfg.username, os.environ.get(cfg.password_env))
    if cfg.tls:
        client.tls_set(
            ca_certs=cfg.ca_file, certfile=cfg.cert_file, keyfile=cfg.key_file, cert_reqs=ssl.CERT_REQUIRED
        )


REFUSALS_FOR_GOOD = {"Bad user name or password", "Not authorized", "Client identifier not valid", "Banned"}


def probe_broker(cfg: MqttSettings, host: str, port: int, timeout_s: float = 10.0) -> str | None:
    """Connect once before the ingest starts, so that what retrying cannot mend (the broker's
    certificate not signed by `ca_file`, a certificate or a password the broker rejects) stops
    it with a message naming the file or the variable. A broker that cannot be reached is not
    such a fault (it may be restarting): the note returned says so and the ingest keeps trying."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{cfg.client_id}-probe")
    secure(client, cfg)
    answered, reasons = threading.Event(), []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        reasons.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *_: answered.set()
    try:
        client.connect(host, port, keepalive=10)
    except ssl.SSLCertVerificationError as exc:
        raise LinemonError(
            f"[mqtt] ca_file {cfg.ca_file or '(the system CAs)'!r}: the broker {host}:{port} presented a "
            f"certificate it does not verify ({exc.verify_message})"
        ) from None
    except ssl.SSLError as exc:
        raise LinemonError(f"[mqtt] tls: the TLS handshake with {host}:{port} failed ({exc.reason})") from None
    except OSError as exc:
        return f"{host}:{port}: not reachable at start ({exc}); the ingest keeps trying"
    client.loop_start()
    answered.wait(timeout_s)
    client.disconnect()
    client.loop_stop()
    if reasons and str(reasons[0]) in REFUSALS_FOR_GOOD:
        who = f"user {cfg.username!r} (password from ${cfg.password_env})" if cfg.username else "an anonymous client"
        raise LinemonError(f"[mqtt] the broker {host}:{port} refused {who}: {reasons[0]}")
    if not reasons and cfg.tls:
        _why_tls_dropped(cfg, host, port, timeout_s)
    return None if reasons else f"{host}:{port}: no answer to CONNECT within {timeout_s:g} s; the ingest keeps trying"


def _why_tls_dropped(cfg: MqttSettings, host: str, port: int, timeout_s: float) -> None:
    """The broker closed the connection before answering CONNECT: under TLS 1.3 that is how a
    rejected client certificate (or a missing one) shows. Read the TLS alert it sent."""
    ctx = tls_context(cfg)
    try:
        with socket.create_connection((host, port), timeout_s) as raw, ctx.wrap_socket(
            raw, server_hostname=host
        ) as tls:
            tls.settimeout(min(2.0, timeout_s))
            tls.recv(1)
    except ssl.SSLError as exc:
        mine = f"cert_file {cfg.cert_file!r}" if cfg.cert_file else "no cert_file (the ingest sent no certificate)"
        raise LinemonError(f"[mqtt] {mine}: the broker {host}:{port} rejected it ({exc.reason})") from None
    except OSError:
        return


def session_id(client_id: str, ids: list[str], plant: Plant) -> str:
    """The broker session of an ingest service taking `ids` of the plant's MQTT bindings: the
    plant file's client id when it takes them all, else that id with its bindings. Services that
    split the bindings between them (`--only`, e.g. one per line) thus keep sessions of their
    own: with one id, the broker would close each one's connection when the other connects,
    and deliver each the other's subscriptions."""
    every = sorted(b.id for b in plant.spec.bindings if b.transport == "mqtt")
    return client_id if sorted(ids) == every else f"{client_id}-{'-'.join(sorted(ids))}"


class MqttSource(MqttIntake):
    def __init__(
        self,
        bindings: list[BindingDef],
        plant: Plant,
        put: Callable[[Batch | RawMessage], None],
        health: dict[str, Health],
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(bindings, put, health)
        self.plant = plant
        cfg = plant.spec.mqtt
        self.host, self.port = host or cfg.host, port or cfg.port
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=session_id(cfg.client_id, [b.id for b in bindings], plant),
            clean_session=False,
            manual_ack=True,
        )
        secure(self.client, cfg)
        self.client.reconnect_delay_set(1, 30)
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._unacked: set[int] = set()
        self._session = False
        self._paused = False
        self._gone = threading.Event()

    def start(self) -> None:
        self._status("connecting", f"{self.host}:{self.port}")
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def pause(self) -> None:
        """Take no more messages, staying connected, so that what was taken can be committed and
        acknowledged before `close`. A message arriving meanwhile is left unacknowledged: the
        broker delivers it again at the next start. Without the pause, the acknowledgements of
        the last commit found the connection closed, and every restart began with that chunk
        again, as duplicates."""
        self._paused = True

    def close(self, timeout_s: float = 5.0) -> None:
        """Disconnect and wait until the DISCONNECT is written (after every acknowledgement
        queued before it): stopping paho's loop at once could leave both unsent."""
        connected = self.client.is_connected()
        self._gone.clear()
        self.client.disconnect()
        if connected and not self._gone.wait(timeout_s):
            log.warning("%s:%s: no clean disconnect within %g s", self.host, self.port, timeout_s)
        self.client.loop_stop()
        self._status("stopped")

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        try:
            if reason.is_failure:
                self._status("reconnecting", f"{self.host}:{self.port} refused: {reason}")
                return
            self._session = flags.session_present
            mids = (client.subscribe(b.topic or "", qos=b.qos)[1] for b in self.bindings)
            self._unacked = {m for m in mids if m is not None}
            self._status("subscribing", f"{self.host}:{self.port}")
        except Exception as exc:  # never let an exception escape into paho's thread
            log.exception("on_connect")
            self._status("reconnecting", f"subscribe failed: {exc}")

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        """Connected only once the broker has confirmed every subscription: from then on no
        message on a binding's topic is missed."""
        try:
            self._unacked.discard(mid)
            if not self._unacked:
                self._status("connected", f"{self.host}:{self.port} (session present: {self._session})")
        except Exception:
            log.exception("on_subscribe")

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        try:
            self._gone.set()
            if self._paused:  # stopping: `close` says "stopped"
                return
            self._status("reconnecting", f"{self.host}:{self.port} lost: {reason}")
        except Exception:
            log.exception("on_disconnect")

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Hand the message over untouched: parsing happens in the writer, off this thread."""
        try:
            if not self._paused:
                self.deliver(msg.topic, bytes(msg.payload), msg.mid, msg.qos)
        except Exception:  # never let an exception escape into paho's thread
            log.exception("on_message %s", msg.topic)

    def ack(self, acks: list[tuple[int, int]]) -> None:
        """Acknowledge the (message id, QoS) pairs of a committed chunk, through paho's public
        manual-acknowledgement API: the broker considers a message delivered only once it is
        stored."""
        for mid, qos in acks:
            self.client.ack(mid, qos)
