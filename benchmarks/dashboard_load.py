"""Many screens on one dashboard host: N clients each refreshing the overview (the andon) every
5 s, as TV walls and floor PCs do, against `linemon dashboard` (waitress) on a twin's store.
Each client replays the page's real callback request; the figure is the latency each refresh
sees (p50, p95, max) and the server's memory. The physical limit measured in the same run is the
same server answering a request that does no work (Dash's callback list), with the same clients.
Issue 16's target: 100 clients, p95 under 1 s on 2 cores."""

from __future__ import annotations

import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

PLANT = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
OUTPUTS = ("ov-updated", "ov-stale", "ov-lines", "ov-alarms", "ov-output")
OVERVIEW = {
    "output": ".." + "...".join(f"{o}.children" for o in OUTPUTS) + "..",
    "outputs": [{"id": o, "property": "children"} for o in OUTPUTS],
    "inputs": [{"id": "ov-tick", "property": "n_intervals", "value": 1}],
    "changedPropIds": ["ov-tick.n_intervals"],
    "state": [{"id": "ov-lang", "property": "data", "value": "en"}, {"id": "ov-tv", "property": "data", "value": True}],
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def twin_store(work: Path) -> Path:
    """A store as the demo writes it: 14 days of history and an hour live (made once)."""
    db, summary = work / "twin.db", work / "twin-summary.json"
    if not summary.exists():  # the twin keeps its dashboard up once the plant stops: stop it then
        twin = subprocess.Popen([sys.executable, "-m", "linemon", "run", "--config", str(PLANT), "--store", f"sqlite:///{db}",
                                 "--hours", "1", "--speed", "3600", "--broker", "none", "--port", str(_free_port()),
                                 "--start", "2026-11-26T10:00", "--summary", str(summary)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 900
            while not summary.exists() and twin.poll() is None and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            twin.terminate()
            twin.wait(60)
    return db


def _request(url: str, body: bytes | None) -> tuple[float, int]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"} if body else {})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        size = len(r.read())
    return time.perf_counter() - t0, size


def load(url: str, body: bytes | None, clients: int, seconds: float, every_s: float = 5.0) -> list[float]:
    """Latencies of `clients` clients each asking every `every_s` (starts spread over a period)."""
    out: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(offset: float) -> None:
        time.sleep(offset)
        while time.monotonic() < end:
            started = time.monotonic()
            took, _ = _request(url, body)
            with lock:
                out.append(took)
            time.sleep(max(0.0, every_s - (time.monotonic() - started)))

    rng = random.Random(1)
    threads = [threading.Thread(target=client, args=(rng.uniform(0, every_s),)) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def _pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))]


def bench_dashboard_load(work: Path, clients: tuple[int, ...] = (25, 50, 100), seconds: float = 30.0) -> None:
    db = twin_store(work)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "linemon", "dashboard", "--port", str(port), "--threads", "16",
                               "--store", f"sqlite:///{db}", "--config", str(PLANT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(base + "/_dash-layout", None)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        proc = psutil.Process(server.pid)
        body = json.dumps(OVERVIEW).encode()
        _, size = _request(base + "/_dash-update-component", body)
        print(f"dashboard load: overview refresh answers {size / 1024:.0f} KB (TV mode, a twin's store)")
        rss0 = proc.memory_info().rss
        for n in clients:
            floor = load(base + "/_dash-dependencies", None, n, seconds / 2)
            lat = load(base + "/_dash-update-component", body, n, seconds)
            print(f"dashboard load: {n:3d} clients every 5 s: overview p50 {statistics.median(lat) * 1000:6.0f} ms, "
                  f"p95 {_pct(lat, 0.95) * 1000:6.0f} ms, max {max(lat) * 1000:6.0f} ms ({len(lat)} refreshes; "
                  f"target p95 < 1000 ms); no-work request p95 {_pct(floor, 0.95) * 1000:.0f} ms "
                  f"-> overview p95 is {_pct(lat, 0.95) / max(_pct(floor, 0.95), 1e-6):.1f}x the server's floor; "
                  f"server RSS {proc.memory_info().rss / 2**20:.0f} MB")  # fmt: skip
        time.sleep(10)
        print(f"dashboard load: server RSS {rss0 / 2**20:.0f} MB before the load, {proc.memory_info().rss / 2**20:.0f} MB 10 s after")
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        bench_dashboard_load(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp))
