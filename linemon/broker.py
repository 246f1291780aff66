"""A private mosquitto broker for the demo, the benchmarks and the tests (never for the plant,
which runs its own). Persistence on (optionally saved on every change, see `crash_safe`), no
queue limit (mosquitto's default of 1000 silently drops), `user root` so it can write its files
when started by root. `listener_conf` adds listener settings (TLS files, password_file)."""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from line.errors import LinemonError


def _die_with_parent() -> None:
    """Linux: SIGTERM this child when the process that started it dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the orderly stop still ends it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_path() -> str | None:
    return shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )


def wait_for(cond: Callable[[], bool], timeout: float, message: str, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(message)
        time.sleep(every)


class Broker:
    def __init__(
        self, workdir: Path, max_inflight: int | None = None, crash_safe: bool = True, listener_conf: str = ""
    ) -> None:
        """`crash_safe` saves the broker's state on every change, so a SIGKILL loses no session;
        it costs most of the broker's throughput (a write per message), so the benchmark turns it
        off and saves once a second like a production broker."""
        exe = mosquitto_path()
        if exe is None:
            raise LinemonError("mosquitto is not installed (Debian: apt install mosquitto)")
        self.exe, self.dir, self.port = exe, workdir, free_port()
        self.conf = workdir / "mosquitto.conf"
        inflight = f"max_inflight_messages {max_inflight}\n" if max_inflight is not None else ""
        anonymous = "false" if "password_file" in listener_conf else "true"
        self.conf.write_text(
            f"per_listener_settings true\nlistener {self.port} 127.0.0.1\n{listener_conf}"
            f"allow_anonymous {anonymous}\npersistence true\n"
            f"persistence_location {workdir}/\npersistence_file mosquitto.db\nautosave_interval 1\n"
            f"autosave_on_changes {'true' if crash_safe else 'false'}\nmax_queued_messages 0\n{inflight}"
            f"log_dest file {workdir}/mosquitto.log\nuser root\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        # its own session: a Ctrl-C on the terminal reaches linemon, which stops the broker last,
        # after the ingest has drained; and it dies with linemon even if linemon is killed
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        wait_for(self._accepting, 10, "mosquitto did not start")

    def _accepting(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise LinemonError(f"mosquitto exited (see {self.dir}/mosquitto.log)")
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
        c.reconnect_delay_set(1, 2)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        return c
