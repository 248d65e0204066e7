"""argparse value types shared by the subcommands (bad values exit 2 with a one-line message)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable


def whole_number(minimum: int, maximum: int | None = None, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type accepting integers in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {v}")
        if maximum is not None and v > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {v}")
        return v

    parse.__name__ = what.replace(" ", "_")
    return parse


def seconds(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type accepting a finite number of seconds in [minimum, maximum]."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(v) or not minimum <= v <= maximum:
            raise argparse.ArgumentTypeError(f"must be between {minimum:g} and {maximum:g} seconds, got {text}")
        return v

    parse.__name__ = "seconds"
    return parse


positive_int = whole_number(1)
MAX_WEEKS = 5200  # 100 years: a horizon beyond this is a typo, not a scenario
MAX_SEEDS = 100_000
MAX_WORKERS = 256
weeks_count = whole_number(1, MAX_WEEKS, "a number of weeks")
seeds_count = whole_number(1, MAX_SEEDS, "a number of seeds")
workers_count = whole_number(1, MAX_WORKERS, "a number of worker processes")
draws_count = whole_number(1, 1_000_000, "a number of draws")
nonnegative_int = whole_number(0)
port_number = whole_number(0, 65535, "a port number")


def warn(message: str) -> None:
    """A one-line note on stderr (the run goes on)."""
    print(f"culturedrift: note: {message}", file=sys.stderr)


def parallel_options(p: argparse.ArgumentParser, scheduler: bool = True) -> None:
    """--workers (local processes; default all cores) or, with `scheduler`, --scheduler (a Dask cluster) instead,
    and --no-progress: the same options in the same words wherever a command runs many simulations."""
    from culturedrift.experiments.execution.runner import default_workers

    where = p.add_mutually_exclusive_group() if scheduler else p
    where.add_argument("--workers", type=positive_int, default=None,
                       help=f"local processes (default: all cores, here {default_workers()})")
    if scheduler:
        where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                           help="run on a Dask cluster (e.g. tcp://127.0.0.1:8786) instead of local processes")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
