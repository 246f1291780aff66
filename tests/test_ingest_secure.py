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
        monkeypatch.setenv("TEST_MQTT_PW", "wrong")
        bad_log = tmp_path / "bad.log"
        bad = linemon_proc("ingest", "--config", str(plant), "--store", f"sqlite:///{db}", "--only=spi-mqtt",
                           f"--mqtt=127.0.0.1:{broker.port}", log=bad_log)  # fmt: skip
        wait_for(lambda: "refused" in bad_log.read_text(), 15, "a wrong password was not reported")
        assert sigterm_exit_code(bad) == 0
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
        assert "s3cret" not in log.read_text() + bad_log.read_text()  # secrets never logged
    finally:
        pub.disconnect()
        broker.stop()


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
