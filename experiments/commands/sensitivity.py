"""`culturedrift sensitivity DIR [--metrics ...] [--out DIR2]`: Sobol', Morris or PRCC indices of a sweep."""

from __future__ import annotations

import argparse

from culturedrift.experiments.commands._args import positive_int


def _level(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {v}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sensitivity", help="sensitivity indices of a sweep: table (CSV, markdown) and figures",
                       description="Average replicates per design point, then compute Sobol' S1/ST (sobol "
                       "designs), Morris mu*/sigma (morris) or partial rank correlations (lhs, grid) per metric.")
    p.add_argument("sweep_dir", metavar="DIR", help="a directory written by `culturedrift sweep`")
    p.add_argument("--out", default=None, help="where to write (default DIR/sensitivity)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC", help="metrics to analyse (default all)")
    p.add_argument("--conf-level", type=_level, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--resamples", type=positive_int, default=1000, help="bootstrap resamples (default 1000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from culturedrift.experiments.cli import UsageError
    from culturedrift.experiments.workflows.sensitivity import analyse
    from culturedrift.experiments.workflows.sweep import SweepDirError

    try:
        res = analyse(args.sweep_dir, args.out, metrics=args.metrics, conf_level=args.conf_level,
                      num_resamples=args.resamples)
    except SweepDirError as e:
        raise UsageError(str(e)) from None
    key = {"sobol": ["S1", "S1_conf", "ST", "ST_conf"], "morris": ["mu_star", "mu_star_conf", "sigma"],
           "prcc": ["prcc", "prcc_low", "prcc_high"]}[res.method]
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(res.table.set_index(["metric", "parameter"])[key].round(3).to_string())
    for note in res.notes:
        print(f"note: {note}")
    lines = res.warning_lines()
    if lines:
        print(f"\nWARNING: {len(lines)} index(es) should not be trusted as shown (sample too small):")
        for line in lines:
            print("  - " + line.replace("**", ""))
        print("  More samples, or more replicates per point (averaged), narrow the intervals; see sensitivity.md.")
    folder = next(iter(res.paths.values())).parent
    print(f"\nWrote {folder}/: {', '.join(res.paths)}")
    return 0
