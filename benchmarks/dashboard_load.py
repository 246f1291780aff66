"""Many screens on one dashboard host: N clients each refreshing the overview (the andon) every
5 s, as TV walls and floor PCs do, against `linemon dashboard` (waitress) on a twin's store.
Each client replays the page's real callback request; the figure is the latency each refresh
sees (p50, p95, max) and the server's memory. Two stores: a twin's (14 days of history), and the
10M-result store of `--only report` during a working shift (Friday 16:00 of its last week, the
store's clock stopped there), when the work directory holds it. The physical limit measured in the same run is the
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


def big_store(work: Path) -> Path | None:
    """The report benchmark's 10M-result store (`--only report --workdir DIR` builds it) with the
    states and plan `--only dashboard` adds, its clock stopped on a working Friday afternoon so
    every screen sees a shift in progress; None when the work directory does not hold it."""
    from datetime import timedelta

    from benchmarks.dashboard import END, NOW, ensure_states
    from line.clock import StoredClock
    from line.config import load_plant
    from sim.continuous import rolling_plan
    from sim.plan import load_plan
    from store.sqlite import SqliteStore

    db = work / "report.db"
    if not db.exists():
        return None
    plant = load_plant(PLANT)
    ensure_states(f"sqlite:///{db}", plant)
    store = SqliteStore(db)
    plan = load_plan(PLANT.parent / "plans" / "jincheon-week.toml")  # a year of weekly orders, as --only dashboard
    store.put_work_orders(rolling_plan(plant, plan, END - timedelta(days=364), 53).orders)
    store.put_clock(StoredClock(NOW, time.time(), 0.0, time.time()))  # as a stopped twin leaves it
    store.close()
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
    stores = {"twin store": twin_store(work)}
    big = big_store(work)
    if big is None:
        print("dashboard load: no 10M-result store in the work directory "
              "(python -m benchmarks --only report --workdir DIR, then --only load --workdir DIR)")  # fmt: skip
    else:
        stores["10M-result store"] = big
    for name, db in stores.items():
        _serve_and_load(name, db, clients, seconds)


def _serve_and_load(name: str, db: Path, clients: tuple[int, ...], seconds: float) -> None:
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
        took, size = _request(base + "/_dash-update-component", body)
        print(f"dashboard load [{name}]: one overview refresh alone {took * 1000:.0f} ms, answers "
              f"{size / 1024:.0f} KB (TV mode)")  # fmt: skip
        rss0 = proc.memory_info().rss
        for n in clients:
            floor = load(base + "/_dash-dependencies", None, n, seconds / 2)
            cpu0 = proc.cpu_times()
            t0 = time.monotonic()
            lat = load(base + "/_dash-update-component", body, n, seconds)
            cpu1 = proc.cpu_times()
            cores = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (time.monotonic() - t0)
            print(f"dashboard load [{name}]: {n:3d} clients every 5 s: overview p50 {statistics.median(lat) * 1000:6.0f} ms, "
                  f"p95 {_pct(lat, 0.95) * 1000:6.0f} ms, max {max(lat) * 1000:6.0f} ms ({len(lat)} refreshes; "
                  f"target p95 < 1000 ms); no-work request p95 {_pct(floor, 0.95) * 1000:.0f} ms "
                  f"-> overview p95 is {_pct(lat, 0.95) / max(_pct(floor, 0.95), 1e-6):.1f}x the server's floor; "
                  f"server {cores:.2f} cores, RSS {proc.memory_info().rss / 2**20:.0f} MB")  # fmt: skip
        time.sleep(10)
        print(f"dashboard load [{name}]: server RSS {rss0 / 2**20:.0f} MB before the load, "
              f"{proc.memory_info().rss / 2**20:.0f} MB 10 s after")  # fmt: skip
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        bench_dashboard_load(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp))
