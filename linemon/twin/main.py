"""`linemon run`: start the twin and the dashboard, stop everything on Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from line.config import Plant
from line.errors import LinemonError
from linemon.twin.runner import DRAIN_S, Twin, TwinOptions
from store.base import open_store

DRAIN_ON_SIGNAL_S = 15.0  # stopped by the user: wait less for the last records


def serve_dashboard(twin: Twin, plant: Plant, store_url: str, host: str, port: int) -> Any:
    """The twin's dashboard on waitress, as `linemon dashboard` serves it (not Flask's development
    server), in a thread of the twin's process; returns the server (`effective_port`, `close`)."""
    import waitress

    from dashboard.app import create_app
    from dashboard.auth import ENV, users_from_text

    users = users_from_text(os.environ.get(ENV))  # the demo has no login unless users are given
    app = create_app(plant, store_url, str(twin.workdir / "jobs"), now=twin.clock.now, users=users)
    try:
        srv = waitress.create_server(app.server, host=host, port=port, threads=8, ident="linemon")
    except OSError as exc:
        raise LinemonError(
            f"dashboard: cannot listen on {host}:{port} ({exc}); choose another --port"
        ) from None
    threading.Thread(target=srv.run, name="dashboard", daemon=True).start()
    return srv


def run_twin(
    plant: Plant, store_url: str, opts: TwinOptions, host: str, port: int, summary: str | None
) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    store = open_store(store_url)
    twin: Twin | None = None
    srv: Any = None
    try:
        twin = Twin(plant, store, opts)
        since = twin.start.astimezone(plant.tz)
        if twin.history_s and twin.history_stored:
            _say(
                f"the store is empty: simulating {twin.history_s / 86400:.1f} days of history into it, "
                f"from the week's start {since:%a %Y-%m-%d %H:%M} ..."
            )
        elif twin.history_s:
            _say(f"the store holds data: going on with this week's plan, replayed since {since:%a %H:%M} ...")
        n = twin.write_history()
        if n and twin.history_stored:
            _say(f"history: {n} records written")
        how = twin.start_chain()
        twin.wait_connected()
        srv = serve_dashboard(twin, plant, store_url, host, port)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        _say(
            f"linemon twin: dashboard at http://{shown}:{srv.effective_port}/\n"
            f"  plant clock {_local(twin.clock.now(), plant)}, running {opts.speed:g}x; {how}\n"
            f"  serial ports: {', '.join(f'{b} {p}' for b, p in _ports(twin).items())}\n"
            "  Ctrl-C stops everything"
        )
        twin.play(stop)
        drained = twin.drain(DRAIN_ON_SIGNAL_S if stop.is_set() else DRAIN_S)
        report = twin.report(drained)
        _say(_finished(report))
        if summary:
            Path(summary).write_text(json.dumps(report, indent=2))
        if opts.hours and not stop.is_set():
            _say("the plant has stopped; the dashboard stays up until Ctrl-C")
            stop.wait()
        return 0 if drained else 1
    finally:
        if twin is not None:
            twin.stop_chain()
        if srv is not None:
            srv.close()  # stop listening; its threads end with the process
        store.close()
        _end_children()


def _ports(twin: Twin) -> dict[str, str]:
    return {**{b: w.path for b, w in twin.writers.items()}, **{b: r.path for b, r in twin.racks.items()}}


def _local(ts: Any, plant: Plant) -> str:
    return str(ts.astimezone(plant.tz).strftime("%Y-%m-%d %H:%M %Z"))


def _finished(r: dict[str, Any]) -> str:
    state = "every record reached the store" if r["drained"] else "NOT every record reached the store in time"
    return (
        f"plant stopped at {r['plant_end']}: since {r['plant_start']} (history included) {r['released']} "
        f"units released, {r['completed']} completed, {r['scrapped']} scrapped; live, sent {r['records_sent']} "
        "records, the ingest counted "
        f"{r['ingest_counted']}: {state}"
    )


def _end_children() -> None:
    """After the orderly stop nothing should be left; a simulation started from the dashboard
    (a background job in its own process) may be: end whatever remains, so no process outlives
    the twin."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        child.terminate()
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        child.kill()


def _say(text: str) -> None:
    print(text, flush=True)
