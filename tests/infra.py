"""Real parts for the tests: a private mosquitto broker, linemon processes, waiting helpers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A mosquitto of our own: persistence on (saved on every change, so a SIGKILL keeps the
    sessions), no queue limit (the default 1000 silently drops), `user root` for running as root."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        assert exe, "mosquitto is not installed (make test installs it with apt)"
        self.exe, self.dir, self.port = exe, workdir, free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\npersistence_file mosquitto.db\nautosave_interval 1\n"
            "autosave_on_changes true\nmax_queued_messages 0\n"
            f"log_dest file {workdir}/mosquitto.log\nuser root\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_for(self._accepting, 10, "mosquitto did not start")

    def _accepting(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, "mosquitto exited"
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def client(self, client_id: str, clean: bool = True) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        c.reconnect_delay_set(0.1, 0.5)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        return c


def wait_for(cond: Callable[[], bool], timeout: float, message: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, message
        time.sleep(every)


def linemon_proc(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """A linemon command as its own process (for kill tests), output into `log`."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "linemon", *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
