"""The arguments of `linemon simulate`, apart from the simulator: the command line is built at
every start, and importing the simulator (SimPy, SciPy) would cost every other command, such as
`linemon report yield`, most of a second."""

from __future__ import annotations

from typing import Any

__all__ = ["add_parser"]


def add_parser(sub: Any, common: Any) -> None:
    p = sub.add_parser("simulate", help="simulate plans on the line model and compare them")
    p.add_argument(
        "plans", nargs="+", metavar="PLAN", help="plan or scenario files; the first is the baseline"
    )
    p.add_argument(
        "--hours", type=float, help="horizon in hours (default: the plan's, else until the plan is done)"
    )
    p.add_argument("--warmup", type=float, help="hours removed from the statistics (default: the plan's)")
    p.add_argument(
        "--weeks", type=int, default=1, help="repeat the plan's work orders for this many weeks (52: a plant year)"
    )
    p.add_argument("--replications", type=int, default=5, help="independent runs per scenario (default 5)")
    p.add_argument("--seed", type=int, default=2611, help="seed the replications' seeds derive from")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="what-if override of the plant file"
    )
    p.add_argument("--jobs", type=int, default=1, help="replications in parallel processes")
    p.add_argument("--dask", metavar="ADDRESS", help="run the replications on this Dask scheduler")
    p.add_argument("--json", action="store_true", help="print JSON (format in docs/simulation.md)")
    p.add_argument(
        "--write-store", action="store_true", help="write the baseline's first replication into --store"
    )
    common(p)
