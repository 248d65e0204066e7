"""`culturedrift run SCENARIO.yaml [...] [--seeds N] [--weeks W] [--out DIR]`: runs and their outputs."""

from __future__ import annotations

import argparse

import pandas as pd

from culturedrift.experiments.commands._args import seeds_count, weeks_count, workers_count
from culturedrift.experiments.commands._args import warn as _warn
from culturedrift.experiments.execution.estimate import check_size, estimate
from culturedrift.experiments.execution.executor import resolve_workers
from culturedrift.experiments.execution.files import OutputLock, atomic_write, check_out, unique_names
from culturedrift.experiments.execution.runner import plan, run_all
from culturedrift.experiments.execution.store import frames, write_outputs
from culturedrift.experiments.reporting.plots import timeseries_figure
from culturedrift.model import Scenario, load_scenario


def load_all(paths: list[str]) -> list[Scenario]:
    """Validate every scenario file before running any; scenario names must be distinct."""
    scenarios = [load_scenario(p) for p in paths]
    unique_names([s.name for s in scenarios])
    return scenarios


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run scenarios for some seeds and write timeseries, summary, events, figure",
                       description="Run each scenario on seeds 0..N-1 and write the documented output layout.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--seeds", type=seeds_count, default=1, help="number of seeds (0..N-1), default 1")
    p.add_argument("--weeks", type=weeks_count, default=None, help="horizon override in weeks")
    p.add_argument("--out", default="results/run", help="output directory (default results/run)")
    p.add_argument("--workers", type=workers_count, default=1, help="local processes (default 1)")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--allow-large", action="store_true", help="run even when the size estimate is past the limits")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


OUTPUTS = ("timeseries.parquet", "timeseries.csv", "summary.csv", "summary.json", "events.parquet", "timeseries.png")


def run(args: argparse.Namespace) -> int:
    scenarios = load_all(args.scenarios)
    out = check_out(args.out, OUTPUTS)
    specs = plan(scenarios, range(args.seeds), args.weeks)
    workers = resolve_workers(args.workers, len(specs), args.oversubscribe, warn=_warn)
    check_size(estimate(scenarios, len(specs), args.weeks), workers, allow_large=args.allow_large)
    with OutputLock(out, "run"):  # one writer per folder: a second `run` into it is refused, not mixed in
        results = run_all(specs, workers=workers, progress=not args.no_progress)
        write_outputs(results, out)
        ts, summary, _ = frames(results)
        shade = {r.scenario: (r.meta["programme_start"], r.handover_week) for r in results}
        atomic_write(out / "timeseries.png", lambda p: timeseries_figure(ts, p, shade), fsync=False)
    table = summary.drop(columns="seed").groupby("scenario", sort=False).median()
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"Median over {args.seeds} seed(s):")
        print(table.T.round(3).to_string())
    print(f"\nWrote {out}/: timeseries.parquet, timeseries.csv, summary.csv, summary.json, events.parquet, "
          "timeseries.png")
    return 0
