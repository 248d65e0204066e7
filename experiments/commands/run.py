"""`culturedrift run SCENARIO.yaml [...] [--seeds N] [--weeks W] [--out DIR]`: runs and their outputs."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from culturedrift.experiments.analysis.decision import display_title, tables_from_runs
from culturedrift.experiments.analysis.metrics import METRICS, applies
from culturedrift.experiments.commands._args import seeds_count, weeks_count, workers_count
from culturedrift.experiments.commands._args import warn as _warn
from culturedrift.experiments.execution.estimate import check_size, estimate
from culturedrift.experiments.execution.executor import resolve_workers
from culturedrift.experiments.execution.files import OutputLock, atomic_write, check_out, unique_names
from culturedrift.experiments.execution.runner import plan, run_all
from culturedrift.experiments.execution.store import write_outputs
from culturedrift.experiments.reporting.style import FIGURE_FORMATS
from culturedrift.experiments.reporting.tables import Cell, Table
from culturedrift.experiments.reporting.timeseries import timeseries_figure
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
    p.add_argument("--weeks", type=weeks_count, default=None,
                   help="run the first W weeks of every scenario (a window: later changes have not happened yet)")
    p.add_argument("--out", default="results/run", help="output directory (default results/run)")
    p.add_argument("--workers", type=workers_count, default=1, help="local processes (default 1)")
    p.add_argument("--oversubscribe", action="store_true", help="allow more --workers than cores")
    p.add_argument("--allow-large", action="store_true", help="run even when the size estimate is past the limits")
    p.add_argument("--figure-format", action="append", choices=[f for f in FIGURE_FORMATS if f != "png"],
                   default=[], dest="formats", help="also write the figure as SVG or PDF (repeat for both)")
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
        ts, summary, _ = tables_from_runs(scenarios, results)
        shade = {sc.name: (sc.programme_start, sc.handover) for sc in scenarios}
        titles = {sc.name: display_title(sc) for sc in scenarios}
        for fmt in ("png", *args.formats):
            atomic_write(out / f"timeseries.{fmt}", lambda p: timeseries_figure(ts, p, shade, titles=titles),
                         fsync=False)
    window = f", first {args.weeks} weeks" if args.weeks else ""
    print(f"Median over {args.seeds} seed(s){window} (shares in %, as in `compare`; n/a: does not apply):")
    print(median_by_metric(summary, scenarios).console(max_header=24))
    extra = "".join(f", timeseries.{f}" for f in args.formats)
    print(f"\nWrote {out}/: timeseries.parquet, timeseries.csv, summary.csv, summary.json, events.parquet, "
          f"timeseries.png{extra}")
    return 0


def median_by_metric(summary: pd.DataFrame, scenarios: list[Scenario]) -> Table:
    """One row per metric (label and unit), one column per scenario: the median over seeds in display units."""
    rows = []
    for m in METRICS:
        cells = []
        for sc in scenarios:
            v = summary.loc[summary["scenario"] == sc.name, m.key].to_numpy(dtype=float)
            cells.append(Cell(m.fmt(float(np.median(v[np.isfinite(v)]))) if applies(v) else "n/a"))
        rows.append((f"{m.label} ({m.unit})", cells))
    return Table([display_title(sc) for sc in scenarios], rows, label_header="Metric (unit)")
