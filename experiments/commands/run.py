"""`culturedrift run SCENARIO.yaml [...] [--seeds N] [--weeks W] [--out DIR]`: runs and their outputs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from culturedrift.experiments.commands._args import positive_int
from culturedrift.experiments.execution.runner import plan, run_all
from culturedrift.experiments.execution.store import frames, write_outputs
from culturedrift.experiments.reporting.plots import timeseries_figure
from culturedrift.model import Scenario, load_scenario


def load_all(paths: list[str]) -> list[Scenario]:
    """Validate every scenario file before running any; scenario names must be distinct."""
    from culturedrift.experiments.cli import UsageError

    scenarios = [load_scenario(p) for p in paths]
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"two scenarios share the name {', '.join(dup)}; names must be distinct")
    return scenarios


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run scenarios for some seeds and write timeseries, summary, events, figure",
                       description="Run each scenario on seeds 0..N-1 and write the documented output layout.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml")
    p.add_argument("--seeds", type=positive_int, default=1, help="number of seeds (0..N-1), default 1")
    p.add_argument("--weeks", type=positive_int, default=None, help="horizon override in weeks")
    p.add_argument("--out", default="results/run", help="output directory (default results/run)")
    p.add_argument("--workers", type=positive_int, default=1, help="local processes (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scenarios = load_all(args.scenarios)
    specs = plan(scenarios, range(args.seeds), args.weeks)
    results = run_all(specs, workers=min(args.workers, os.cpu_count() or 1), progress=not args.no_progress)
    out = Path(args.out)
    write_outputs(results, out)
    ts, summary, _ = frames(results)
    shade = {r.scenario: (r.meta["programme_start"], r.handover_week) for r in results}
    timeseries_figure(ts, out / "timeseries.png", shade)
    table = summary.drop(columns="seed").groupby("scenario", sort=False).median()
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(f"Median over {args.seeds} seed(s):")
        print(table.T.round(3).to_string())
    print(f"\nWrote {out}/: timeseries.parquet, timeseries.csv, summary.csv, summary.json, events.parquet, "
          "timeseries.png")
    return 0
