"""Username/password and TLS from the plant file and the environment, against a mosquitto that
requires both (certificates made by openssl for the test); and `linemon emulate` on a pty."""

from __future__ import annotations

import sqlite3
import ssl
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.conftest import PLANT_FILE
from tests.infra import Broker, linemon_proc, sigterm_exit_code, wait_for


def _certs(d: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=linemon test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")  # fmt: skip


def _secure_broker(d: Path) -> Broker:
    _certs(d)
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(d / "passwd"), "ingest", "s3cret"], check=True)
    conf = f"cafile {d}/ca.crt\ncertfile {d}/server.crt\nkeyfile {d}/server.key\npassword_file {d}/passwd\n"
    return Broker(d, listener_conf=conf)


def _plant(d: Path) -> Path:
    text = PLANT_FILE.read_text().replace(
        "[mqtt]\n", f'[mqtt]\nusername = "ingest"\ntls = true\nca_file = "{d}/ca.crt"\n', 1
    )
    assert 'username = "ingest"' in text, "the reference plant has no [mqtt] table to extend"
    p = d / "plant.toml"
    p.write_text(text.replace('password_env = "LINEMON_MQTT_PASSWORD"', 'password_env = "TEST_MQTT_PW"'))
    return p


def test_ingest_with_password_and_tls(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    broker = _secure_broker(tmp_path)
    plant, db = _plant(tmp_path), tmp_path / "sec.db"
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sec-pub")
    pub.tls_set(ca_certs=str(tmp_path / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED)
    pub.username_pw_set("ingest", "s3cret")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    try:
        # a password the broker refuses cannot mend by retrying: a start-up error naming the variable
        monkeypatch.setenv("TEST_MQTT_PW", "wrong")
        bad = _ingest(plant, db, broker.port)
        assert bad.returncode == 2, bad.stderr
        assert f"[mqtt] the broker 127.0.0.1:{broker.port} refused user 'ingest' (password from $TEST_MQTT_PW): " \
               "Not authorized" in bad.stderr and "Traceback" not in bad.stderr  # fmt: skip
        monkeypatch.setenv("TEST_MQTT_PW", "s3cret")
        log = tmp_path / "ok.log"
        ing = linemon_proc("ingest", "--config", str(plant), "--store", f"sqlite:///{db}", "--only=spi-mqtt",
                           f"--mqtt=127.0.0.1:{broker.port}", log=log)  # fmt: skip
        wait_for(lambda: "spi-mqtt: connected" in log.read_text(), 15, "ingest did not connect with TLS")
        rec = (b'{"schema":"linemon.result/1","id":"tls-1","ts":"2026-11-21T09:00:00+09:00","line":"SMT1",'
               b'"station":"SPI","serial":"FF50-1","product":"FF-50","result":"PASS"}')  # fmt: skip
        pub.publish("linemon/jincheon/SMT1/SPI/SPI-01/result", rec, qos=1).wait_for_publish(5)

        def stored() -> int:
            with sqlite3.connect(db) as c:
                return int(c.execute("SELECT count(*) FROM results").fetchone()[0])

        wait_for(lambda: stored() == 1, 15, "the record did not arrive over TLS")
        assert sigterm_exit_code(ing) == 0
        assert "s3cret" not in log.read_text() + bad.stderr + bad.stdout  # secrets never logged
    finally:
        pub.disconnect()
        broker.stop()


def _ingest(plant: Path, db: Path, port: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "linemon", "ingest", "--config", str(plant), "--store",
                           f"sqlite:///{db}", "--only=spi-mqtt", f"--mqtt=127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip


def _client_cert(d: Path, name: str) -> None:
    """A client certificate signed by the CA in `d` (made by `_certs`)."""
    for args in (
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr"],
        ["x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
         "-out", f"{name}.crt"],
    ):  # fmt: skip
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)


def test_a_certificate_the_broker_or_the_ingest_rejects_is_a_start_up_error(tmp_path: Path) -> None:
    # a broker that requires client certificates signed by its CA
    srv, other = tmp_path / "broker", tmp_path / "other"
    srv.mkdir(), other.mkdir()
    _certs(srv), _certs(other)
    _client_cert(srv, "ingest"), _client_cert(other, "stranger")
    broker = Broker(srv, listener_conf=f"cafile {srv}/ca.crt\ncertfile {srv}/server.crt\n"
                                       f"keyfile {srv}/server.key\nrequire_certificate true\n")  # fmt: skip
    db = tmp_path / "c.db"

    def plant(ca: Path, cert: str = "") -> Path:
        text = PLANT_FILE.read_text().replace("[mqtt]\n", f'[mqtt]\ntls = true\nca_file = "{ca}"\n{cert}', 1)
        p = tmp_path / "plant.toml"
        p.write_text(text)
        return p

    try:
        # the broker's certificate is not signed by our ca_file
        out = _ingest(plant(other / "ca.crt"), db, broker.port)
        assert out.returncode == 2 and f"[mqtt] ca_file '{other}/ca.crt': the broker 127.0.0.1:{broker.port} " \
            "presented a certificate it does not verify" in out.stderr, out.stderr  # fmt: skip
        # no client certificate, then one signed by another CA: the broker drops us; said plainly
        out = _ingest(plant(srv / "ca.crt"), db, broker.port)
        assert out.returncode == 2 and "no cert_file (the ingest sent no certificate): the broker" in out.stderr, \
            out.stderr  # fmt: skip
        stranger = f'cert_file = "{other}/stranger.crt"\nkey_file = "{other}/stranger.key"\n'
        out = _ingest(plant(srv / "ca.crt", stranger), db, broker.port)
        assert out.returncode == 2 and f"[mqtt] cert_file '{other}/stranger.crt': the broker" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
        # a key that does not load names the files; the right certificate connects
        broken = f'cert_file = "{srv}/ingest.crt"\nkey_file = "{srv}/ca.crt"\n'
        out = _ingest(plant(srv / "ca.crt", broken), db, broker.port)
        assert out.returncode == 2 and f"cert_file '{srv}/ingest.crt' and key_file '{srv}/ca.crt': cannot be used" \
            in out.stderr, out.stderr  # fmt: skip
        good = f'cert_file = "{srv}/ingest.crt"\nkey_file = "{srv}/ingest.key"\n'
        log = tmp_path / "ok.log"
        ing = linemon_proc("ingest", "--config", str(plant(srv / "ca.crt", good)), "--store", f"sqlite:///{db}",
                           "--only=spi-mqtt", f"--mqtt=127.0.0.1:{broker.port}", log=log)  # fmt: skip
        wait_for(lambda: "spi-mqtt: connected" in log.read_text(), 15, "no connection with a client certificate")
        assert sigterm_exit_code(ing) == 0
    finally:
        broker.stop()


def test_a_broker_down_at_start_is_waited_for(tmp_path: Path) -> None:
    # not a fault retrying cannot mend: the ingest says so and keeps trying (connecting once the
    # broker is up is tested by the broker-restart tests in test_ingest_mqtt.py)
    from linemon.broker import free_port

    port = free_port()
    log = tmp_path / "ingest.log"
    ing = linemon_proc("ingest", "--store", f"sqlite:///{tmp_path / 'd.db'}", "--only=spi-mqtt",
                       f"--mqtt=127.0.0.1:{port}", log=log)  # fmt: skip
    wait_for(lambda: "not reachable at start" in log.read_text(), 15, "no word about the broker being down")
    wait_for(lambda: "reconnecting" in log.read_text() or "connecting" in log.read_text(), 15, "no retry")
    assert ing.poll() is None, log.read_text()
    assert sigterm_exit_code(ing) == 0


def test_an_unset_password_variable_or_a_bad_ca_file_stops_the_ingest_with_a_clear_error(tmp_path: Path) -> None:
    import os

    plant = _plant(tmp_path)  # username "ingest", password from $TEST_MQTT_PW, CA from tmp_path/ca.crt
    env = {k: v for k, v in os.environ.items() if k != "TEST_MQTT_PW"}
    out = subprocess.run([sys.executable, "-m", "linemon", "ingest", "--config", str(plant), "--store", f"sqlite:///{tmp_path / 'x.db'}",
                          "--only=spi-mqtt"], capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert out.returncode == 2 and "password variable $TEST_MQTT_PW is not" in out.stderr, out.stderr
    (tmp_path / "ca.crt").write_text("not a certificate\n")
    env["TEST_MQTT_PW"] = "x"
    out = subprocess.run([sys.executable, "-m", "linemon", "ingest", "--config", str(plant), "--store", f"sqlite:///{tmp_path / 'x.db'}",
                          "--only=spi-mqtt"], capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert out.returncode == 2 and f"[mqtt] ca_file '{tmp_path}/ca.crt': cannot be used" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_emulate_command_on_a_pty_into_ingest(tmp_path: Path) -> None:
    link, db = tmp_path / "tty-fct", tmp_path / "emu.db"
    emu = linemon_proc("emulate", "fct-jig-1", "--link", str(link), "--count", "40", "--rate", "200",
                       "--config", str(PLANT_FILE), log=tmp_path / "emu.log")  # fmt: skip
    wait_for(lambda: link.exists(), 15, "emulator made no pty")
    assert "waiting for a program to open it" in (tmp_path / "emu.log").read_text()
    ing = linemon_proc("ingest", "--config", str(PLANT_FILE), "--store", f"sqlite:///{db}", "--only=fct-jig-1",
                       f"--port=fct-jig-1={link}", log=tmp_path / "ing.log")  # fmt: skip
    try:
        assert emu.wait(30) == 0
        assert "sent 40 units" in (tmp_path / "emu.log").read_text()

        def stored() -> int:
            with sqlite3.connect(db) as c:
                return int(c.execute("SELECT count(*) FROM results").fetchone()[0])

        wait_for(lambda: db.exists() and stored() == 40, 15, "not every emulated unit arrived")
    finally:
        assert sigterm_exit_code(ing) == 0
