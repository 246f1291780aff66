"""The `linemon` command line. Every error reaches the user as one clear message, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from line.config import Plant, load_plant
from line.errors import ConfigError, LinemonError
from store.base import Store, open_store, require_existing, store_now, store_url

DEFAULT_CONFIG = "config/jincheon.toml"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", help="store URL (default: $LINEMON_STORE, else sqlite:///linemon.db)")
    p.add_argument(
        "--config",
        default=os.environ.get("LINEMON_CONFIG", DEFAULT_CONFIG),
        help=f"plant file (default: $LINEMON_CONFIG, else {DEFAULT_CONFIG})",
    )


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="linemon", description="Production-line monitor of the Jincheon plant.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check-config", help="validate a plant file")
    p.add_argument("file", nargs="?", help=f"plant file (default {DEFAULT_CONFIG})")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("import", help="store JSON lines of result/state records")
    p.add_argument("file", help="JSON-lines file ('-' for standard input)")
    _common(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "plan",
        help="load a plan file's work orders into the store: the andon's output against plan",
        description="Each work order is planned from its release to its due time ([plan] due or the "
        "order's own due); orders sharing a window are levelled over its scheduled time in plan order.",
    )
    p.add_argument("file", help="plan file (TOML, as for `linemon simulate`)")
    p.add_argument("--dry-run", action="store_true", help="check and print the orders, store nothing")
    _common(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("report", help="print figures from the store")
    rsub = p.add_subparsers(dest="report", required=True, metavar="REPORT")
    y = rsub.add_parser("yield", help="FPY, final yield, RTY and DPMO per product and station")
    y.add_argument(
        "--from", dest="frm", help="start (date or time; local to the plant unless an offset is given)"
    )
    y.add_argument("--to", help="end, exclusive (default: now)")
    y.add_argument("--product", help="only this product code")
    y.add_argument("--json", action="store_true", help="print JSON (format in the README)")
    _common(y)
    y.set_defaults(func=cmd_report_yield)

    from linemon.simulate_args import add_parser as add_simulate

    add_simulate(sub, _common)
    sub.choices["simulate"].set_defaults(func=cmd_simulate)

    p = sub.add_parser("ingest", help="read every equipment binding of the plant file into the store")
    p.add_argument(
        "--port", action="append", default=[], metavar="BINDING=URL", help="serial port for a binding"
    )
    p.add_argument("--mqtt", metavar="HOST:PORT", help="broker (default: the plant file's [mqtt])")
    p.add_argument("--only", action="append", default=[], metavar="BINDING", help="run only these bindings")
    p.add_argument(
        "--mirror",
        metavar="URL",
        help="mirror every stored record to InfluxDB, influxdb://host:8086?org=ORG&bucket=BUCKET "
        "(token from $LINEMON_INFLUX_TOKEN; default: the plant file's [store] mirror)",
    )
    _common(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "emulate", help="emulate a binding's equipment on a new pty, the MQTT broker or a folder of result files"
    )
    p.add_argument("binding", help="binding id from the plant file")
    p.add_argument("--link", help="serial: also make this path a symlink to the pty (a stable name)")
    p.add_argument("--folder", help="file: write the reports here (default: the binding's path)")
    p.add_argument("--mqtt", metavar="HOST:PORT", help="broker (default: the plant file's [mqtt])")
    p.add_argument("--rate", type=float, default=2.0, help="units per second (default 2)")
    p.add_argument("--count", type=int, help="stop after this many units (default: until Ctrl-C)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--config", default=os.environ.get("LINEMON_CONFIG", DEFAULT_CONFIG), help="plant file")
    p.set_defaults(func=cmd_emulate)

    p = sub.add_parser(
        "run",
        help="the demo: a live twin of the plant (simulator -> emulated equipment -> ingest -> dashboard)",
        description="Run a live twin of the plant: the simulator plays the plan on an accelerated plant "
        "clock; its stations talk through the plant file's equipment paths (serial ptys, aging racks, "
        "MQTT native and IPC-CFX) to the ingest, which writes the store the dashboard shows.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050, help="dashboard port (default 8050; 0: any free port)")
    p.add_argument(
        "--plan", help="the week's plan, repeated (default: plans/jincheon-week.toml beside the plant file)"
    )
    p.add_argument("--speed", type=float, default=60.0, help="plant seconds per real second (default 60)")
    p.add_argument(
        "--history-days", type=float, default=14.0,
        help="days simulated into an empty store before going live, from the start of that plant week (default 14)",
    )  # fmt: skip
    p.add_argument(
        "--hours", type=float, help="plant hours to play, then stop the plant (default: until Ctrl-C)"
    )
    p.add_argument("--seed", type=int, default=2611)
    p.add_argument(
        "--start", metavar="TIME",
        help="plant time the twin goes live at (default: now), e.g. 2026-11-23T08:30 (plant time zone): "
        "the same day replayed for training or a reproducible demo",
    )  # fmt: skip
    p.add_argument(
        "--broker", choices=("auto", "mosquitto", "none"), default="auto",
        help="MQTT: a private mosquitto if installed (auto), always (mosquitto), or in-process (none)",
    )  # fmt: skip
    p.add_argument(
        "--load", type=float, default=0.8,
        help="each week's orders, in the plan's mix and lots, fill this share of the week's capacity and "
        "are released levelled over it (default 0.8); 0 plays the plan's quantities as written, from Monday",
    )  # fmt: skip
    p.add_argument("--no-drift", action="store_true", help="no yield drift on FF-50 at FCT")
    p.add_argument(
        "--summary", metavar="FILE", help="write what the twin sent, as JSON, when the plant stops"
    )
    _common(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "hash-password",
        help="print the hash of a password for LINEMON_USERS (the dashboard's login)",
        description="Reads a password (twice at a terminal, one line from a pipe) and prints its hash; "
        "put it in LINEMON_USERS as name:role:hash (roles: viewer, engineer), entries separated by commas.",
    )
    p.set_defaults(func=cmd_hash_password)

    from linemon.deadletters import add_parser as add_dead_letters

    add_dead_letters(sub, _common).set_defaults(func=cmd_dead_letters)

    p = sub.add_parser("dashboard", help="serve the dashboard on an existing store (waitress)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
    _common(p)
    p.set_defaults(func=cmd_dashboard)
    return ap


def _plant(args: argparse.Namespace) -> Plant:
    return _load_plant(args.config)


def _load_plant(path: str) -> Plant:
    """The plant file; when it is the default one and missing here, the error says how to name it."""
    try:
        return load_plant(path)
    except ConfigError as exc:
        if path != DEFAULT_CONFIG or Path(DEFAULT_CONFIG).exists():
            raise
        hint = "the default plant file is relative to the current directory: give --config FILE or $LINEMON_CONFIG"
        raise ConfigError(exc.path, [*exc.problems, hint]) from None


def _store(args: argparse.Namespace) -> Store:
    return open_store(store_url(args.store))


def cmd_check_config(args: argparse.Namespace) -> int:
    plant = _load_plant(args.file or os.environ.get("LINEMON_CONFIG", DEFAULT_CONFIG))
    if args.json:
        print(json.dumps(plant.summary(), indent=2))
        return 0
    sp = plant.spec
    assumed = sum(1 for s in sp.stations.values() if s.assumed) + sum(
        1 for p in sp.products.values() if p.assumed
    )
    print(
        f"{plant.path}: OK - site {sp.site.id} ({sp.site.timezone}), {len(sp.lines)} lines, "
        f"{len(sp.stations)} stations, {len(sp.products)} products, {len(sp.bindings)} equipment bindings, "
        f"{len(sp.calendar.shifts)} shifts; {assumed} tables hold assumed figures"
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from linemon.importer import import_file, import_stream

    plant, store = _plant(args), _store(args)
    try:
        res = (
            import_stream(sys.stdin.buffer, "<stdin>", store, plant)
            if args.file == "-"
            else import_file(args.file, store, plant)
        )
    finally:
        store.close()
    for line in res.first_errors:
        print(line, file=sys.stderr)
    if res.rejected > len(res.first_errors):
        print(
            f"... and {res.rejected - len(res.first_errors)} more rejected lines (all kept in the "
            "store's dead-letter table)",
            file=sys.stderr,
        )
    print(f"stored {res.counts.stored}, duplicate {res.counts.duplicate}, rejected {res.rejected}")
    return 0 if res.rejected == 0 else 1


def cmd_plan(args: argparse.Namespace) -> int:
    from sim.plan import floor_orders, load_plan, plan_problems

    plant, plan = _plant(args), load_plan(args.file)
    problems = plan_problems(plan, plant)
    if problems:
        raise ConfigError(args.file, problems)
    orders = floor_orders(plan, plant)
    if not orders:
        raise ConfigError(
            args.file, ["work_orders: the floor's plan is its [[work_orders]], and this plan has none"]
        )
    for o in orders:
        due = (
            "no due time (no plan by time)"
            if o.due is None
            else f"due {o.due.astimezone(plant.tz):%Y-%m-%d %H:%M}"
        )
        print(
            f"{o.id:<16} {o.product:<10} {o.quantity:>6}  from {o.start.astimezone(plant.tz):%Y-%m-%d %H:%M}  {due}"
        )
    if args.dry_run:
        return 0
    store = _store(args)
    try:
        n = store.put_work_orders(orders)
    finally:
        store.close()
    print(f"stored {n} work orders in {store.url}")
    return 0


def cmd_report_yield(args: argparse.Namespace) -> int:
    from line.i18n import lang_from_env
    from linemon.report import as_json, as_table, yield_figures
    from linemon.timeargs import window

    plant = _plant(args)
    if args.product and args.product not in plant.spec.products:
        raise LinemonError(
            f"--product: unknown product {args.product!r} (expected one of {', '.join(plant.spec.products)})"
        )
    require_existing(store_url(args.store))
    store = _store(args)
    try:
        start, end = window(args.frm, args.to, plant.tz, store_now(store))  # the store's clock
        figs = yield_figures(store, plant, start, end, args.product)
    finally:
        store.close()
    if args.json:
        print(json.dumps(as_json(figs, start, end, plant), indent=2))
    else:
        lang = lang_from_env(os.environ)
        print(as_table(figs, plant, start.astimezone(plant.tz), end.astimezone(plant.tz), lang))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from linemon.simulate import as_text
    from linemon.simulate import cmd_simulate as run

    out = run(args, _plant(args))
    print(json.dumps(out, indent=2) if args.json else as_text(out))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from drivers.ingest import streaming_gc
    from drivers.service import IngestOptions, run_ingest

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    ports = {}
    for text in args.port:
        binding, sep, url = text.partition("=")
        if not sep or not url:
            raise LinemonError(f"--port {text!r}: expected BINDING=URL, e.g. fct-jig-1=/dev/ttyUSB3")
        ports[binding] = url
    plant = _plant(args)
    host, port = _host_port(args.mqtt, plant)
    store = _store(args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    streaming_gc()
    try:
        opts = IngestOptions(ports, host, port, args.only, mirror=args.mirror)
        writer = run_ingest(plant, store, opts, stop)
    finally:
        store.close()
    print(
        f"ingest stopped: stored {writer.stored}, duplicate {writer.duplicates}, rejected {writer.rejected}"
    )
    if writer.failed:
        print(f"linemon ingest: {writer.failed}", file=sys.stderr)
        return 1
    return 0


def _host_port(text: str | None, plant: Plant) -> tuple[str, int]:
    if not text:
        return plant.spec.mqtt.host, plant.spec.mqtt.port
    host, _, p = text.rpartition(":")
    if not host or not p.isdigit():
        raise LinemonError(f"--mqtt {text!r}: expected HOST:PORT, e.g. 127.0.0.1:1883")
    return host, int(p)


def cmd_emulate(args: argparse.Namespace) -> int:
    import signal
    import threading

    from drivers.emulate_io import PtyPort, emulate_mqtt, emulate_serial

    plant = _plant(args)
    b = next((x for x in plant.spec.bindings if x.id == args.binding), None)
    if b is None:
        ids = ", ".join(x.id for x in plant.spec.bindings)
        raise LinemonError(f"unknown binding {args.binding!r} (the plant file has {ids})")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if b.transport == "file":
        from drivers.emulate_files import emulate_files

        folder = args.folder or b.path or "."
        print(f"emulating {b.id} ({b.format}): one report per unit into {folder}", flush=True)
        n = emulate_files(plant, b, folder, stop, args.rate, args.count, args.seed)
        print(f"wrote {n} reports", flush=True)
        return 0
    if b.transport == "mqtt":
        host, port = _host_port(args.mqtt, plant)
        print(f"emulating {b.id} ({b.format}) on mqtt://{host}:{port}", flush=True)
        n = emulate_mqtt(plant, b, host, port, stop, args.rate, args.count, args.seed)
    else:
        pty = PtyPort(args.link)
        where = pty.path + (f" (link {args.link})" if args.link else "")
        print(f"emulating {b.id} ({b.format}) on {where}; waiting for a program to open it", flush=True)
        try:
            n = (
                emulate_serial(plant, b, pty, stop, args.rate, args.count, args.seed)
                if pty.wait_for_reader(stop)
                else 0
            )
        finally:
            pty.close()
    print(f"sent {n} units", flush=True)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboard.app import serve
    from dashboard.auth import ENV, users_from_text

    require_existing(store_url(args.store))
    users = users_from_text(os.environ.get(ENV))
    if users:
        print(f"login required: {len(users)} users from ${ENV}", flush=True)
    if args.threads < 1:
        raise LinemonError(f"--threads must be at least 1, got {args.threads}")
    serve(_plant(args), store_url(args.store), args.host, args.port, users, args.threads)
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from linemon.deadletters import run

    plant = _plant(args)
    require_existing(store_url(args.store))
    store = _store(args)
    try:
        return run(args, plant, store.dead_letters)
    finally:
        store.close()


def cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from werkzeug.security import generate_password_hash

    if sys.stdin.isatty():
        pw = getpass.getpass("password: ")
        if getpass.getpass("again: ") != pw:
            raise LinemonError("the two passwords differ")
    else:
        pw = sys.stdin.readline().rstrip("\n")
    if len(pw) < 8:
        raise LinemonError("a password needs at least 8 characters")
    print(generate_password_hash(pw))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from linemon.timeargs import parse_time
    from linemon.twin.main import run_twin
    from linemon.twin.runner import TwinOptions

    plant = _plant(args)
    opts = TwinOptions(
        plan=args.plan or str(Path(plant.path).parent / "plans" / "jincheon-week.toml"),
        speed=args.speed,
        history_days=args.history_days,
        hours=args.hours,
        seed=args.seed,
        broker=args.broker,
        start=parse_time(args.start, plant.tz, "--start") if args.start else None,
        load=args.load or None,
    )
    if args.no_drift:
        opts.drift = None
    return run_twin(plant, store_url(args.store), opts, args.host, args.port, args.summary)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(f"linemon: configuration error\n{exc}", file=sys.stderr)
        return 2
    except (LinemonError, ValueError) as exc:
        print(f"linemon: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
