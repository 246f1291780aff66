"""End-to-end MQTT (QoS 1) -> store, next to the raw rate one paho subscriber receives from the
same private broker in the same run (the physical limit here). The publisher is its own process
and sends as fast as the broker takes; the ingest is `linemon ingest` as in production, and the
figure is records committed per second. Two situations: live (the publisher sends while the
consumers take, all on this machine's cores) and a backlog (messages queued while the consumers
were paused, then drained: the publisher takes no CPU from them, as equipment publishing from
its own hardware does not at the plant). Memory: the ingest's RSS sampled over a long run.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from linemon.broker import Broker, wait_for

TOPIC = "linemon/jincheon/SMT1/SPI/SPI-01/result"
# the benchmarks' message: an SPI result, one in 50 failed with a defect (code run by the
# publisher process and by the writer benchmark)
RECORD = r"""
def record(tag, i):
    return {"schema": "linemon.result/1", "id": f"{tag}-{i}", "ts": "2026-11-21T09:00:00+09:00", "line": "SMT1",
            "station": "SPI", "equipment": "SPI-01", "serial": f"FF50-2611-{i:07d}", "product": "FF-50",
            "result": "PASS" if i % 50 else "FAIL",
            "defects": [] if i % 50 else [{"code": "bridge", "refdes": "U1"}]}
"""
PUBLISHER = (
    RECORD
    + r"""
import sys, time, orjson, paho.mqtt.client as mqtt
port, n, tag, rate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{tag}")
c.max_inflight_messages_set(200); c.max_queued_messages_set(0)
c.connect("127.0.0.1", port); c.loop_start()
acked = [0]
c.on_publish = lambda *a: acked.__setitem__(0, acked[0] + 1)
t0 = time.monotonic()
for i in range(n):
    rec = record(tag, i)
    while i - acked[0] > 20_000:  # paho numbers messages 1..65535: more queued would reuse ids
        time.sleep(0.001)
    c.publish(sys.argv[5], orjson.dumps(rec), qos=1)
    if rate > 0:
        time.sleep(max(0.0, t0 + (i + 1) / rate - time.monotonic()))
while acked[0] < n:
    time.sleep(0.01)
c.disconnect()
"""
)


def _publish(port: int, n: int, tag: str, rate: float = 0.0) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, str(port), str(n), tag, str(rate), TOPIC])


def _cpu_s(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _broker_pid(broker: Broker) -> int:
    assert broker.proc is not None, "the broker is not running"
    return broker.proc.pid


def _children_cpu_s() -> float:
    """CPU of the waited-for child processes (the publisher once it has ended)."""
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def raw_rate(broker: Broker, n: int, cpu: dict[str, float] | None = None) -> float:
    """Messages per second one QoS 1 paho subscriber receives (no parsing, no store). `cpu` gets
    the CPU seconds per message of the subscriber, the broker and the publisher."""
    got = [0]
    done = threading.Event()
    t0 = [0.0]

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        if got[0] == 0:
            t0[0] = time.perf_counter()
        got[0] += 1
        if got[0] == n:
            done.set()

    sub = broker.client("bench-raw")
    sub.on_message = on_message
    sub.subscribe(TOPIC, qos=1)
    time.sleep(0.3)
    before = (_cpu_s(os.getpid()), _cpu_s(_broker_pid(broker)), _children_cpu_s())
    pub = _publish(broker.port, n, "raw")
    done.wait(300)
    rate = (n - 1) / (time.perf_counter() - t0[0])
    pub.wait(60)
    after = (_cpu_s(os.getpid()), _cpu_s(_broker_pid(broker)), _children_cpu_s())
    if cpu is not None:
        cpu.update(
            zip(
                ("subscriber", "broker", "publisher"),
                ((b - a) / n for a, b in zip(before, after, strict=True)),
                strict=True,
            )
        )
    sub.disconnect()
    return rate


def _start_ingest(broker: Broker, work: Path) -> tuple[subprocess.Popen[bytes], Path, int]:
    """`linemon ingest` as in production, on the benchmark topic's binding; returns the process,
    its store and the pid of its writer process once it has subscribed."""
    import psutil

    db = work / "bench-ingest.db"
    log = open(work / "ingest.log", "ab")  # noqa: SIM115 - the process outlives this function
    start = log.tell()
    plant = Path(__file__).resolve().parent.parent / "config" / "jincheon.toml"
    ing = subprocess.Popen(
        [sys.executable, "-m", "linemon", "ingest", "--config", str(plant), "--store", f"sqlite:///{db}",
         "--only=spi-mqtt", f"--mqtt=127.0.0.1:{broker.port}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    wait_for(
        lambda: "spi-mqtt: connected" in (work / "ingest.log").read_bytes()[start:].decode(errors="replace"),
        20, "ingest did not connect",
    )  # fmt: skip
    return ing, db, psutil.Process(ing.pid).children()[-1].pid


def e2e_rate(
    broker: Broker, n: int, work: Path, cpu: dict[str, float] | None = None
) -> tuple[float, subprocess.Popen[bytes], Path]:
    """Records per second committed by `linemon ingest`; `cpu` gets the CPU seconds per message
    of the ingest process, its writer process, the broker and the publisher."""
    ing, db, writer = _start_ingest(broker, work)
    before = (_cpu_s(ing.pid), _cpu_s(writer), _cpu_s(_broker_pid(broker)), _children_cpu_s())
    pub = _publish(broker.port, n, "e2e")
    rate = _commit_rate(db, n)
    pub.wait(60)
    after = (_cpu_s(ing.pid), _cpu_s(writer), _cpu_s(_broker_pid(broker)), _children_cpu_s())
    if cpu is not None:
        names = ("ingest", "writer", "broker", "publisher")
        cpu.update(zip(names, ((b - a) / n for a, b in zip(before, after, strict=True)), strict=True))
    return rate, ing, db


def _commit_rate(db: Path, n: int) -> float:
    """Records committed per second from the first commit until the store holds `n` (the
    process's start-up is not counted)."""
    wait_for(lambda: _stored(db) > 0, 60, "nothing stored")
    t0 = time.perf_counter()
    first = _stored(db)
    wait_for(lambda: _stored(db) >= n, 600, "not all stored", every=0.05)
    return (n - first) / (time.perf_counter() - t0)


SUBSCRIBER = r"""
import sys, paho.mqtt.client as mqtt
port, n, topic = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
got = [0]
def on_message(c, u, m):
    got[0] += 1
    if got[0] == n:
        print("done", flush=True)
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-drain", clean_session=False)
c.on_message = on_message
c.on_subscribe = lambda *a: print("ready", flush=True)
c.connect("127.0.0.1", port, keepalive=300)
c.subscribe(topic, qos=1)
c.loop_forever()
"""


def drain_rates(broker: Broker, n: int, work: Path, cpu: dict[str, dict[str, float]]) -> tuple[float, float]:
    """A backlog: `n` messages published while `linemon ingest` and one raw paho subscriber (a
    process of its own) were connected but paused (SIGSTOP), so the broker queued them for both;
    then each in turn is resumed and timed until it has received (raw) or committed (ingest)
    the last message. The publisher has finished before either runs, so it takes no CPU from
    them: at the plant the equipment publishes from its own hardware, and a backlog is what the
    ingest faces after a restart or an outage. Returns both rates; `cpu` gets, per side, the
    CPU seconds per message of each process."""
    raw = subprocess.Popen(
        [sys.executable, "-c", SUBSCRIBER, str(broker.port), str(n), TOPIC], stdout=subprocess.PIPE, text=True
    )
    ing: subprocess.Popen[bytes] | None = None
    try:
        assert raw.stdout is not None
        if raw.stdout.readline().strip() != "ready":
            raise RuntimeError("the raw subscriber did not subscribe")
        ing, db, writer = _start_ingest(broker, work)
        for p in (raw, ing):
            p.send_signal(signal.SIGSTOP)
        _publish(broker.port, n, "drain").wait(600)

        def until_stored() -> None:
            wait_for(lambda: _stored(db) >= n, 600, "not all stored", every=0.02)

        def until_received() -> None:
            if raw.stdout is None or raw.stdout.readline().strip() != "done":
                raise RuntimeError("the raw subscriber ended before the last message")

        procs = {"ingest": ing.pid, "writer": writer, "broker": _broker_pid(broker)}
        e2e, cpu["e2e"] = _resumed(ing, until_stored, procs, n)
        ing.terminate()
        ing.wait(30)
        rate, cpu["raw"] = _resumed(
            raw, until_received, {"subscriber": raw.pid, "broker": _broker_pid(broker)}, n
        )
        return rate, e2e
    finally:  # SIGKILL ends a paused process too
        for p in (raw, ing):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def _resumed(
    paused: subprocess.Popen[Any], finished: Callable[[], None], procs: dict[str, int], n: int
) -> tuple[float, dict[str, float]]:
    """Resume a paused consumer and wait until `finished` returns: messages per second since
    the resume, and the CPU seconds per message each of `procs` spent meanwhile."""
    before, t0 = {k: _cpu_s(p) for k, p in procs.items()}, time.perf_counter()
    paused.send_signal(signal.SIGCONT)
    finished()
    rate = n / (time.perf_counter() - t0)
    return rate, {k: (_cpu_s(p) - before[k]) / n for k, p in procs.items()}


def _stored(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=5) as c:
            return int(
                c.execute("SELECT coalesce(max(rid), 0) FROM results").fetchone()[0]
            )  # O(log n): polled often
    except sqlite3.Error:
        return 0


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the ingest and its writer process)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _rss_mb(int(child))
    return total


def soak(
    broker: Broker, ing: subprocess.Popen[bytes], db: Path, minutes: float, rate: float
) -> list[tuple[float, float]]:
    """Feed the ingest at `rate` msg/s for `minutes`; sample its RSS every 10 % of the run."""
    n = int(minutes * 60 * rate)
    before = _stored(db)
    pub = _publish(broker.port, n, "soak", rate)
    samples = []
    t0 = time.monotonic()
    for k in range(11):
        time.sleep(max(0.0, t0 + k * minutes * 6 - time.monotonic()))
        samples.append((time.monotonic() - t0, _rss_mb(ing.pid)))
    pub.wait(120)
    wait_for(lambda: _stored(db) >= before + n, 120, "soak messages not all stored")
    return samples


def bench_ingest(
    n: int = 100_000, soak_minutes: float = 1.0, soak_rate: float = 1000.0, rounds: int = 5
) -> None:
    """Raw and end-to-end rates back to back, `rounds` times (this machine's other load makes
    single runs noisy: each round's pair shares the machine's state of that moment, so the
    headline is the median of the per-round ratios). With them, the CPU each process spends per
    message: publisher, broker and consumer share this machine's cores, so the end-to-end rate
    is bounded by cores / (the sum per message) while the raw one is bounded by the publisher.
    Then the backlog drain, where the publisher has finished before the consumers run."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = (
            (None, "mosquitto default inflight (20)", n, rounds, "target >= 65 %"),
            (0, "max_inflight_messages 0", n, rounds, "target >= 65 %"),
            # one message in flight: every message waits for the previous one's acknowledgement,
            # which the ingest sends only once it is committed (the commit's latency, not CPU)
            (1, "max_inflight_messages 1", max(1000, n // 20), 1, "bound by the ingest's commit latency"),
        )
        for inflight, label, count, repeats, target in settings:
            raws, e2es = [], []
            cpu_raw: list[dict[str, float]] = []
            cpu_e2e: list[dict[str, float]] = []
            for r in range(repeats):
                d = work / f"{inflight}-{r}"
                d.mkdir()
                broker = Broker(d, max_inflight=inflight, crash_safe=False)
                try:
                    cpu_raw.append({})
                    raws.append(raw_rate(broker, count, cpu_raw[-1]))
                    cpu_e2e.append({})
                    e2e, ing, db = e2e_rate(broker, count, d, cpu_e2e[-1])
                    e2es.append(e2e)
                    if inflight == 0 and r == repeats - 1 and soak_minutes > 0:
                        samples = soak(broker, ing, db, soak_minutes, soak_rate)
                        rss = ", ".join(f"{m:.0f}" for _, m in samples)
                        print(
                            f"ingest RSS over {soak_minutes:g} min at {soak_rate:,.0f} msg/s (MB, every 10 %): {rss}"
                        )
                    ing.terminate()
                    ing.wait(30)
                finally:
                    broker.stop()
            ratios = [e / r for e, r in zip(e2es, raws, strict=True)]
            runs = ", ".join(f"{x:.0%}" for x in ratios)
            print(
                f"mqtt [{label}]: raw paho subscriber {statistics.median(raws):9,.0f} msg/s "
                f"(QoS 1, {count:,} messages; median of {repeats})"
            )
            print(
                f"mqtt [{label}]: linemon ingest      {statistics.median(e2es):9,.0f} rec/s into SQLite; "
                f"ratio per round {runs}: median {statistics.median(ratios):.0%} of raw ({target})"
            )
            print(f"mqtt [{label}]: CPU per message (us, median) raw: {_cpu_line(cpu_raw)}; "
                  f"end to end: {_cpu_line(cpu_e2e)}; {os.cpu_count()} cores")  # fmt: skip
        bench_backlog(work, n, rounds)


def bench_backlog(work: Path, n: int, rounds: int) -> None:
    """The backlog drain (`drain_rates`) on the broker's default settings, `rounds` times."""
    raws, e2es, cpus = [], [], []
    for r in range(rounds):
        d = work / f"drain-{r}"
        d.mkdir()
        broker = Broker(d, crash_safe=False)
        try:
            cpus.append({})
            raw, e2e = drain_rates(broker, n, d, cpus[-1])
            raws.append(raw)
            e2es.append(e2e)
        finally:
            broker.stop()
    ratios = ", ".join(f"{e / r:.0%}" for e, r in zip(e2es, raws, strict=True))
    median = statistics.median(e / r for e, r in zip(e2es, raws, strict=True))
    print(f"mqtt [backlog of {n:,}]: raw paho subscriber {statistics.median(raws):9,.0f} msg/s; "
          f"linemon ingest {statistics.median(e2es):9,.0f} rec/s into SQLite; ratio per round {ratios}: "
          f"median {median:.0%} of raw (live target >= 65 %)")  # fmt: skip
    print(f"mqtt [backlog of {n:,}]: CPU per message (us, median) raw: {_cpu_line([c['raw'] for c in cpus])}; "
          f"end to end: {_cpu_line([c['e2e'] for c in cpus])}")  # fmt: skip


def _cpu_line(runs: list[dict[str, float]]) -> str:
    parts = {k: statistics.median(r[k] for r in runs) * 1e6 for k in runs[0]}
    return " + ".join(f"{k} {v:.0f}" for k, v in parts.items()) + f" = {sum(parts.values()):.0f}"
